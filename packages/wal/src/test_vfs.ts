/**
 * Test support for the log's tests: a Vfs whose files' asynchronous writes and syncs pass through
 * hooks first (to make them late, or fail them). Not part of the package's API.
 */
import type { Vfs, VfsFile } from '@petrel/base';

export interface FileHooks {
  /** Awaited before each asynchronous write (the log's background zeros, segment headers); may throw to fail it. */
  beforeWrite?: (position: number, length: number) => Promise<void>;
  /** Called before each sync; may throw to fail it. */
  beforeSync?: () => void;
}

/** Calls a property of `target` on `target` (bound), or reads it. */
function passThrough(target: object, prop: string | symbol): unknown {
  const value = Reflect.get(target, prop, target) as unknown;
  return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
}

/** `inner` with every opened file's asynchronous `write` and `sync` passed through `hooks`. */
export function hookedVfs(inner: Vfs, hooks: FileHooks): Vfs {
  const wrapFile = (file: VfsFile): VfsFile =>
    new Proxy(file, {
      get(target, prop) {
        if (prop === 'write') {
          return async (data: Uint8Array, position: number) => {
            await hooks.beforeWrite?.(position, data.length);
            await target.write(data, position);
          };
        }
        if (prop === 'sync') {
          return async () => {
            hooks.beforeSync?.();
            await target.sync();
          };
        }
        return passThrough(target, prop);
      },
    });
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'open') return async (path: string, options?: Parameters<Vfs['open']>[1]) => wrapFile(await target.open(path, options));
      return passThrough(target, prop);
    },
  });
}
