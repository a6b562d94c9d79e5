/** @petrel/client: not built yet (see the open issues). */
export {};
