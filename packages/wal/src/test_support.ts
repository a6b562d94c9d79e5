/**
 * Test support for the log's tests: reading a whole log, waiting some event-loop turns, and a Vfs
 * whose files' asynchronous writes and syncs pass through hooks first (to make them late, or fail
 * them). Not part of the package's API.
 */
import type { Vfs, VfsFile } from '@petrel/base';
import type { Wal } from './wal.js';

export interface StoredRecord {
  index: number;
  data: Buffer;
}

/** Every record from `from` on, copied out of the log's buffers. */
export async function readAll(wal: Wal, from = 0): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  for await (const r of wal.readFrom(from)) out.push({ index: r.index, data: Buffer.from(r.data) });
  return out;
}

/** Resolves after `n` turns of the event loop (setImmediate). */
export function afterTurns(n: number): Promise<void> {
  return new Promise<void>((resolve) => {
    let left = n;
    const step = () => (left-- <= 0 ? resolve() : setImmediate(step));
    step();
  });
}

export interface FileHooks {
  /**
   * Awaited before each asynchronous write (the log's background zeros, segment headers); may
   * throw to fail it, after writing through `file` (the wrapped file) to fail it part-way.
   */
  beforeWrite?: (position: number, length: number, file: VfsFile) => Promise<void>;
  /**
   * Answer `size()` as NodeVfs does — the end of the last write that succeeded through this handle,
   * or the size at open — rather than the file's real size (which a failed write may have grown).
   */
  sizeAsKnown?: boolean;
  /** Called before each sync — a group's durable write (`writeDurable`) included; may throw to fail it. */
  beforeSync?: () => void;
}

/** Calls a property of `target` on `target` (bound), or reads it. */
function passThrough(target: object, prop: string | symbol): unknown {
  const value = Reflect.get(target, prop, target) as unknown;
  return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
}

/** `inner` with every opened file's asynchronous `write`, `sync` and `writeDurable` passed through `hooks`. */
export function hookedVfs(inner: Vfs, hooks: FileHooks): Vfs {
  const wrapFile = (file: VfsFile): VfsFile => {
    let knownSize = file.size();
    return new Proxy(file, {
      get(target, prop) {
        if (prop === 'write') {
          return async (data: Uint8Array, position: number) => {
            await hooks.beforeWrite?.(position, data.length, target);
            await target.write(data, position);
            knownSize = Math.max(knownSize, position + data.length);
          };
        }
        if (prop === 'writeSync') {
          return (data: Uint8Array, position: number) => {
            target.writeSync(data, position);
            knownSize = Math.max(knownSize, position + data.length);
          };
        }
        if (prop === 'truncate') {
          return async (size: number) => {
            await target.truncate(size);
            knownSize = size;
          };
        }
        if (prop === 'size') return () => (hooks.sizeAsKnown === true ? knownSize : target.size());
        if (prop === 'sync') {
          return async () => {
            hooks.beforeSync?.();
            await target.sync();
          };
        }
        if (prop === 'writeDurable') {
          return async (data: Uint8Array, position: number) => {
            hooks.beforeSync?.();
            await target.writeDurable(data, position);
            knownSize = Math.max(knownSize, position + data.length);
          };
        }
        return passThrough(target, prop);
      },
    });
  };
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'open') return async (path: string, options?: Parameters<Vfs['open']>[1]) => wrapFile(await target.open(path, options));
      return passThrough(target, prop);
    },
  });
}
