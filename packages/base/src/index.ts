/** @petrel/base: what every other package stands on. */
export { assert, unreachable, AssertionError } from './assert.js';
export { PetrelError, isPetrelError, isErrorCode, ERROR_CODES, type ErrorCode, type PetrelErrorDetails } from './errors.js';
export { BufferReader, BufferWriter, encodeWithScratch, grownBuffer, putVarint, varintLength } from './coding.js';
export { initChecksum, xxh64, xxh32, checksum32, createXxh64, type Hasher64 } from './checksum.js';
export { Prng } from './random.js';
export { type Clock, SystemClock, ManualClock, systemClock } from './clock.js';
export { type Vfs, type VfsFile, type OpenOptions, type FileStat, readExact, readExactSync } from './vfs/vfs.js';
export { NodeVfs, nodeVfs } from './vfs/node_vfs.js';
export { MemVfs, type MemVfsOptions } from './vfs/mem_vfs.js';
export { FaultVfs, type FaultOp, type FaultRule } from './vfs/fault_vfs.js';
export { joinPath, baseName, dirName } from './path.js';
export { isLongRun, propertyParameters, type PropertyParameters } from './testing.js';
export { runDataDriven, parseDataDriven, type DataDrivenCase } from './datadriven.js';
export { startWorker } from './worker.js';
export { Counter, Gauge, Histogram, MetricsRegistry, GC_PAUSE_BUCKETS_SECONDS, LATENCY_BUCKETS_SECONDS, registerGcPauses, startStatusServer, type Labels, type StatusServerOptions } from './metrics.js';
export { IdMap } from './id_map.js';
