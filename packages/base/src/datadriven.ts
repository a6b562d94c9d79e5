/**
 * Data-driven tests: a file of cases, each a command line, input lines, `----`, and the expected
 * output, ended by a blank line:
 *
 *   build-block restart=2
 *   a#1,SET = v1
 *   ----
 *   restarts: 0
 *
 * `runDataDriven` runs every case through a handler and compares its output with the expected
 * text. With `--rewrite` on the command line (or PETREL_REWRITE=1) it writes the actual outputs
 * back into the file instead, to be reviewed as a diff. Expected outputs may not contain blank
 * lines (the handler should print `<empty>` for an empty output).
 */
import { nodeVfs } from './vfs/node_vfs.js';

export interface DataDrivenCase {
  /** The command word. */
  command: string;
  /** `key=value` arguments of the command line (bare words map to ''). */
  args: Map<string, string>;
  /** The lines between the command and `----`. */
  input: string[];
  /** 1-based line of the command in the file. */
  line: number;
  expected: string;
  /** `#` comment lines just before the case, kept by `--rewrite`. */
  comments: string[];
}

export function parseDataDriven(text: string): DataDrivenCase[] {
  const lines = text.split('\n');
  const cases: DataDrivenCase[] = [];
  let i = 0;
  let comments: string[] = [];
  while (i < lines.length) {
    const line = lines[i] as string;
    if (line.trim() === '') {
      // A blank line ends a comment block that belongs to no case: keep it with the next one.
      if (comments.length > 0 && comments.at(-1) !== '') comments.push('');
      i++;
      continue;
    }
    if (line.startsWith('#')) {
      comments.push(line);
      i++;
      continue;
    }
    const [command, ...rest] = line.trim().split(/\s+/);
    const args = new Map<string, string>();
    for (const word of rest) {
      const eq = word.indexOf('=');
      if (eq < 0) args.set(word, '');
      else args.set(word.slice(0, eq), word.slice(eq + 1));
    }
    const start = i + 1;
    i++;
    const input: string[] = [];
    while (i < lines.length && lines[i] !== '----') input.push(lines[i++] as string);
    if (i >= lines.length) throw new Error(`line ${start}: case without ----`);
    i++;
    const expected: string[] = [];
    while (i < lines.length && (lines[i] as string).trim() !== '') expected.push(lines[i++] as string);
    while (comments.at(-1) === '') comments.pop();
    cases.push({ command: command as string, args, input, line: start, expected: expected.join('\n'), comments });
    comments = [];
  }
  return cases;
}

function render(cases: DataDrivenCase[], outputs: string[]): string {
  return (
    cases
      .map((c, index) => {
        const args = [...c.args].map(([k, v]) => (v === '' ? k : `${k}=${v}`));
        return [...c.comments, [c.command, ...args].join(' '), ...c.input, '----', outputs[index] as string].join('\n');
      })
      .join('\n\n') + '\n'
  );
}

/**
 * Runs the cases of `path` in order (state may carry from one case to the next through the
 * handler's closure). Returns the mismatches (empty when all agree); rewrites the file instead when
 * asked to.
 */
export async function runDataDriven(path: string, handler: (testCase: DataDrivenCase) => string | Promise<string>): Promise<string[]> {
  const text = (await nodeVfs.readFile(path)).toString('utf8');
  const cases = parseDataDriven(text);
  const outputs: string[] = [];
  const mismatches: string[] = [];
  for (const testCase of cases) {
    let output: string;
    try {
      output = (await handler(testCase)).trimEnd();
    } catch (error) {
      output = `error: ${(error as Error).message}`;
    }
    if (output === '') output = '<empty>';
    outputs.push(output);
    if (output !== testCase.expected) {
      mismatches.push(`${path}:${testCase.line}: ${testCase.command}\n--- expected\n${testCase.expected}\n--- actual\n${output}`);
    }
  }
  if (process.argv.includes('--rewrite') || process.env.PETREL_REWRITE === '1') {
    await nodeVfs.writeFile(path, Buffer.from(render(cases, outputs)));
    return [];
  }
  return mismatches;
}
