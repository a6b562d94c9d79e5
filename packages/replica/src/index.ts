/** @petrel/replica: not built yet (see the open issues). */
export {};
