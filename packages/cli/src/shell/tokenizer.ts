/**
 * The shell's command-line syntax: a line holds statements separated by `;`, a statement holds
 * words separated by blanks. Keys and values are bytes, so a word is a Buffer.
 *
 * - `"double quotes"`: blanks and `;` are literal; escapes work (below).
 * - `'single quotes'`: everything up to the next `'` is literal, no escapes.
 * - bare words: escapes work, so `a\ b` is one word.
 * - escapes: `\\`, `\"`, `\'`, `\;`, `\ `, `\n`, `\r`, `\t`, `\0` and `\xNN` (one byte, two hex
 *   digits). Any other backslash is kept as it is, backslash included.
 * - `#` at the start of a word starts a comment to the end of the line.
 *
 * Adjacent quoted and bare parts join into one word (`"a b"c` is `a bc`). A word that was quoted,
 * even in part, is never an option: `"-d"` is the two bytes `-d`. This is the inverse of
 * escape.ts: `"` + escapeBytes(b) + `"` reads back as b.
 */
import { ShellError } from './errors.js';

export interface Token {
  bytes: Buffer;
  /** Some part of the word was quoted, so it cannot be an option. */
  quoted: boolean;
}

export function tokenText(token: Token): string {
  return token.bytes.toString('utf8');
}

const SIMPLE_ESCAPES: Record<string, number> = { n: 0x0a, r: 0x0d, t: 0x09, '0': 0x00, '\\': 0x5c, '"': 0x22, "'": 0x27, ';': 0x3b, ' ': 0x20 };

function isBlank(char: string): boolean {
  return char === ' ' || char === '\t' || char === '\n' || char === '\r';
}

function hexValue(char: string | undefined): number {
  if (char === undefined) return -1;
  const code = char.charCodeAt(0);
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10;
  if (code >= 0x41 && code <= 0x46) return code - 0x41 + 10;
  return -1;
}

/** Splits a line into statements of words. Empty statements (`;;`, blank lines) are dropped. */
export function tokenizeLine(line: string): Token[][] {
  const statements: Token[][] = [];
  let words: Token[] = [];
  let bytes: number[] = [];
  let inWord = false;
  let quoted = false;

  const pushText = (text: string): void => {
    for (const byte of Buffer.from(text, 'utf8')) bytes.push(byte);
  };
  const endWord = (): void => {
    if (inWord) words.push({ bytes: Buffer.from(bytes), quoted });
    bytes = [];
    inWord = false;
    quoted = false;
  };
  const endStatement = (): void => {
    endWord();
    if (words.length > 0) statements.push(words);
    words = [];
  };
  /** Reads the escape at `line[i] === '\\'`; returns the index of its last character. */
  const escape = (i: number): number => {
    const next = line[i + 1];
    if (next === undefined) {
      bytes.push(0x5c);
      return i;
    }
    if (next === 'x') {
      const high = hexValue(line[i + 2]);
      const low = hexValue(line[i + 3]);
      if (high < 0 || low < 0) throw new ShellError('SYNTAX', `bad escape ${JSON.stringify(line.slice(i, i + 4))}: \\x needs two hex digits`, 'write one byte as \\xNN, e.g. \\x00 or \\xff');
      bytes.push(high * 16 + low);
      return i + 3;
    }
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      bytes.push(simple);
      return i + 1;
    }
    bytes.push(0x5c);
    return i;
  };

  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (char === '"') {
      inWord = true;
      quoted = true;
      let closed = false;
      for (i++; i < line.length; i++) {
        const inner = line[i]!;
        if (inner === '"') {
          closed = true;
          break;
        }
        if (inner === '\\') {
          i = escape(i);
        } else {
          const text = surrogateAware(line, i);
          pushText(text);
          i += text.length - 1;
        }
      }
      if (!closed) throw new ShellError('SYNTAX', 'unterminated double quote', 'close the quote: "like this"');
    } else if (char === "'") {
      inWord = true;
      quoted = true;
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new ShellError('SYNTAX', 'unterminated single quote', "close the quote: 'like this'");
      pushText(line.slice(i + 1, end));
      i = end;
    } else if (char === '\\') {
      inWord = true;
      i = escape(i);
    } else if (char === ';') {
      endStatement();
    } else if (isBlank(char)) {
      endWord();
    } else if (char === '#' && !inWord) {
      break;
    } else {
      inWord = true;
      const text = surrogateAware(line, i);
      pushText(text);
      i += text.length - 1;
    }
  }
  endStatement();
  return statements;
}

/** The character at `i`, both halves of a surrogate pair when it starts one. */
function surrogateAware(line: string, i: number): string {
  const code = line.charCodeAt(i);
  if (code >= 0xd800 && code <= 0xdbff && i + 1 < line.length) return line.slice(i, i + 2);
  return line[i]!;
}

/** The word being typed at the end of `line` (for completion) and how many words precede it. */
export function currentWord(line: string): { word: string; index: number; words: string[] } {
  // A light split on blanks after the last `;`: good enough for completion, never throws.
  const statement = line.slice(line.lastIndexOf(';') + 1);
  const parts = statement.split(/[ \t]+/);
  const word = parts.pop() ?? '';
  const words = parts.filter((part) => part !== '');
  return { word, index: words.length, words };
}
