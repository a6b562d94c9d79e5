/** The conformance suite (CLIENT_API.md semantics, after Pegasus's function tests) over the lsm engine. */
import { initChecksum } from '@petrel/base';
import { atomicSuite } from './atomic_suite.js';
import { basicSuite } from './basic_suite.js';
import { ENGINES } from './harness.js';
import { ttlScanSuite } from './ttl_scan_suite.js';

await initChecksum();
basicSuite('lsm', ENGINES.lsm);
atomicSuite('lsm', ENGINES.lsm);
ttlScanSuite('lsm', ENGINES.lsm);
