/** @petrel/wal: not built yet (see the open issues). */
export {};
