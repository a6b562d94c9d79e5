/** @petrel/protocol: not built yet (see the open issues). */
export {};
