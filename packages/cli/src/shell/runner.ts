/**
 * Runs command lines against a ShellContext: tokenizes, finds the command, parses its options,
 * checks the argument count, runs it, and prints any failure as `ERROR: CODE: message` with a
 * hint (on stderr). Each statement reports success or failure; a line fails when any of its
 * statements failed. After `exit` the remaining statements are skipped.
 */
import { checkArgumentCount, usageLine } from './command.js';
import { COMMANDS, suggestion } from './command_table.js';
import type { ShellContext } from './context.js';
import { ShellError, formatError } from './errors.js';
import { parseArguments } from './options.js';
import { type Token, tokenText, tokenizeLine } from './tokenizer.js';

/** Runs one statement; true when it succeeded. */
export async function runStatement(context: ShellContext, tokens: readonly Token[]): Promise<boolean> {
  const first = tokens[0];
  if (first === undefined) return true;
  const name = tokenText(first);
  const command = COMMANDS.get(name);
  context.beginCommand();
  try {
    if (command === undefined) throw new ShellError('UNKNOWN_COMMAND', `no command ${JSON.stringify(name)}`, `\`help\` lists the commands${suggestion(name)}`);
    const args = parseArguments(tokens.slice(1), command.options ?? []);
    checkArgumentCount(command, args);
    await command.run(context, args);
    return true;
  } catch (error) {
    context.noteFailure(error);
    if (error instanceof ShellError && error.code === 'USAGE' && error.hint === undefined && command !== undefined) {
      context.note(formatError(new ShellError('USAGE', error.message, `usage: ${usageLine(command)}`)));
    } else {
      context.note(formatError(error));
    }
    return false;
  }
}

/** Runs every statement of a line (`;`-separated); true when all succeeded. `echo` prints each first. */
export async function runLine(context: ShellContext, line: string, echo = false): Promise<boolean> {
  let statements: Token[][];
  try {
    statements = tokenizeLine(line);
  } catch (error) {
    if (echo) context.out(`>>> ${line.trim()}`);
    context.note(formatError(error));
    return false;
  }
  let ok = true;
  for (const statement of statements) {
    if (context.exitRequested) break;
    if (echo) context.out(`>>> ${statement.map((token) => (token.quoted || token.bytes.length === 0 ? context.quote(token.bytes) : context.escape(token.bytes))).join(' ')}`);
    if (!(await runStatement(context, statement))) ok = false;
  }
  return ok;
}
