/** @petrel/lsm: not built yet (see the open issues). */
export {};
