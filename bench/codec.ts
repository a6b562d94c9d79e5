/**
 * bench/codec.ts — the replicas' messages through the cluster codec (packages/protocol
 * cluster_messages.ts + value_codec.ts), against Node's own serializer of plain data
 * (`v8.serialize` / `v8.deserialize`, the structured clone's wire format), in the same process:
 *
 *   prepare     the primary → secondary message of one write: the partition's configuration and a
 *               mutation holding one 1,100-byte client write (a `set` of a 1 KiB value)
 *   prepareAck  the secondary's answer
 *
 * Each message is encoded and decoded for `seconds` per round (after a warm-up), rounds taking
 * turns which codec goes first; the medians are reported, as microseconds per message and the
 * ratio v8 ÷ Petrel (above 1: Petrel's is faster). Every write crosses two prepares and two acks
 * (replica count 3): those four encodings and four decodings are CPU on the servers' main threads.
 *
 * A second table times the encoding of client messages and mutations (`encodeMessage`,
 * `encodeMutation`: one reused writer, copied out at the end) against a fresh writer per message
 * that starts small and grows (how they were encoded until 2026-12-04), the same rounds:
 *
 *   getResponse   a replica server's answer to a `get` of a 1 KiB value (every read's answer)
 *   getRequest    a client's `get` (small)
 *   setRequest    a client's `set` of a 1 KiB value
 *   mutation      the primary's mutation of that `set`
 *
 *   npm run bench:codec [-- --quick]
 */
import { isDeepStrictEqual } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import { BufferWriter } from '@petrel/base';
import { CLUSTER_TYPE_IDS, type Message, type Mutation, decodeClusterMessage, decodeMessage, decodeMutation, encodeClusterMessage, encodeMessage, encodeMutation, writeMessage, writeMutation } from '@petrel/protocol';
import { median, quick, report, round, table } from './lib/report.js';

const ROUNDS = quick ? 3 : 5;
const SECONDS = quick ? 0.5 : 2;
const WRITE_BYTES = 1100;

const gpid = '2.5';
const config = { gpid, ballot: 7, primary: '127.0.0.1:34001', secondaries: ['127.0.0.1:34002', '127.0.0.1:34003'], lastDrops: [], maxReplicaCount: 3 };
const messages: Record<string, unknown> = {
  prepare: { from: '127.0.0.1:34001', message: { type: 'prepare', config, mutation: { gpid, ballot: 7, decree: 12345, lastCommitted: 12344, writes: [Buffer.alloc(WRITE_BYTES, 3)] } } },
  prepareAck: { from: '127.0.0.1:34002', message: { type: 'prepareAck', gpid, ballot: 7, decree: 12345 } },
};

interface Codec {
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}
const codecs: Record<string, Codec> = {
  petrel: {
    encode: (value) => encodeClusterMessage(CLUSTER_TYPE_IDS.replicaMessage, 0, value),
    decode: (bytes) => decodeClusterMessage(bytes).body,
  },
  v8: {
    encode: (value) => serialize(value),
    decode: (bytes) => deserialize(bytes),
  },
};

/** Microseconds per encode and per decode of `value`, each timed for `seconds`. */
function time(codec: Codec, value: unknown, seconds: number): { encodeUs: number; decodeUs: number; bytes: number } {
  let bytes = codec.encode(value);
  let count = 0;
  let started = performance.now();
  const until = (from: number) => from + seconds * 1000;
  for (const end = until(started); performance.now() < end; count += 256) for (let i = 0; i < 256; i++) bytes = codec.encode(value);
  const encodeUs = ((performance.now() - started) * 1000) / count;
  let sink = 0;
  count = 0;
  started = performance.now();
  for (const end = until(started); performance.now() < end; count += 256) for (let i = 0; i < 256; i++) sink += codec.decode(bytes) === null ? 1 : 0;
  const decodeUs = ((performance.now() - started) * 1000) / count;
  if (sink !== 0) throw new Error('a message decoded to null');
  return { encodeUs, decodeUs, bytes: bytes.length };
}

// The decoded messages must be the messages: a fast codec that loses data would prove nothing.
for (const [name, value] of Object.entries(messages)) {
  const back = decodeClusterMessage(encodeClusterMessage(CLUSTER_TYPE_IDS.replicaMessage, 0, value)).body;
  if (!isDeepStrictEqual(back, value)) {
    throw new Error(`${name} does not survive the cluster codec`);
  }
}

const samples: Record<string, Record<string, { encodeUs: number[]; decodeUs: number[]; bytes: number }>> = {};
for (const name of Object.keys(messages)) {
  samples[name] = {};
  for (const codec of Object.keys(codecs)) samples[name]![codec] = { encodeUs: [], decodeUs: [], bytes: 0 };
  for (const codec of Object.values(codecs)) time(codec, messages[name], SECONDS / 4); // warm-up
}
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? ['petrel', 'v8'] : ['v8', 'petrel'];
  for (const name of Object.keys(messages)) {
    for (const codec of order) {
      const result = time(codecs[codec]!, messages[name], SECONDS);
      const entry = samples[name]![codec]!;
      entry.encodeUs.push(result.encodeUs);
      entry.decodeUs.push(result.decodeUs);
      entry.bytes = result.bytes;
    }
  }
}

