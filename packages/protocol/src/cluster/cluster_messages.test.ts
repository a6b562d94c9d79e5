/** The cluster envelope: round trips, responses carrying results and errors, hostile bytes. */
import { PetrelError, propertyParameters } from '@petrel/base';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLUSTER_RESPONSE_BIT, CLUSTER_TYPE_IDS, clusterMessageName, decodeClusterMessage, encodeClusterMessage, errorResponse, okResponse, resultOf } from './cluster_messages.js';

test('a request round-trips with its type, request id and body', () => {
  const bytes = encodeClusterMessage(CLUSTER_TYPE_IDS.createTable, 77, { name: 't', partitionCount: 8, replicaCount: 3, envs: { a: 'b' }, successIfExists: false });
  const envelope = decodeClusterMessage(bytes);
  assert.is(envelope.typeId, CLUSTER_TYPE_IDS.createTable);
  assert.is(envelope.requestId, 77);
  assert.equal(envelope.body, { name: 't', partitionCount: 8, replicaCount: 3, envs: { a: 'b' }, successIfExists: false });
  assert.is(clusterMessageName(envelope.typeId), 'createTable');
});

test('responses carry a result or an error with its code and the leader to ask', () => {
  const ok = decodeClusterMessage(okResponse(CLUSTER_TYPE_IDS.listTables, 5, [{ id: 1 }]));
  assert.is(ok.typeId, CLUSTER_TYPE_IDS.listTables | CLUSTER_RESPONSE_BIT);
  assert.equal(resultOf(ok.body), [{ id: 1 }]);
  const failed = decodeClusterMessage(errorResponse(CLUSTER_TYPE_IDS.createTable, 6, new PetrelError('APP_EXIST', 'table t exists')));
  try {
    resultOf(failed.body);
    assert.unreachable();
  } catch (error) {
    assert.is((error as PetrelError).code, 'APP_EXIST');
    assert.match(String(error), /table t exists/);
  }
  const redirected = decodeClusterMessage(errorResponse(CLUSTER_TYPE_IDS.listTables, 7, new PetrelError('NOT_LEADER', 'ask the leader'), '127.0.0.1:34602'));
  try {
    resultOf(redirected.body);
    assert.unreachable();
  } catch (error) {
    assert.is((error as PetrelError).code, 'NOT_LEADER');
    assert.is((error as PetrelError & { leader?: string }).leader, '127.0.0.1:34602');
  }
});

test('unknown types and hostile bytes fail with a PetrelError only', () => {
  assert.throws(() => decodeClusterMessage(encodeClusterMessage(0x0101, 1, null)), /unknown cluster message type/);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        decodeClusterMessage(bytes);
      } catch (error) {
        assert.ok(error instanceof PetrelError, String(error));
      }
    }),
    propertyParameters(2000, 20000),
  );
});

test.run();
