/**
 * The fake meta server's answers to client ↔ meta requests (cluster envelope, value-codec
 * bodies; doc of the shapes: packages/client/doc/meta_requests.md). Tables live in the shared
 * ClusterState. A meta that is not the leader answers every request with NOT_LEADER, naming the
 * leader when the cluster is told to.
 */
import { PetrelError } from '@petrel/base';
import type { ClusterMessageName, PlainValue } from '@petrel/protocol';
import type { ClusterState, FakeTable } from './state.js';

export interface MetaBehaviour {
  /** How long a new table stays without primaries before the meta makes it healthy. */
  createHealthyAfterMs: number;
  /** Called to schedule work that stop() must cancel. */
  later(ms: number, work: () => void): void;
}

type Fields = Record<string, PlainValue | undefined>;

function fields(body: PlainValue): Fields {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || body instanceof Uint8Array) throw new PetrelError('INVALID_ARGUMENT', 'request body must be an object');
  return body as Fields;
}

function str(value: PlainValue | undefined, name: string): string {
  if (typeof value !== 'string') throw new PetrelError('INVALID_ARGUMENT', `${name} must be a string`);
  return value;
}

function envsOf(value: PlainValue | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === undefined || value === null) return out;
  for (const [key, entry] of Object.entries(fields(value))) out[key] = str(entry, `envs.${key}`);
  return out;
}

export function answerMeta(state: ClusterState, behaviour: MetaBehaviour, name: ClusterMessageName, body: PlainValue): unknown {
  switch (name) {
    case 'createTable': {
      const request = fields(body);
      const tableName = str(request.name, 'name');
      if (!/^[0-9a-zA-Z._:]{1,256}$/.test(tableName)) throw new PetrelError('INVALID_APP_NAME', `bad table name ${tableName}`);
      const partitionCount = request.partitionCount;
      if (typeof partitionCount !== 'number' || !Number.isInteger(partitionCount) || partitionCount < 1) throw new PetrelError('INVALID_PAR_COUNT', `bad partition count ${String(partitionCount)}`);
      const replicaCount = request.replicaCount;
      if (typeof replicaCount !== 'number' || !Number.isInteger(replicaCount) || replicaCount < 1 || replicaCount > state.replicaAddresses.length) {
        throw new PetrelError('INVALID_REP_COUNT', `replica count ${String(replicaCount)} with ${state.replicaAddresses.length} replica servers`);
      }
      const existing = state.byName(tableName);
      if (existing !== undefined) {
        if (request.successIfExists === true) return existing.info;
        throw new PetrelError('APP_EXIST', `table ${tableName} exists`);
      }
      const healthy = behaviour.createHealthyAfterMs <= 0;
      const table = state.create(tableName, partitionCount, replicaCount, envsOf(request.envs), healthy);
      if (!healthy) behaviour.later(behaviour.createHealthyAfterMs, () => state.makeHealthy(table));
      return table.info;
    }
    case 'dropTable': {
      const request = fields(body);
      const table = state.require(str(request.name, 'name'));
      const now = Math.floor(Date.now() / 1000);
      table.info.status = 'dropped';
      table.info.dropTime = now;
      table.info.reserveUntil = now + (typeof request.reserveSeconds === 'number' ? request.reserveSeconds : 7 * 24 * 3600);
      return null;
    }
    case 'recallTable': {
      const request = fields(body);
      const table = state.tables.get(Number(request.id));
      if (table === undefined || table.info.status !== 'dropped') throw new PetrelError('APP_NOT_EXIST', `no dropped table with id ${String(request.id)}`);
      const newName = request.newName === undefined ? table.info.name : str(request.newName, 'newName');
      if (state.byName(newName) !== undefined) throw new PetrelError('APP_EXIST', `table ${newName} exists`);
      table.info.name = newName;
      table.info.status = 'available';
      delete table.info.dropTime;
      delete table.info.reserveUntil;
      return table.info;
    }
    case 'listTables': {
      const includeDropped = fields(body).includeDropped === true;
      return [...state.tables.values()].filter((table) => includeDropped || table.info.status !== 'dropped').map((table) => table.info);
    }
    case 'tableInfo':
    case 'queryRouting':
      return state.routingOf(state.require(str(fields(body).name, 'name')));
    case 'setTableEnvs': {
      const request = fields(body);
      const table: FakeTable = state.require(str(request.name, 'name'));
      state.setEnvs(table, { ...table.info.envs, ...envsOf(request.envs) });
      return null;
    }
    case 'delTableEnvs': {
      const request = fields(body);
      const table = state.require(str(request.name, 'name'));
      const keys = request.keys;
      if (!Array.isArray(keys)) throw new PetrelError('INVALID_ARGUMENT', 'keys must be a list');
      const envs = { ...table.info.envs };
      for (const key of keys) delete envs[str(key, 'key')];
      state.setEnvs(table, envs);
      return null;
    }
    case 'listNodes':
      return state.replicaAddresses.map((address, server) => ({ address, alive: true, ...state.roleCounts(server) }));
    case 'clusterInfo':
      return { replicaServers: state.replicaAddresses.length, tables: [...state.tables.values()].filter((table) => table.info.status !== 'dropped').length, fake: true };
    default:
      throw new PetrelError('INVALID_ARGUMENT', `the fake meta does not answer ${name}`);
  }
}
