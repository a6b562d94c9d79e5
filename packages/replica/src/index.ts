/** @petrel/replica: the partition state machine (storage app) and its storage engines. */
export * from './app/index.js';
