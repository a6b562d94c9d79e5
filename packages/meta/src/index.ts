/** @petrel/meta: the meta server. So far: its state stores. */
export { type StateStore, type StateChange } from './state/state_store.js';
export { LocalStateStore, type LocalStateStoreOptions } from './state/local_state_store.js';
