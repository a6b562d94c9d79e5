/**
 * VersionSet: the chain of Versions and the manifest that makes it durable.
 *
 * The manifest is a @petrel/wal log in the directory named by the CURRENT file. Its first record
 * is a snapshot edit (every live file and counter); each later record is one VersionEdit. Every
 * segment of this log holds exactly one record, so damage to any edit but the last is reported
 * as CORRUPTION rather than mistaken for a torn tail (see doc/manifest_format.md).
 *
 * `logAndApply(edit)` appends the edit (fsync), then installs the new Version; edits run one at a
 * time. On open the manifest is rewritten as a single snapshot edit in a new directory and CURRENT
 * is switched to it (write CURRENT.tmp, sync, rename, sync the directory).
 */
import { PetrelError, type Vfs, assert, joinPath } from '@petrel/base';
import { Wal } from '@petrel/wal';
import { LEVELS, Version } from './version.js';
import { type FileMetadata, VersionEdit } from './version_edit.js';

/** One record per segment: each segment is just big enough for its header and one byte. */
const MANIFEST_SEGMENT_BYTES = 33;
/** Rewrite the manifest after this many edits. */
const MANIFEST_MAX_EDITS = 1000;

export class VersionSet {
  current: Version;
  nextFileNumber = 1;
  flushedSequence = 0;
  lastFlushedDecree = 0;
  readonly custom = new Map<string, Buffer>();
  private readonly liveVersions = new Set<Version>();
  private manifest: Wal | undefined;
  private manifestName = '';
  private editCount = 0;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly vfs: Vfs,
    private readonly dir: string,
    /** Called when a Version stops being used (to delete files no Version lists). */
    private readonly onVersionReleased: () => void,
  ) {
    this.current = this.track(new Version(Array.from({ length: LEVELS }, () => []), (v) => this.release(v)));
  }

  private track(version: Version): Version {
    version.ref();
    this.liveVersions.add(version);
    return version;
  }

  private release(version: Version): void {
    this.liveVersions.delete(version);
    this.onVersionReleased();
  }

  /** Numbers of every file some live Version lists. */
  liveFiles(): Set<number> {
    const live = new Set<number>();
    for (const version of this.liveVersions) for (const { file } of version.files()) live.add(file.number);
    return live;
  }

  newFileNumber(): number {
    return this.nextFileNumber++;
  }

  /** Loads the manifest named by CURRENT, or starts an empty database when `create`. */
  async recover(create: boolean): Promise<'recovered' | 'created'> {
    const currentPath = joinPath(this.dir, 'CURRENT');
    let outcome: 'recovered' | 'created' = 'recovered';
    if (!(await this.vfs.exists(currentPath))) {
      if (!create) throw new PetrelError('NOT_FOUND', `${this.dir}: no database here (no CURRENT file)`, { path: this.dir });
      outcome = 'created';
    } else {
      const name = (await this.vfs.readFile(currentPath)).toString('utf8');
      if (!/^manifest-\d{6,}\n$/.test(name)) {
        throw new PetrelError('CORRUPTION', `${currentPath}: does not name a manifest (${JSON.stringify(name.slice(0, 40))})`, { path: currentPath });
      }
      const manifestDir = joinPath(this.dir, name.trim());
      if (!(await this.vfs.exists(manifestDir))) throw new PetrelError('CORRUPTION', `${currentPath} names ${name.trim()}, which is missing`, { path: currentPath });
      const log = await Wal.open({ vfs: this.vfs, dir: manifestDir, segmentSizeBytes: MANIFEST_SEGMENT_BYTES });
      try {
        let version = new Version(Array.from({ length: LEVELS }, () => []), () => undefined);
        let records = 0;
        for await (const record of log.readFrom(0)) {
          const where = `${joinPath(manifestDir, `record ${record.index}`)}`;
          const edit = VersionEdit.decode(record.data, where);
          version = version.apply(edit, () => undefined);
          this.absorbCounters(edit);
          records++;
        }
        if (records === 0) throw new PetrelError('CORRUPTION', `${manifestDir}: empty manifest`, { path: manifestDir });
        this.liveVersions.clear();
        this.current = this.track(version.apply(new VersionEdit(), (v) => this.release(v)));
      } finally {
        await log.close();
      }
      this.manifestName = name.trim();
    }
    for (const { file } of this.current.files()) this.nextFileNumber = Math.max(this.nextFileNumber, file.number + 1);
    await this.writeNewManifest();
    return outcome;
  }

  private absorbCounters(edit: VersionEdit): void {
    if (edit.nextFileNumber !== undefined) this.nextFileNumber = Math.max(this.nextFileNumber, edit.nextFileNumber);
    if (edit.flushedSequence !== undefined) this.flushedSequence = Math.max(this.flushedSequence, edit.flushedSequence);
    if (edit.lastFlushedDecree !== undefined) this.lastFlushedDecree = Math.max(this.lastFlushedDecree, edit.lastFlushedDecree);
    for (const [key, value] of edit.custom) {
      if (value.length === 0) this.custom.delete(key);
      else this.custom.set(key, value);
    }
  }

  /**
   * Writes a complete database manifest for `version` with this set's counters into `dir` (a
   * fresh directory: a checkpoint), with its CURRENT file.
   */
  async writeManifestFor(vfs: Vfs, dir: string, version: Version, counters: { flushedSequence: number; lastFlushedDecree: number }): Promise<void> {
    // The manifest's own number comes first, so the edit's nextFileNumber is past it.
    const name = `manifest-${String(this.newFileNumber()).padStart(6, '0')}`;
    const edit = new VersionEdit();
    edit.nextFileNumber = this.nextFileNumber;
    edit.flushedSequence = counters.flushedSequence;
    edit.lastFlushedDecree = counters.lastFlushedDecree;
    for (const { level, file } of version.files()) edit.addFile(level, file);
    for (const [key, value] of this.custom) edit.custom.set(key, value);
    const log = await Wal.open({ vfs, dir: joinPath(dir, name), segmentSizeBytes: MANIFEST_SEGMENT_BYTES });
    await log.append({ index: 1, data: edit.encode() });
    await log.close();
    await vfs.writeFile(joinPath(dir, 'CURRENT'), Buffer.from(`${name}\n`), { sync: true });
    await vfs.syncDir(dir);
  }

  private snapshotEdit(): VersionEdit {
    const edit = new VersionEdit();
    edit.nextFileNumber = this.nextFileNumber;
    edit.flushedSequence = this.flushedSequence;
    edit.lastFlushedDecree = this.lastFlushedDecree;
    for (const { level, file } of this.current.files()) edit.addFile(level, file);
    for (const [key, value] of this.custom) edit.custom.set(key, value);
    return edit;
  }

  /** Starts a fresh manifest holding one snapshot edit, switches CURRENT to it, drops the old one. */
  private async writeNewManifest(): Promise<void> {
    const name = `manifest-${String(this.newFileNumber()).padStart(6, '0')}`;
    const manifestDir = joinPath(this.dir, name);
    const log = await Wal.open({ vfs: this.vfs, dir: manifestDir, segmentSizeBytes: MANIFEST_SEGMENT_BYTES });
    await log.append({ index: 1, data: this.snapshotEdit().encode() });
    await this.vfs.syncDir(this.dir);
    const temp = joinPath(this.dir, 'CURRENT.tmp');
    await this.vfs.writeFile(temp, Buffer.from(`${name}\n`), { sync: true });
    await this.vfs.rename(temp, joinPath(this.dir, 'CURRENT'));
    await this.vfs.syncDir(this.dir);
    const old = this.manifest;
    const oldName = this.manifestName;
    this.manifest = log;
    this.manifestName = name;
    this.editCount = 1;
    await old?.close();
    if (oldName !== '' && oldName !== name) await this.vfs.removeTree(joinPath(this.dir, oldName));
  }

  /** Makes `edit` durable in the manifest, then installs the Version it yields. One at a time. */
  logAndApply(edit: VersionEdit): Promise<void> {
    const run = this.chain.then(async () => {
      assert(this.manifest !== undefined, 'manifest not open');
      if (edit.nextFileNumber === undefined) edit.nextFileNumber = this.nextFileNumber;
      const next = this.current.apply(edit, (v) => this.release(v));
      await this.manifest.append({ index: this.manifest.lastIndex + 1, data: edit.encode() });
      this.absorbCounters(edit);
      const previous = this.current;
      this.current = this.track(next);
      previous.unref();
      if (++this.editCount >= MANIFEST_MAX_EDITS) await this.writeNewManifest();
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.chain;
    await this.manifest?.close();
    this.manifest = undefined;
  }

  get manifestDirName(): string {
    return this.manifestName;
  }
}

export type { FileMetadata };
