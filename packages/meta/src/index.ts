/** @petrel/meta: the meta server, its table catalog and its state stores. */
export { type StateStore, type StateChange } from './state/state_store.js';
export { LocalStateStore, type LocalStateStoreOptions } from './state/local_state_store.js';
export { ZookeeperStateStore, type ZookeeperStateStoreOptions } from './state/zookeeper_state_store.js';
export { TableCatalog, type TableRecord } from './server/catalog.js';
export { MetaServer, type MetaServerOptions } from './server/meta_server.js';
export { HaMetaServer, type HaMetaServerOptions } from './server/ha_meta_server.js';
