/** Every system the bench knows, by name: Petrel, its peers, and the in-process baseline. */
import { PetrelError } from '@petrel/base';
import { EtcdSystem } from './etcd_cluster.js';
import { MemorySystem } from './memory_system.js';
import { PetrelSystem } from './petrel_cluster.js';
import { RedisSystem } from './redis_server.js';
import type { SystemUnderTest } from './system.js';

export const SYSTEMS: Readonly<Record<string, () => SystemUnderTest>> = {
  petrel: () => new PetrelSystem(),
  redis: () => new RedisSystem(),
  etcd: () => new EtcdSystem(),
  memory: () => new MemorySystem(),
};

/** The systems Petrel is compared with. */
export const PEERS = ['redis', 'etcd'] as const;

export function systemNamed(name: string): SystemUnderTest {
  const make = SYSTEMS[name];
  if (make === undefined) throw new PetrelError('INVALID_ARGUMENT', `unknown system ${name}: expected one of ${Object.keys(SYSTEMS).join(', ')}`);
  return make();
}
