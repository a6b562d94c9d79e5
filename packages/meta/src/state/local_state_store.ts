/**
 * LocalStateStore: the meta server's state in files, crash-safe.
 *
 * Layout of its directory:
 *   log/             a @petrel/wal log; record i = the i-th commit (format below), fsync'ed
 *   snapshot         the whole map as of some commit s (format below), replaced atomically
 *
 * Open loads the snapshot (commit s) and replays the log's records after s. Every
 * `snapshotEveryCommits` commits the whole map is written to `snapshot.tmp`, synced, renamed over
 * `snapshot`, the directory synced, and only then the log's segments before s are deleted — so
 * a crash at any point leaves either the old snapshot and its log, or the new one.
 *
 * Commit record: varint32 puts, then (string key, lengthPrefixed value) each; varint32 deletes,
 * then (string key) each.
 * Snapshot file: magic "PTRLSNAP", u32le version 1, u64le commit index s, varint32 entries, then
 * (string key, lengthPrefixed value) each, then u32le checksum32 of everything before it.
 */
import { BufferReader, BufferWriter, PetrelError, type Vfs, checksum32, initChecksum, joinPath } from '@petrel/base';
import { type Durability, Wal } from '@petrel/wal';
import type { StateChange, StateStore } from './state_store.js';

const SNAPSHOT_MAGIC = Buffer.from('PTRLSNAP', 'latin1');
const SNAPSHOT_VERSION = 1;

export interface LocalStateStoreOptions {
  vfs: Vfs;
  dir: string;
  /** Write a snapshot and trim the log after this many commits (default 1,000). */
  snapshotEveryCommits?: number;
  durability?: Durability;
}

export function encodeChange(change: StateChange): Buffer {
  const writer = new BufferWriter();
  const puts = change.put ?? [];
  const deletes = change.del ?? [];
  writer.varint32(puts.length);
  for (const [key, value] of puts) writer.string(key).lengthPrefixed(value);
  writer.varint32(deletes.length);
  for (const key of deletes) writer.string(key);
  return writer.toBuffer();
}

function applyRecord(map: Map<string, Buffer>, data: Uint8Array, where: string): void {
  const reader = new BufferReader(data, 'CORRUPTION', where);
  const puts = reader.varint32();
  const changes: [string, Buffer][] = [];
  for (let i = 0; i < puts; i++) changes.push([reader.string(), Buffer.from(reader.lengthPrefixed())]);
  const deletes = reader.varint32();
  const removed: string[] = [];
  for (let i = 0; i < deletes; i++) removed.push(reader.string());
  reader.expectEnd();
  for (const [key, value] of changes) map.set(key, value);
  for (const key of removed) map.delete(key);
}

function encodeSnapshot(map: ReadonlyMap<string, Buffer>, commitIndex: number): Buffer {
  const writer = new BufferWriter(1024);
  writer.bytes(SNAPSHOT_MAGIC).u32le(SNAPSHOT_VERSION).u64le(commitIndex).varint32(map.size);
  for (const key of [...map.keys()].sort()) writer.string(key).lengthPrefixed(map.get(key) as Buffer);
  const body = writer.toBuffer();
  const out = Buffer.allocUnsafe(body.length + 4);
  body.copy(out);
  out.writeUInt32LE(checksum32(body), body.length);
  return out;
}

function decodeSnapshot(bytes: Buffer, path: string): { map: Map<string, Buffer>; commitIndex: number } {
  if (bytes.length < SNAPSHOT_MAGIC.length + 16 || !bytes.subarray(0, 8).equals(SNAPSHOT_MAGIC)) {
    throw new PetrelError('CORRUPTION', `${path}: not a Petrel meta snapshot`, { path });
  }
  const body = bytes.subarray(0, bytes.length - 4);
  if (checksum32(body) !== bytes.readUInt32LE(bytes.length - 4)) {
    throw new PetrelError('CORRUPTION', `${path}: snapshot checksum mismatch`, { path });
  }
  const reader = new BufferReader(body, 'CORRUPTION', path, 8);
  const version = reader.u32le();
  if (version > SNAPSHOT_VERSION) throw new PetrelError('UNSUPPORTED_VERSION', `${path}: snapshot version ${version} is newer than this build reads`, { path });
  const commitIndex = reader.u64le();
  const count = reader.varint32();
  const map = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) map.set(reader.string(), Buffer.from(reader.lengthPrefixed()));
  reader.expectEnd();
  return { map, commitIndex };
}

