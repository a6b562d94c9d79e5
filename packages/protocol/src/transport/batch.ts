/**
 * The transport's frame: one WebSocket binary message carrying a batch of protocol messages, so
 * that many small messages cost one frame (ARCHITECTURE.md, decision 9).
 *
 *   frame   = message*            (at least one)
 *   message = varint32 length, then `length` bytes
 *
 * The bytes of each message are opaque to the transport (the protocol codec gives them meaning).
 */
import { PetrelError, putVarint, varintLength } from '@petrel/base';

/** Encodes messages into one frame. */
export function encodeBatch(messages: readonly Uint8Array[], totalBytes?: number): Buffer {
  let size = 0;
  if (totalBytes === undefined) for (const message of messages) size += varintLength(message.length) + message.length;
  else size = totalBytes;
  return encodeBatchInto(Buffer.allocUnsafe(size), messages, size);
}

/** Encodes messages, `size` bytes in all, at the start of `target`; returns that part of it. */
export function encodeBatchInto(target: Buffer, messages: readonly Uint8Array[], size: number): Buffer {
  if (size > target.length) throw new PetrelError('SERVER_INTERNAL_ERROR', `batch of ${size} bytes does not fit in ${target.length}`);
  let offset = 0;
  for (const message of messages) {
    offset = putVarint(target, offset, message.length);
    target.set(message, offset);
    offset += message.length;
  }
  if (offset !== size) throw new PetrelError('SERVER_INTERNAL_ERROR', `batch size mismatch: ${offset} != ${size}`);
  return target.subarray(0, size);
}

/**
 * Calls `onMessage` with a view of each message in a frame. Throws INVALID_ARGUMENT for a frame
 * that is empty, truncated, or holds a message over `maxMessageBytes`; messages before the bad
 * spot have been delivered by then.
 */
export function decodeBatch(frame: Buffer, maxMessageBytes: number, onMessage: (message: Buffer) => void): number {
  if (frame.length === 0) throw new PetrelError('INVALID_ARGUMENT', 'empty frame');
  let offset = 0;
  let count = 0;
  while (offset < frame.length) {
    let length = 0;
    let shift = 0;
    let scale = 1; // 2 ** shift, kept by hand: `**` is a call of the generic pow
    for (;;) {
      if (offset >= frame.length) throw new PetrelError('INVALID_ARGUMENT', `truncated message length at offset ${offset}`);
      const byte = frame[offset++] as number;
      length += (byte & 0x7f) * scale;
      if (byte < 128) break;
      shift += 7;
      scale *= 128;
      if (shift > 28) throw new PetrelError('INVALID_ARGUMENT', `message length varint too long at offset ${offset}`);
    }
    if (length > maxMessageBytes) throw new PetrelError('INVALID_ARGUMENT', `message of ${length} bytes over the limit of ${maxMessageBytes}`);
    if (offset + length > frame.length) throw new PetrelError('INVALID_ARGUMENT', `message of ${length} bytes truncated at offset ${offset}`);
    onMessage(frame.subarray(offset, offset + length));
    offset += length;
    count++;
  }
  return count;
}
