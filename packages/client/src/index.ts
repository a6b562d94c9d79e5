/** @petrel/client: the WebSocket SDK of Petrel, with the API of CLIENT_API.md. */
export { PetrelClient, DEFAULT_TIMEOUT_MS, DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION, DEFAULT_MAX_QUEUED_PER_CONNECTION, DEFAULT_CONNECT_TIMEOUT_MS } from './client.js';
export { PetrelError, isPetrelError, type ErrorCode } from '@petrel/base';
export { MAX_WRITE_BYTES } from './arguments.js';
export type {
  Admin,
  Bytes,
  CheckResult,
  CheckType,
  ClientOptions,
  CreateTableOptions,
  FetchLimits,
  Filter,
  FilterType,
  MultiGetResult,
  Mutation,
  NodeInfo,
  PartitionConfig,
  RangeOptions,
  Record_,
  ScanOptions,
  Scanner,
  Table,
  TableInfo,
  Timeout,
  TtlOptions,
} from './types.js';