export class LocalStateStore implements StateStore {
  private commitIndex: number;
  /** The last commit applied to the map (commits apply in order, once durable). */
  private appliedIndex: number;
  private commitsSinceSnapshot = 0;
  private snapshotting: Promise<void> | undefined;
  /** Commits are applied to the map in order, once durable; this chains them. */
  private tail: Promise<void> = Promise.resolve();

  private constructor(
    private readonly options: LocalStateStoreOptions,
    private readonly wal: Wal,
    private readonly map: Map<string, Buffer>,
    commitIndex: number,
  ) {
    this.commitIndex = commitIndex;
    this.appliedIndex = commitIndex;
  }

  static async open(options: LocalStateStoreOptions): Promise<LocalStateStore> {
    await initChecksum();
    const { vfs, dir } = options;
    await vfs.mkdir(dir, { recursive: true });
    const snapshotPath = joinPath(dir, 'snapshot');
    let map = new Map<string, Buffer>();
    let snapshotIndex = 0;
    if (await vfs.exists(snapshotPath)) {
      const decoded = decodeSnapshot(await vfs.readFile(snapshotPath), snapshotPath);
      map = decoded.map;
      snapshotIndex = decoded.commitIndex;
    }
    const wal = await Wal.open({ vfs, dir: joinPath(dir, 'log'), durability: options.durability ?? 'fsync', segmentSizeBytes: 4 * 2 ** 20 });
    let commitIndex = snapshotIndex;
    for await (const record of wal.readFrom(snapshotIndex + 1)) {
      if (record.index !== commitIndex + 1) {
        throw new PetrelError('CORRUPTION', `${dir}: meta log jumps from commit ${commitIndex} to ${record.index}`, { path: dir });
      }
      applyRecord(map, record.data, `${dir} commit ${record.index}`);
      commitIndex = record.index;
    }
    if (commitIndex < wal.lastIndex) {
      throw new PetrelError('CORRUPTION', `${dir}: meta log ends at ${wal.lastIndex} but replay stopped at ${commitIndex}`, { path: dir });
    }
    return new LocalStateStore(options, wal, map, commitIndex);
  }

  snapshot(): ReadonlyMap<string, Buffer> {
    return this.map;
  }

  get(key: string): Buffer | undefined {
    return this.map.get(key);
  }

  keys(prefix: string): string[] {
    const out: string[] = [];
    for (const key of this.map.keys()) if (key.startsWith(prefix)) out.push(key);
    return out.sort();
  }

  commit(change: StateChange): Promise<void> {
    const index = ++this.commitIndex;
    const data = encodeChange(change);
    const durable = this.wal.append({ index, data });
    // The failure is reported through `applied`; mark it handled now, since `durable` may settle
    // before the commits ahead of it have been applied.
    durable.catch(() => undefined);
    // Apply in commit order, each once durable: readers never see a change that could be lost.
    const applied = this.tail.then(() => durable).then(() => {
      applyRecord(this.map, data, `commit ${index}`);
      this.appliedIndex = index;
      this.commitsSinceSnapshot++;
      if (this.commitsSinceSnapshot >= (this.options.snapshotEveryCommits ?? 1000) && this.snapshotting === undefined) {
        // A failed snapshot loses nothing (the log still holds every commit); the next one retries.
        this.snapshotting = this.writeSnapshot()
          .catch(() => undefined)
          .finally(() => (this.snapshotting = undefined));
      }
    });
    this.tail = applied.catch(() => undefined);
    return applied;
  }

  /** Writes the whole map as a snapshot, then lets the log drop what the snapshot covers. */
  async writeSnapshot(): Promise<void> {
    const { vfs, dir } = this.options;
    // The map and appliedIndex agree at this instant (encoding is synchronous).
    const index = this.appliedIndex;
    const bytes = encodeSnapshot(this.map, index);
    this.commitsSinceSnapshot = 0;
    const temp = joinPath(dir, 'snapshot.tmp');
    await vfs.writeFile(temp, bytes, { sync: true });
    await vfs.rename(temp, joinPath(dir, 'snapshot'));
    await vfs.syncDir(dir);
    await this.wal.truncatePrefix(index + 1);
  }

  async close(): Promise<void> {
    await this.tail;
    await this.snapshotting;
    await this.wal.close();
  }
}
