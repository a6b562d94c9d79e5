/** @petrel/pacifica: not built yet (see the open issues). */
export {};