const figures: Record<string, unknown> = {};
const ratios: Record<string, number> = {};
const rows: (string | number)[][] = [];
for (const name of Object.keys(messages)) {
  const petrel = samples[name]!.petrel!;
  const v8 = samples[name]!.v8!;
  const ours = { encodeUs: round(median(petrel.encodeUs), 3), decodeUs: round(median(petrel.decodeUs), 3), bytes: petrel.bytes };
  const theirs = { encodeUs: round(median(v8.encodeUs), 3), decodeUs: round(median(v8.decodeUs), 3), bytes: v8.bytes };
  ratios[`${name}Encode`] = round(theirs.encodeUs / ours.encodeUs, 3);
  ratios[`${name}Decode`] = round(theirs.decodeUs / ours.decodeUs, 3);
  figures[name] = { petrel: ours, v8: theirs };
  rows.push([name, String(ours.bytes), String(theirs.bytes), ours.encodeUs, theirs.encodeUs, ratios[`${name}Encode`]!, ours.decodeUs, theirs.decodeUs, ratios[`${name}Decode`]!]);
}
console.log(table(['message', 'bytes petrel', 'bytes v8', 'encode µs petrel', 'encode µs v8', 'v8 ÷ petrel', 'decode µs petrel', 'decode µs v8', 'v8 ÷ petrel'], rows));

// ---- Client messages and mutations: the reused writer against a growing fresh one ----

const value = Buffer.alloc(1024, 5);
const hashKey = Buffer.from('user4821');
const sortKey = Buffer.from('field0');
const header = { tableId: 2, partitionIndex: 5, timeoutMs: 1000 };
const setMutation: Mutation = { nowSeconds: 1_790_000_000, defaultTtlSeconds: 0, writes: [{ type: 'set', hashKey, sortKey, value, expireTs: 0 }] };
/**
 * The two ways of encoding one value: through the reused scratch writer, or as the encoders did
 * before it, into a fresh writer of `initialBytes` that grows, ending with `finish`.
 */
function twoWays<T>(
  value: T,
  write: (writer: BufferWriter, value: T) => void,
  scratch: (value: T) => Buffer,
  fresh: { initialBytes: number; finish: (writer: BufferWriter) => Buffer },
  decode: (bytes: Uint8Array) => unknown,
): Record<'scratch' | 'grown', Codec> {
  return {
    scratch: { encode: () => scratch(value), decode },
    grown: {
      encode: () => {
        const writer = new BufferWriter(fresh.initialBytes);
        write(writer, value);
        return fresh.finish(writer);
      },
      decode,
    },
  };
}
/** The message encoder started at 256 bytes and gave the writer's buffer away. */
const messageWays = (message: Message): Record<'scratch' | 'grown', Codec> =>
  twoWays(message, writeMessage, encodeMessage, { initialBytes: 256, finish: (writer) => writer.take() }, (bytes) => decodeMessage(bytes));
const clientWays: Record<string, Record<'scratch' | 'grown', Codec>> = {
  getResponse: messageWays({ kind: 'response', name: 'get', requestId: 123_456, body: { value } } as Message),
  getRequest: messageWays({ kind: 'request', name: 'get', requestId: 123_456, body: { header, request: { hashKey, sortKey } } } as Message),
  setRequest: messageWays({ kind: 'request', name: 'set', requestId: 123_456, body: { header, request: { hashKey, sortKey, value, ttlSeconds: 0 } } } as Message),
  // The mutation encoder started at 64 bytes and copied the bytes out.
  mutation: twoWays(setMutation, writeMutation, encodeMutation, { initialBytes: 64, finish: (writer) => writer.toBuffer() }, (bytes) => decodeMutation(bytes)),
};
const clientSamples: Record<string, Record<'scratch' | 'grown', number[]>> = {};
const clientBytes: Record<string, number> = {};
for (const [name, ways] of Object.entries(clientWays)) {
  // Both ways must give the same bytes, and the bytes must decode.
  const a = ways.scratch.encode(null);
  if (!Buffer.from(a).equals(ways.grown.encode(null))) throw new Error(`${name}: the two encodings differ`);
  ways.scratch.decode(a);
  clientBytes[name] = a.length;
  clientSamples[name] = { scratch: [], grown: [] };
  for (const way of Object.values(ways)) time(way, null, SECONDS / 4); // warm-up
}
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? (['scratch', 'grown'] as const) : (['grown', 'scratch'] as const);
  for (const [name, ways] of Object.entries(clientWays)) {
    for (const way of order) clientSamples[name]![way].push(time(ways[way], null, SECONDS / 2).encodeUs);
  }
}
const clientRows: (string | number)[][] = [];
const clientFigures: Record<string, unknown> = {};
for (const name of Object.keys(clientWays)) {
  const scratchUs = round(median(clientSamples[name]!.scratch), 3);
  const grownUs = round(median(clientSamples[name]!.grown), 3);
  const bytes = clientBytes[name]!;
  ratios[`${name}GrownVsScratch`] = round(grownUs / scratchUs, 3);
  clientFigures[name] = { bytes, scratchEncodeUs: scratchUs, grownEncodeUs: grownUs };
  clientRows.push([name, String(bytes), scratchUs, grownUs, ratios[`${name}GrownVsScratch`]!]);
}
console.log('');
console.log(table(['client message', 'bytes', 'encode µs, reused writer', 'encode µs, fresh growing writer', 'fresh ÷ reused'], clientRows));
report('codec', { rounds: ROUNDS, secondsPerRun: SECONDS, writeBytes: WRITE_BYTES, ...figures, client: clientFigures, ratios });
