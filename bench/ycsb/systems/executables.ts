/** Finding server binaries and npm client packages, to skip a system cleanly when one is missing. */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The path of executable `name` from `override` (an env variable's value) or PATH, or null. */
export function findExecutable(name: string, override?: string): string | null {
  const candidates = override ? [override] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return null;
}

/** The first line `binary --version` prints, or 'unknown version'. */
export function versionOf(binary: string): string {
  try {
    return execFileSync(binary, ['--version'], { encoding: 'utf8', timeout: 5000 }).split('\n')[0]!.trim();
  } catch {
    return 'unknown version';
  }
}

/** Whether npm package `name` can be imported from here. */
export async function hasPackage(name: string): Promise<boolean> {
  try {
    await import(name);
    return true;
  } catch {
    return false;
  }
}
