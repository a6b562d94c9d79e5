/**
 * fast-check arbitraries of every message and mutation, for the codec's round-trip and fuzz
 * tests (and for other packages' tests that need random requests). Test-only: not exported from
 * the package index, so fast-check stays a dev dependency.
 */
import { ERROR_CODES } from '@petrel/base';
import fc from 'fast-check';
import type { ErrorResponse, HelloRequest, HelloResponse, RequestHeader } from './bodies.js';
import type { Message } from './codec.js';
import { CHECK_TYPE_IDS, FILTER_TYPE_IDS, type RequestName } from './ids.js';
import type { CheckType, ErrorInfo, Filter, FilterType, Mutation, MutationWrite } from './types.js';

/** Records with an ordinary prototype, so that decoded objects compare equal to them. */
function record<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;
}

const bytesArb: fc.Arbitrary<Buffer> = fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a));
const keysArb = fc.array(bytesArb, { maxLength: 4 });
const uintArb = fc.nat({ max: 0xffffffff });
const intArb = fc.integer({ min: -(2 ** 52 - 1), max: 2 ** 52 - 1 });
const smallIntArb = fc.integer({ min: -5, max: 100 });
const int64Arb = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
export const checkTypeArb: fc.Arbitrary<CheckType> = fc.constantFrom(...(Object.keys(CHECK_TYPE_IDS) as CheckType[]));
const filterTypeArb: fc.Arbitrary<FilterType> = fc.constantFrom(...(Object.keys(FILTER_TYPE_IDS) as FilterType[]));
const filterArb: fc.Arbitrary<Filter> = record({ type: filterTypeArb, pattern: bytesArb });
const errorArb: fc.Arbitrary<ErrorInfo> = record({ code: fc.constantFrom(...ERROR_CODES), message: fc.string({ maxLength: 20 }) });
const nullableErrorArb = fc.option(errorArb, { nil: null });
const keyValueArb = record({ sortKey: bytesArb, value: bytesArb });
const headerArb: fc.Arbitrary<RequestHeader> = record({ tableId: uintArb, partitionIndex: uintArb, timeoutMs: uintArb });
const requestIdArb = fc.maxSafeNat();

const helloArb: fc.Arbitrary<HelloRequest> = record({
  protocolVersion: fc.nat({ max: 1000 }),
  minProtocolVersion: fc.nat({ max: 1000 }),
  peerName: fc.string({ maxLength: 30 }),
});
const helloResponseArb: fc.Arbitrary<HelloResponse> = record({ protocolVersion: fc.nat({ max: 1000 }), peerName: fc.string({ maxLength: 30 }) });
const getArb = record({ hashKey: bytesArb, sortKey: bytesArb });

const requestArbs: { [N in RequestName]: fc.Arbitrary<unknown> } = {
  hello: helloArb,
  get: getArb,
  exist: getArb,
  ttl: getArb,
  multiGet: record({
    hashKey: bytesArb,
    sortKeys: keysArb,
    startSortKey: bytesArb,
    stopSortKey: bytesArb,
    startInclusive: fc.boolean(),
    stopInclusive: fc.boolean(),
    sortKeyFilter: filterArb,
    maxCount: intArb,
    maxBytes: intArb,
    noValue: fc.boolean(),
    reverse: fc.boolean(),
  }),
  sortKeyCount: record({ hashKey: bytesArb }),
  scan: record({
    startKey: bytesArb,
    stopKey: bytesArb,
    startInclusive: fc.boolean(),
    stopInclusive: fc.boolean(),
    hashKeyFilter: filterArb,
    sortKeyFilter: filterArb,
    batchSize: smallIntArb,
    noValue: fc.boolean(),
    returnExpireTs: fc.boolean(),
    onlyCount: fc.boolean(),
  }),
  batchGet: record({ keys: fc.array(getArb, { maxLength: 4 }) }),
  set: record({ hashKey: bytesArb, sortKey: bytesArb, value: bytesArb, ttlSeconds: intArb }),
  multiSet: record({ hashKey: bytesArb, entries: fc.array(keyValueArb, { maxLength: 4 }), ttlSeconds: intArb }),
  del: getArb,
  multiDel: record({ hashKey: bytesArb, sortKeys: keysArb }),
  incr: record({ hashKey: bytesArb, sortKey: bytesArb, increment: int64Arb, ttlSeconds: intArb }),
  checkAndSet: record({
    hashKey: bytesArb,
    checkSortKey: bytesArb,
    checkType: checkTypeArb,
    checkOperand: bytesArb,
    setSortKey: bytesArb,
    setValue: bytesArb,
    ttlSeconds: intArb,
    returnCheckValue: fc.boolean(),
  }),
  checkAndMutate: record({
    hashKey: bytesArb,
    checkSortKey: bytesArb,
    checkType: checkTypeArb,
    checkOperand: bytesArb,
    mutations: fc.array(
      fc.oneof(
        record({ op: fc.constant('set' as const), sortKey: bytesArb, value: bytesArb, ttlSeconds: intArb }),
        record({ op: fc.constant('del' as const), sortKey: bytesArb }),
      ),
      { maxLength: 4 },
    ),
    returnCheckValue: fc.boolean(),
  }),
};

