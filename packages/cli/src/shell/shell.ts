/**
 * `petrel shell`: the admin shell. Three ways to run it:
 *
 * - `-e "ls; use temp; get h s"`: runs the commands and exits 0 when all succeeded, 1 otherwise;
 * - a script on stdin (when stdin is not a terminal): one or more commands per line, same exit
 *   status; `--echo` prints each command before its output;
 * - interactive (stdin is a terminal): a prompt with history (kept in ~/.petrel_shell_history, or
 *   $PETREL_SHELL_HISTORY) and tab completion of command and table names.
 *
 * Results go to stdout, errors and progress to stderr. Ctrl-C (SIGINT) stops the running command
 * and the shell goes on; with no command running it clears the line (interactive) or ends the
 * shell with status 130 (script).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { appendFileSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { initChecksum } from '@petrel/base';
import { PetrelClient } from '@petrel/client';
import { type FlagSpec, integerFlag, parseFlags, requireFlag, usage } from '../args.js';
import { COMMANDS } from './command_table.js';
import { SHELL_VERSION } from './commands/session.js';
import { complete, completionTarget } from './completion.js';
import { ShellContext, type ShellOutput } from './context.js';
import { runLine } from './runner.js';

export const SHELL_FLAGS: Record<string, FlagSpec> = {
  meta: { description: 'meta server addresses, comma-separated', default: '127.0.0.1:34601' },
  exec: { description: 'run these commands (`;`-separated) and exit; also -e' },
  timeout: { description: 'per-call timeout in ms (the `timeout` command changes it)', default: '5000' },
  table: { description: 'the table to `use` from the start' },
  http: { description: 'status endpoints (host:port of /metrics and /health) for server_info, server_stat, app_stat' },
  'http-port-offset': { description: "or: every server's status port is its port + this (onebox --http-ports: 1000)" },
  echo: { kind: 'switch', description: 'print each command (`>>> command`) before its output' },
  help: { kind: 'switch', description: 'show this help' },
};

export function shellUsage(): string {
  return usage(
    'shell',
    'The admin shell: interactive on a terminal, `-e "cmd; cmd"` for one-off commands, or a script on stdin.\n`help` inside the shell lists the commands.',
    SHELL_FLAGS,
  );
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

function processOutput(): ShellOutput {
  const inPlace = process.stderr.isTTY === true;
  return {
    out: (text) => void process.stdout.write(`${text}\n`),
    err: (text) => void process.stderr.write(`${text}\n`),
    progress: (text) => void process.stderr.write(inPlace ? `\r\x1b[K${text}` : `${text}\n`),
    progressDone: () => {
      if (inPlace) process.stderr.write('\r\x1b[K');
    },
    progressInPlace: inPlace,
  };
}

function historyPath(): string {
  return process.env.PETREL_SHELL_HISTORY ?? join(homedir(), '.petrel_shell_history');
}

function loadHistory(path: string): string[] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .slice(-1000)
      .reverse();
  } catch {
    return [];
  }
}

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

export async function runShell(rawArgs: string[]): Promise<void> {
  const args = rawArgs.map((arg) => (arg === '-e' ? '--exec' : arg === '-h' ? '--help' : arg));
  const { flags } = parseFlags(args, SHELL_FLAGS);
  if (flags.help !== undefined) {
    console.log(shellUsage());
    return;
  }
  const metaServers = splitList(requireFlag(flags, 'meta'));
  const timeoutMs = integerFlag(flags, 'timeout')!;
  await initChecksum();
  const client = new PetrelClient({ metaServers, timeoutMs: Math.max(1, timeoutMs), clientName: 'petrel-shell' });
  const context = new ShellContext(
    client,
    { metaServers, timeoutMs: Math.max(1, timeoutMs), httpEndpoints: splitList(flags.http ?? ''), httpPortOffset: integerFlag(flags, 'http-port-offset') },
    processOutput(),
  );
  const echo = flags.echo !== undefined;
  let ok = true;
  const finish = async (code: number): Promise<never> => {
    await client.close();
    await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
    process.exit(code);
  };

  let running = false;
  let interactive = false;
  const onSignal = (): void => {
    if (running) {
      context.interrupt();
      process.stderr.write('\n^C: stopping the command…\n');
    } else if (!interactive) {
      void finish(130);
    }
  };
  process.on('SIGINT', onSignal);
  // A reader that went away (`petrel shell -e full_scan | head`) ends the shell quietly.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(ok ? 0 : 1);
  });

  const run = async (line: string): Promise<boolean> => {
    running = true;
    try {
      return await runLine(context, line, echo);
    } finally {
      running = false;
    }
  };

  if (flags.table !== undefined) ok = (await run(`use ${JSON.stringify(flags.table)}`)) && ok;

  if (flags.exec !== undefined) {
    ok = (await run(flags.exec)) && ok;
    return finish(ok ? 0 : 1);
  }

  if (process.stdin.isTTY !== true) {
    const lines = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
    for await (const line of lines) {
      ok = (await run(line)) && ok;
      if (context.exitRequested) break;
    }
    lines.close();
    return finish(ok ? 0 : 1);
  }

  interactive = true;
  const path = historyPath();
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: true,
    history: loadHistory(path),
    historySize: 1000,
    removeHistoryDuplicates: true,
    completer: (line: string, callback: (error: Error | null, result: [string[], string]) => void) => {
      const wantsTables = completionTarget(line, COMMANDS).kind === 'table';
      (wantsTables ? context.tableNames() : Promise.resolve([])).then(
        (tables) => callback(null, complete(line, COMMANDS, tables)),
        () => callback(null, complete(line, COMMANDS, [])),
      );
    },
  });
  const prompt = (): void => {
    rl.setPrompt(context.tableName === null ? '>>> ' : `${context.tableName} >>> `);
    rl.prompt();
  };
  rl.on('SIGINT', () => {
    if (running) {
      onSignal();
      return;
    }
    rl.write(null, { ctrl: true, name: 'u' });
    process.stdout.write('^C (Ctrl-D or `exit` leaves the shell)\n');
    prompt();
  });
  process.stdout.write(`Petrel shell ${SHELL_VERSION}; meta ${metaServers.join(',')}\nType "help" for the commands, "help <command>" for one; Tab completes; Ctrl-D or "exit" leaves.\n`);
  prompt();
  for await (const line of rl) {
    if (line.trim() !== '') {
      try {
        appendFileSync(path, `${line}\n`);
      } catch {
        // No history file: the shell works without one.
      }
      await run(line);
      if (context.exitRequested) break;
    }
    prompt();
  }
  rl.close();
  process.stdout.write('\n');
  return finish(0);
}
