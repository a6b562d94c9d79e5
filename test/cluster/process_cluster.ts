/**
 * A cluster of real server processes for integration tests: `petrel meta` and `petrel replica`
 * children on free ports of 127.0.0.1, in a temporary directory, always stopped by `stop()`.
 * Servers can be killed with SIGKILL and restarted on the same port and data directory.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChildServer, freePort, startChild, stopChildren } from '@petrel/cli';

/** The file fillDisk writes in a server's data directory. */
const DISK_FILLER = 'disk-filler';

export interface ServerSlot {
  name: string;
  address: string;
  dataDir: string;
  args: string[];
  child: ChildServer | undefined;
}

export interface ProcessClusterOptions {
  /**
   * Give each replica server a disk of its own this small: a tmpfs mounted on its data directory
   * (needs root; when mounting fails the servers run on the ordinary disk and `smallDisks` is
   * false). A disk that small can be filled for a disk-full fault.
   */
  diskMiB?: number;
}

/** Whether this process may mount a tmpfs (root with the right to mount): tried once, on a temporary directory. */
export function canMountSmallDisks(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'petrel-mount-check-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export class ProcessCluster {
  readonly root: string;
  readonly meta: ServerSlot;
  readonly replicas: ServerSlot[] = [];
  readonly log: string[] = [];
  /** Whether every replica server's data directory is a small disk of its own (see options). */
  smallDisks = false;
  private readonly mounts: string[] = [];
  private readonly diskMiB: number | undefined;

  private constructor(metaPort: number, options: ProcessClusterOptions) {
    this.diskMiB = options.diskMiB;
    this.smallDisks = options.diskMiB !== undefined;
    this.root = mkdtempSync(join(tmpdir(), 'petrel-cluster-'));
    const address = `127.0.0.1:${metaPort}`;
    const dataDir = join(this.root, 'meta');
    this.meta = { name: 'meta', address, dataDir, args: ['meta', '--listen', address, '--data-dir', dataDir], child: undefined };
  }

  static async start(replicaCount: number, options: ProcessClusterOptions = {}): Promise<ProcessCluster> {
    const cluster = new ProcessCluster(await freePort(), options);
    try {
      await cluster.startServer(cluster.meta);
      for (let i = 0; i < replicaCount; i++) await cluster.addReplica(false);
      await Promise.all(cluster.replicas.map((slot) => slot.child!.ready));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  private record = (line: string): void => {
    // Every line, for debugging a run: PETREL_CLUSTER_LOG=/path/to/file.
    if (process.env.PETREL_CLUSTER_LOG !== undefined) appendFileSync(process.env.PETREL_CLUSTER_LOG, `${line}\n`);
    this.log.push(line);
    if (this.log.length > 2000) this.log.splice(0, 1000);
  };

  async startServer(slot: ServerSlot): Promise<void> {
    slot.child = startChild(slot.name, slot.args, this.record);
    await slot.child.ready;
  }

  /** Adds a replica server (started; awaited when `wait`). */
  async addReplica(wait = true): Promise<ServerSlot> {
    const address = `127.0.0.1:${await freePort()}`;
    const name = `replica${this.replicas.length + 1}`;
    const dataDir = join(this.root, name);
    if (this.diskMiB !== undefined && this.smallDisks) this.mountSmallDisk(dataDir, this.diskMiB);
    const slot: ServerSlot = { name, address, dataDir, args: ['replica', '--listen', address, '--meta', this.meta.address, '--data-dir', dataDir], child: undefined };
    this.replicas.push(slot);
    slot.child = startChild(slot.name, slot.args, this.record);
    if (wait) await slot.child.ready;
    return slot;
  }

  /** SIGKILL: no chance to flush or say goodbye. */
  async kill(slot: ServerSlot): Promise<void> {
    const child = slot.child;
    slot.child = undefined;
    if (child === undefined || child.process.exitCode !== null || child.process.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.process.once('exit', () => resolve());
      child.process.kill('SIGKILL');
      // A process that died meanwhile emits no second exit: do not wait for one forever.
      setTimeout(resolve, 5000).unref();
    });
  }

  async restart(slot: ServerSlot): Promise<void> {
    await this.kill(slot);
    await this.startServer(slot);
  }

  replicaByAddress(address: string): ServerSlot {
    const slot = this.replicas.find((candidate) => candidate.address === address);
    if (slot === undefined) throw new Error(`no replica server at ${address}`);
    return slot;
  }

  async stop(): Promise<void> {
    const children = [this.meta, ...this.replicas].map((slot) => slot.child).filter((child): child is ChildServer => child !== undefined);
    await stopChildren(children);
    for (const mount of this.mounts) {
      try {
        execFileSync('umount', [mount], { stdio: 'ignore' });
      } catch {
        // Left mounted (busy): the directory stays; nothing else depends on it.
      }
    }
    try {
      rmSync(this.root, { recursive: true, force: true });
    } catch (error) {
      // A disk still mounted (busy): leave the directory rather than hide the run's own outcome.
      process.stderr.write(`process cluster: could not remove ${this.root}: ${String(error)}\n`);
    }
  }

  /**
   * Fills `slot`'s disk: writes a file in its data directory until a write fails. Returns the
   * bytes written and the error code that stopped it (ENOSPC when the disk is full).
   */
  async fillDisk(slot: ServerSlot): Promise<{ bytes: number; code: string | undefined }> {
    const chunk = Buffer.alloc(1 << 20);
    const handle = await open(join(slot.dataDir, DISK_FILLER), 'w');
    let bytes = 0;
    try {
      for (;;) bytes += (await handle.write(chunk)).bytesWritten;
    } catch (error) {
      return { bytes, code: (error as NodeJS.ErrnoException).code };
    } finally {
      await handle.close();
    }
  }

  /** Frees what fillDisk took. */
  async freeDisk(slot: ServerSlot): Promise<void> {
    await rm(join(slot.dataDir, DISK_FILLER), { force: true });
  }

  private mountSmallDisk(dir: string, mib: number): void {
    mkdirSync(dir, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m`, 'tmpfs', dir], { stdio: 'ignore' });
      this.mounts.push(dir);
    } catch {
      this.smallDisks = false;
    }
  }
}
