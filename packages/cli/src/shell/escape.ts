/**
 * How the shell prints bytes: inside double quotes, in the syntax tokenizer.ts reads, so any
 * printed key or value can be pasted back into a command.
 *
 * - printable ASCII is itself, except `\` → `\\` and `"` → `\"`;
 * - newline, carriage return and tab → `\n`, `\r`, `\t`; other control bytes → `\xNN`;
 * - bytes ≥ 0x80: a well-formed UTF-8 sequence of a printable character is printed as that
 *   character, anything else (binary data, broken UTF-8) byte by byte as `\xNN`. With
 *   `escapeAll` (the shell's `escape_all true`) every byte ≥ 0x80 is `\xNN`, so the output is
 *   pure ASCII and shows the exact bytes.
 */

const HEX = '0123456789abcdef';

function hexByte(byte: number): string {
  return `\\x${HEX[byte >> 4]}${HEX[byte & 15]}`;
}

/** Length of the well-formed UTF-8 sequence at `at` (2–4), or 0 when there is none. */
function utf8SequenceLength(bytes: Uint8Array, at: number): number {
  const first = bytes[at]!;
  const length = first >= 0xc2 && first <= 0xdf ? 2 : first >= 0xe0 && first <= 0xef ? 3 : first >= 0xf0 && first <= 0xf4 ? 4 : 0;
  if (length === 0) return 0;
  let codePoint = first & (length === 2 ? 0x1f : length === 3 ? 0x0f : 0x07);
  if (at + length > bytes.length) return 0;
  for (let k = 1; k < length; k++) {
    const next = bytes[at + k]!;
    if ((next & 0xc0) !== 0x80) return 0;
    codePoint = (codePoint << 6) | (next & 0x3f);
  }
  // Overlong forms, surrogates and code points past U+10FFFF are not well-formed.
  if ((length === 3 && codePoint < 0x800) || (length === 4 && codePoint < 0x10000)) return 0;
  if (codePoint >= 0xd800 && codePoint <= 0xdfff) return 0;
  if (codePoint > 0x10ffff) return 0;
  // C1 controls and the line/paragraph separators would disturb a terminal: escape them.
  if ((codePoint >= 0x80 && codePoint <= 0x9f) || codePoint === 0x2028 || codePoint === 0x2029) return 0;
  return length;
}

export function escapeBytes(bytes: Uint8Array, escapeAll = false): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === 0x5c) out += '\\\\';
    else if (byte === 0x22) out += '\\"';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x0d) out += '\\r';
    else if (byte === 0x09) out += '\\t';
    else if (byte < 0x80 || escapeAll) out += hexByte(byte);
    else {
      const length = utf8SequenceLength(bytes, i);
      if (length === 0) {
        out += hexByte(byte);
      } else {
        out += Buffer.from(bytes.subarray(i, i + length)).toString('utf8');
        i += length - 1;
      }
    }
  }
  return out;
}

/** The bytes in double quotes: how keys and values appear in the shell's output. */
export function quoteBytes(bytes: Uint8Array, escapeAll = false): string {
  return `"${escapeBytes(bytes, escapeAll)}"`;
}
