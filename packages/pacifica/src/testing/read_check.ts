/**
 * For the simulators: a replica server answers a read at once when its core's `isServing` says
 * so, without a clientRead step. That query must decide as the step does, every time; this step
 * checks it on each clientRead it is given.
 */
import type { ReplicaServerEffect, ReplicaServerInput } from '../effects.js';
import type { ReplicaServerCore } from '../replica_server_core.js';

/** `core.step(input)`; throws when `input` is a clientRead and isServing disagreed with the step. */
export function stepCheckingReads(core: ReplicaServerCore, input: ReplicaServerInput, node: string): ReplicaServerEffect[] {
  const read = input.type === 'message' && input.message.type === 'clientRead' ? input.message : undefined;
  if (read === undefined) return core.step(input);
  const expected = core.isServing(read.gpid, input.now);
  const effects = core.step(input);
  const served = effects.some((effect) => effect.type === 'read' && effect.requestId === read.requestId);
  if (served !== expected) throw new Error(`${node}: isServing(${read.gpid}) said ${expected}, but the clientRead step ${served ? 'read' : 'refused'}`);
  return effects;
}