const setResponseArb = record({ error: nullableErrorArb });
const checkResponseArb = record({
  error: nullableErrorArb,
  succeeded: fc.boolean(),
  checkValueReturned: fc.boolean(),
  checkValueExists: fc.boolean(),
  checkValue: fc.option(bytesArb, { nil: null }),
});
const scanRecordArb = fc.oneof(
  record({ hashKey: bytesArb, sortKey: bytesArb, value: bytesArb }),
  record({ hashKey: bytesArb, sortKey: bytesArb, value: bytesArb, expireTs: uintArb }),
);

const responseArbs: { [N in RequestName]: fc.Arbitrary<unknown> } = {
  hello: helloResponseArb,
  get: record({ value: fc.option(bytesArb, { nil: null }) }),
  exist: record({ exists: fc.boolean() }),
  ttl: record({ ttlSeconds: fc.option(intArb, { nil: null }) }),
  multiGet: record({ complete: fc.boolean(), entries: fc.array(keyValueArb, { maxLength: 4 }) }),
  sortKeyCount: record({ count: intArb }),
  scan: record({ records: fc.array(scanRecordArb, { maxLength: 4 }), count: uintArb, resumeKey: fc.option(bytesArb, { nil: null }) }),
  batchGet: record({ values: fc.array(fc.option(bytesArb, { nil: null }), { maxLength: 4 }) }),
  set: setResponseArb,
  multiSet: setResponseArb,
  del: setResponseArb,
  multiDel: record({ error: nullableErrorArb, count: uintArb }),
  incr: record({ error: nullableErrorArb, newValue: int64Arb }),
  checkAndSet: checkResponseArb,
  checkAndMutate: checkResponseArb,
};

const names = Object.keys(requestArbs) as RequestName[];

/** A message of the given kind and name. */
export function messageArbOf(kind: 'request' | 'response', name: RequestName): fc.Arbitrary<Message> {
  if (kind === 'response') {
    return record({ requestId: requestIdArb, body: responseArbs[name] }).map(({ requestId, body }) => ({ kind, name, requestId, body }) as Message);
  }
  const body = name === 'hello' ? requestArbs.hello : record({ header: headerArb, request: requestArbs[name] });
  return record({ requestId: requestIdArb, body }).map(({ requestId, body: b }) => ({ kind, name, requestId, body: b }) as Message);
}

const errorMessageArb: fc.Arbitrary<Message> = fc
  .record({ requestId: requestIdArb, requestType: fc.nat({ max: 0xffff }), error: errorArb })
  .map(({ requestId, requestType, error }) => ({ kind: 'error', requestId, body: { requestType, error } satisfies ErrorResponse }));

/** Every kind of message, each type equally likely. */
export const messageArb: fc.Arbitrary<Message> = fc.oneof(
  errorMessageArb,
  ...names.map((name) => messageArbOf('request', name)),
  ...names.map((name) => messageArbOf('response', name)),
);

/** Every (kind, name) pair, for tests that must cover each message type. */
export const allMessageTypes: { kind: 'request' | 'response'; name: RequestName }[] = names.flatMap((name) => [
  { kind: 'request' as const, name },
  { kind: 'response' as const, name },
]);

const expireTsArb = fc.oneof(fc.constant(0), uintArb);
const mutationOperationArb = fc.oneof(
  record({ op: fc.constant('set' as const), sortKey: bytesArb, value: bytesArb, expireTs: expireTsArb }),
  record({ op: fc.constant('del' as const), sortKey: bytesArb }),
);

export const mutationWriteArb: fc.Arbitrary<MutationWrite> = fc.oneof(
  record({ type: fc.constant('set' as const), hashKey: bytesArb, sortKey: bytesArb, value: bytesArb, expireTs: expireTsArb }),
  record({ type: fc.constant('multiSet' as const), hashKey: bytesArb, entries: fc.array(keyValueArb, { maxLength: 4 }), expireTs: expireTsArb }),
  record({ type: fc.constant('del' as const), hashKey: bytesArb, sortKey: bytesArb }),
  record({ type: fc.constant('multiDel' as const), hashKey: bytesArb, sortKeys: keysArb }),
  record({ type: fc.constant('incr' as const), hashKey: bytesArb, sortKey: bytesArb, increment: int64Arb, expireTs: fc.oneof(fc.constant(-1), expireTsArb) }),
  record({
    type: fc.constant('checkAndSet' as const),
    hashKey: bytesArb,
    checkSortKey: bytesArb,
    checkType: checkTypeArb,
    checkOperand: bytesArb,
    setSortKey: bytesArb,
    setValue: bytesArb,
    expireTs: expireTsArb,
    returnCheckValue: fc.boolean(),
  }),
  record({
    type: fc.constant('checkAndMutate' as const),
    hashKey: bytesArb,
    checkSortKey: bytesArb,
    checkType: checkTypeArb,
    checkOperand: bytesArb,
    mutations: fc.array(mutationOperationArb, { maxLength: 4 }),
    returnCheckValue: fc.boolean(),
  }),
);

export const mutationArb: fc.Arbitrary<Mutation> = record({
  nowSeconds: uintArb,
  defaultTtlSeconds: uintArb,
  writes: fc.array(mutationWriteArb, { maxLength: 5 }),
});
