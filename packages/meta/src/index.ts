/** @petrel/meta: not built yet (see the open issues). */
export {};
