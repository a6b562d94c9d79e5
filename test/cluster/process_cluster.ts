/**
 * A cluster of real server processes for integration tests: `petrel meta` and `petrel replica`
 * children on free ports of 127.0.0.1, in a temporary directory, always stopped by `stop()`.
 * Servers can be killed with SIGKILL and restarted on the same port and data directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChildServer, freePort, startChild, stopChildren } from '@petrel/cli';

export interface ServerSlot {
  name: string;
  address: string;
  dataDir: string;
  args: string[];
  child: ChildServer | undefined;
}

export class ProcessCluster {
  readonly root: string;
  readonly meta: ServerSlot;
  readonly replicas: ServerSlot[] = [];
  readonly log: string[] = [];

  private constructor(metaPort: number) {
    this.root = mkdtempSync(join(tmpdir(), 'petrel-cluster-'));
    const address = `127.0.0.1:${metaPort}`;
    const dataDir = join(this.root, 'meta');
    this.meta = { name: 'meta', address, dataDir, args: ['meta', '--listen', address, '--data-dir', dataDir], child: undefined };
  }

  static async start(replicaCount: number): Promise<ProcessCluster> {
    const cluster = new ProcessCluster(await freePort());
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
    rmSync(this.root, { recursive: true, force: true });
  }
}
