/** @petrel/protocol: the wire format and the transport that carries it. */
export { encodeBatch, decodeBatch } from './transport/batch.js';
export { Connection, type ConnectionLimits, type CloseHandler, DEFAULT_LIMITS } from './transport/connection.js';
export { listen, connect, parseAddress, type Listener, type ListenOptions } from './transport/endpoint.js';
export * from './data_model/index.js';
export * from './messages/index.js';
export { encodeValue, decodeValue, type PlainValue } from './cluster/value_codec.js';
export * from './cluster/cluster_messages.js';
