/**
 * Whatever the bench starts — server processes, client workers, temporary directories — is
 * registered here and torn down when the bench process ends for any reason: normal exit, an
 * uncaught error, or Ctrl-C / SIGTERM. (A SIGKILL of the bench cannot be caught; the client
 * workers then exit when their IPC channel closes, but servers would be left running.)
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

const children = new Set<ChildProcess>();
const directories = new Set<string>();
let installed = false;

function tearDown(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL');
      } catch {}
    }
  }
  children.clear();
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
  directories.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', tearDown);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping the servers and clients the bench started\n`);
      tearDown();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

/** Kills `child` when the bench ends, unless it has exited (or `release` was called) before. */
export function guardChild(child: ChildProcess): void {
  install();
  children.add(child);
  child.once('exit', () => children.delete(child));
}

export function releaseChild(child: ChildProcess): void {
  children.delete(child);
}

/** Removes `directory` (recursively) when the bench ends, unless released before. */
export function guardDirectory(directory: string): void {
  install();
  directories.add(directory);
}

export function releaseDirectory(directory: string): void {
  directories.delete(directory);
}

/** Stops a child gracefully (SIGTERM), then forcefully after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  releaseChild(child);
}
