/**
 * The fake replica server's answer to one client request: the storage app of the partition does
 * the work (the primary-side mutation builder, then apply at the next decree — no log, no
 * replication). A request for a partition this server is not the primary of — unknown table,
 * dropped table, moved primary — is answered SERVER_CHANGED, as the real servers do. A key
 * that does not belong to the partition the header names is INVALID_ARGUMENT and counted as a
 * misroute (a client bug the tests look for).
 */
import { PetrelError } from '@petrel/base';
import { type RequestMessage, type WriteRequest, partitionIndex } from '@petrel/protocol';
import type { ClusterState } from './state.js';

const EMPTY_BUFFER = Buffer.alloc(0);

export type RoutedRequestMessage = Exclude<RequestMessage, { name: 'hello' }>;

/** The keys a request addresses, to check its routing. */
function keysOf(message: RoutedRequestMessage): { hashKey: Buffer; sortKey: Buffer }[] {
  switch (message.name) {
    case 'get':
    case 'exist':
    case 'ttl':
    case 'set':
    case 'del':
    case 'incr':
      return [{ hashKey: message.body.request.hashKey, sortKey: message.body.request.sortKey }];
    case 'sortKeyCount':
    case 'multiGet':
    case 'multiSet':
    case 'multiDel':
    case 'checkAndSet':
    case 'checkAndMutate':
      return [{ hashKey: message.body.request.hashKey, sortKey: EMPTY_BUFFER }];
    case 'batchGet':
      return message.body.request.keys;
    case 'scan':
      return [];
  }
}

/** Answers one request on replica server `server`; throws the PetrelError to answer with instead. */
export function answerReplica(state: ClusterState, server: number, message: RoutedRequestMessage, onMisroute: () => void): unknown {
  const { tableId, partitionIndex: index } = message.body.header;
  const table = state.tables.get(tableId);
  const partition = table?.partitions[index];
  if (table === undefined || table.info.status === 'dropped' || partition === undefined || partition.primary !== server) {
    throw new PetrelError('SERVER_CHANGED', `this server is not the primary of ${tableId}.${index}`);
  }
  for (const key of keysOf(message)) {
    if (partitionIndex(key.hashKey, key.sortKey, table.info.partitionCount) !== index) {
      onMisroute();
      throw new PetrelError('INVALID_ARGUMENT', `a key of partition ${partitionIndex(key.hashKey, key.sortKey, table.info.partitionCount)} sent to partition ${index}`);
    }
  }
  const app = partition.app;
  switch (message.name) {
    case 'get':
      return app.get(message.body.request);
    case 'exist':
      return app.exist(message.body.request);
    case 'ttl':
      return app.ttl(message.body.request);
    case 'sortKeyCount':
      return app.sortKeyCount(message.body.request);
    case 'multiGet':
      return app.multiGet(message.body.request);
    case 'scan':
      return app.scan(message.body.request);
    case 'batchGet':
      return app.batchGet(message.body.request);
    default: {
      const builder = app.newMutationBuilder();
      builder.add({ type: message.name, request: message.body.request } as WriteRequest);
      const [result] = app.apply(app.lastAppliedDecree + 1, builder.build());
      if (result === undefined) throw new PetrelError('SERVER_INTERNAL_ERROR', 'no response from apply');
      return result.response;
    }
  }
}
