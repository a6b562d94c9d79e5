/**
 * SSTable footer and properties (the whole layout is in doc/sstable_format.md).
 *
 * Footer, the last 64 bytes of the file:
 *   0   8  index block offset (u64le)      8   4  index block size (u32le)
 *   12  8  filter block offset             20  4  filter block size (0: no filter)
 *   24  8  properties block offset         32  4  properties block size
 *   36  4  format version (u32le, 2)       40 12  reserved (0)
 *   52  4  checksum32 of bytes 0..52       56  8  magic "PTRLSST\x01"
 */
import { BufferReader, BufferWriter, PetrelError, checksum32 } from '@petrel/base';

export const FOOTER_BYTES = 64;
export const SSTABLE_MAGIC = Buffer.from('PTRLSST\x01', 'latin1');
/**
 * 2: the bloom filter hashes with murmur3 (sstable/bloom.ts). 1: with xxh64; still read. Nothing
 * else differs.
 */
export const SSTABLE_FORMAT_VERSION = 2;

export interface Handle {
  offset: number;
  size: number;
}

export interface Footer {
  index: Handle;
  filter: Handle;
  properties: Handle;
  version: number;
}

function writeHandle(target: Buffer, at: number, handle: Handle): void {
  target.writeUInt32LE(handle.offset % 2 ** 32, at);
  target.writeUInt32LE(Math.floor(handle.offset / 2 ** 32), at + 4);
  target.writeUInt32LE(handle.size, at + 8);
}

function readHandle(source: Buffer, at: number): Handle {
  return { offset: source.readUInt32LE(at) + source.readUInt32LE(at + 4) * 2 ** 32, size: source.readUInt32LE(at + 8) };
}

export function encodeFooter(footer: Omit<Footer, 'version'>): Buffer {
  const out = Buffer.alloc(FOOTER_BYTES);
  writeHandle(out, 0, footer.index);
  writeHandle(out, 12, footer.filter);
  writeHandle(out, 24, footer.properties);
  out.writeUInt32LE(SSTABLE_FORMAT_VERSION, 36);
  out.writeUInt32LE(checksum32(out.subarray(0, 52)), 52);
  SSTABLE_MAGIC.copy(out, 56);
  return out;
}

export function decodeFooter(bytes: Buffer, path: string, fileSize: number): Footer {
  if (bytes.length !== FOOTER_BYTES || !bytes.subarray(56).equals(SSTABLE_MAGIC)) {
    throw new PetrelError('CORRUPTION', `${path}: not a Petrel SSTable (bad magic)`, { path, offset: fileSize - FOOTER_BYTES });
  }
  if (checksum32(bytes.subarray(0, 52)) !== bytes.readUInt32LE(52)) {
    throw new PetrelError('CORRUPTION', `${path}: footer checksum mismatch`, { path, offset: fileSize - FOOTER_BYTES });
  }
  const version = bytes.readUInt32LE(36);
  if (version > SSTABLE_FORMAT_VERSION) {
    throw new PetrelError('UNSUPPORTED_VERSION', `${path}: SSTable format version ${version} is newer than this build reads`, { path });
  }
  const footer = { index: readHandle(bytes, 0), filter: readHandle(bytes, 12), properties: readHandle(bytes, 24), version };
  for (const handle of [footer.index, footer.filter, footer.properties]) {
    if (handle.offset + handle.size > fileSize - FOOTER_BYTES) {
      throw new PetrelError('CORRUPTION', `${path}: block handle ${handle.offset}+${handle.size} outside the file`, { path });
    }
  }
  return footer;
}

export interface TableProperties {
  smallestKey: Buffer;
  largestKey: Buffer;
  entries: number;
  deletions: number;
  smallestSequence: number;
  largestSequence: number;
  rawKeyBytes: number;
  rawValueBytes: number;
  dataBlocks: number;
}

const PROPERTIES_VERSION = 1;

export function encodeProperties(properties: TableProperties): Buffer {
  const writer = new BufferWriter(128);
  writer.u8(PROPERTIES_VERSION).lengthPrefixed(properties.smallestKey).lengthPrefixed(properties.largestKey);
  writer.varint64(properties.entries).varint64(properties.deletions).varint64(properties.smallestSequence).varint64(properties.largestSequence);
  writer.varint64(properties.rawKeyBytes).varint64(properties.rawValueBytes).varint64(properties.dataBlocks);
  return writer.toBuffer();
}

export function decodeProperties(contents: Buffer, path: string): TableProperties {
  const reader = new BufferReader(contents, 'CORRUPTION', `${path}: properties`);
  const version = reader.u8();
  if (version !== PROPERTIES_VERSION) reader.fail(`unknown properties version ${version}`);
  return {
    smallestKey: Buffer.from(reader.lengthPrefixed()),
    largestKey: Buffer.from(reader.lengthPrefixed()),
    entries: reader.varint64(),
    deletions: reader.varint64(),
    smallestSequence: reader.varint64(),
    largestSequence: reader.varint64(),
    rawKeyBytes: reader.varint64(),
    rawValueBytes: reader.varint64(),
    dataBlocks: reader.varint64(),
  };
}
