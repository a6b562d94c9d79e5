/**
 * VersionEdit: one change to the set of live SSTables and the engine's counters, as stored in the
 * manifest (doc/manifest_format.md). An edit is a list of tagged fields:
 *
 *   tag 1  nextFileNumber      varint64
 *   tag 2  flushedSequence     varint64   every sequence ≤ this is in the SSTables
 *   tag 3  lastFlushedDecree   varint64   external-log mode: every decree ≤ this is in the SSTables
 *   tag 4  deletedFile         varint32 level, varint64 file number
 *   tag 5  newFile             varint32 level, varint64 number, varint64 size,
 *                              lengthPrefixed smallest, lengthPrefixed largest (internal keys),
 *                              varint64 smallest sequence, varint64 largest sequence, varint64 entries
 *   tag 6  custom              string key, lengthPrefixed value (empty value deletes the key)
 *   tag 7  ingestedFile        the fields of tag 5, then varint64 globalSequence: a table made by
 *                              SstFileWriter (entries at sequence 0) read as if every entry had
 *                              globalSequence
 *
 * Unknown tags are CORRUPTION (a newer writer must bump the manifest's format version instead).
 */
import { BufferReader, BufferWriter } from '@petrel/base';

export interface FileMetadata {
  number: number;
  size: number;
  smallest: Buffer;
  largest: Buffer;
  smallestSequence: number;
  largestSequence: number;
  entries: number;
  /** Set for an ingested table: the sequence every entry is read with (the file holds 0). */
  globalSequence?: number;
}

export class VersionEdit {
  nextFileNumber: number | undefined;
  flushedSequence: number | undefined;
  lastFlushedDecree: number | undefined;
  readonly deletedFiles: { level: number; number: number }[] = [];
  readonly newFiles: { level: number; file: FileMetadata }[] = [];
  readonly custom = new Map<string, Buffer>();

  addFile(level: number, file: FileMetadata): this {
    this.newFiles.push({ level, file });
    return this;
  }

  deleteFile(level: number, number: number): this {
    this.deletedFiles.push({ level, number });
    return this;
  }

  encode(): Buffer {
    const writer = new BufferWriter(256);
    if (this.nextFileNumber !== undefined) writer.varint32(1).varint64(this.nextFileNumber);
    if (this.flushedSequence !== undefined) writer.varint32(2).varint64(this.flushedSequence);
    if (this.lastFlushedDecree !== undefined) writer.varint32(3).varint64(this.lastFlushedDecree);
    for (const { level, number } of this.deletedFiles) writer.varint32(4).varint32(level).varint64(number);
    for (const { level, file } of this.newFiles) {
      writer.varint32(file.globalSequence === undefined ? 5 : 7).varint32(level).varint64(file.number).varint64(file.size);
      writer.lengthPrefixed(file.smallest).lengthPrefixed(file.largest);
      writer.varint64(file.smallestSequence).varint64(file.largestSequence).varint64(file.entries);
      if (file.globalSequence !== undefined) writer.varint64(file.globalSequence);
    }
    for (const [key, value] of this.custom) writer.varint32(6).string(key).lengthPrefixed(value);
    return writer.toBuffer();
  }

  static decode(data: Uint8Array, where: string): VersionEdit {
    const reader = new BufferReader(data, 'CORRUPTION', where);
    const edit = new VersionEdit();
    while (!reader.atEnd()) {
      const tag = reader.varint32();
      switch (tag) {
        case 1:
          edit.nextFileNumber = reader.varint64();
          break;
        case 2:
          edit.flushedSequence = reader.varint64();
          break;
        case 3:
          edit.lastFlushedDecree = reader.varint64();
          break;
        case 4:
          edit.deleteFile(reader.varint32(), reader.varint64());
          break;
        case 5:
        case 7: {
          const level = reader.varint32();
          const file: FileMetadata = {
            number: reader.varint64(),
            size: reader.varint64(),
            smallest: Buffer.from(reader.lengthPrefixed()),
            largest: Buffer.from(reader.lengthPrefixed()),
            smallestSequence: reader.varint64(),
            largestSequence: reader.varint64(),
            entries: reader.varint64(),
          };
          if (tag === 7) file.globalSequence = reader.varint64();
          edit.addFile(level, file);
          break;
        }
        case 6:
          edit.custom.set(reader.string(), Buffer.from(reader.lengthPrefixed()));
          break;
        default:
          reader.fail(`unknown version edit tag ${tag}`);
      }
    }
    return edit;
  }
}
