/** Path helpers for Vfs paths (POSIX separators everywhere, also in MemVfs). */
import * as posix from 'node:path/posix';

export function joinPath(...parts: string[]): string {
  return posix.join(...parts);
}

export function baseName(path: string): string {
  return posix.basename(path);
}

export function dirName(path: string): string {
  return posix.dirname(path);
}
