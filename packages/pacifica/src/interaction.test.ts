/**
 * Data-driven interaction tests (testdata/*.txt; `--rewrite` regenerates the expected outputs, to
 * be reviewed as a diff). Each file scripts a small cluster — a meta and three replica servers —
 * through one classic scenario, message by message where it matters:
 *
 *   cluster nodes=n1,n2,n3 partitions=1 replicas=3 [option=value ...]   a new cluster
 *   run ms=N            time passes with an instant network (tick + stabilize every tick)
 *   tick ms=N           time passes, nothing is delivered
 *   propose node=n value=v [gpid=1.0]   a client write sent to n
 *   read node=n [gpid=1.0]              a client read sent to n
 *   deliver|drop [from=a] [to=b] [type=t]   queued messages that match, once
 *   sync [node=n]       pending log syncs complete
 *   stabilize           deliver and sync until quiet
 *   crash|restart node=n      (node=meta for the meta)
 *   partition a=x b=y [oneway]   cut links; heal
 *   fail-log node=n     the next log sync of n fails (EIO)
 *   checkpoint node=n [gpid=1.0]  durable checkpoint on n, log truncated up to it
 *   state | pending     configurations and replica states | queued messages
 */
import { joinPath, runDataDriven, type DataDrivenCase } from '@petrel/base';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import { defaultReplicationOptions, replicationOptions, type ReplicationOptions } from './options.js';
import { ClusterHarness } from './testing/cluster_harness.js';

const testdata = joinPath(import.meta.dirname, '..', 'testdata');

function handler(): (c: DataDrivenCase) => string {
  let cluster: ClusterHarness | undefined;
  const need = (): ClusterHarness => {
    if (cluster === undefined) throw new Error('no cluster: start with `cluster`');
    return cluster;
  };
  const arg = (c: DataDrivenCase, name: string): string => {
    const value = c.args.get(name);
    if (value === undefined) throw new Error(`${c.command}: missing ${name}=`);
    return value;
  };
  const filter = (c: DataDrivenCase): { from?: string; to?: string; type?: string } => {
    const out: { from?: string; to?: string; type?: string } = {};
    const from = c.args.get('from');
    const to = c.args.get('to');
    const type = c.args.get('type');
    if (from !== undefined) out.from = from;
    if (to !== undefined) out.to = to;
    if (type !== undefined) out.type = type;
    return out;
  };
  return (c) => {
    switch (c.command) {
      case 'cluster': {
        const overrides: Record<string, number> = {};
        for (const [key, value] of c.args) {
          if (key in defaultReplicationOptions) overrides[key] = Number(value);
        }
        const options: ReplicationOptions = replicationOptions(overrides as Partial<ReplicationOptions>);
        cluster = new ClusterHarness({
          nodes: arg(c, 'nodes').split(','),
          partitions: Number(c.args.get('partitions') ?? 1),
          replicaCount: Number(c.args.get('replicas') ?? 3),
          options,
        });
        cluster.takeEvents();
        return cluster.describeState().join('\n');
      }
      case 'run':
        need().run(Number(arg(c, 'ms')));
        return need().takeEvents().join('\n');
      case 'tick':
        need().tick(Number(arg(c, 'ms')));
        return need().takeEvents().join('\n');
      case 'propose':
        need().propose(arg(c, 'node'), c.args.get('gpid') ?? '1.0', arg(c, 'value'));
        return need().takeEvents().join('\n');
      case 'read':
        need().read(arg(c, 'node'), c.args.get('gpid') ?? '1.0');
        return need().takeEvents().join('\n');
      case 'deliver':
      case 'drop': {
        const harness = need();
        harness.logDeliveries = true;
        const count = harness.deliver(filter(c), c.command === 'drop');
        harness.logDeliveries = false;
        const events = harness.takeEvents();
        return count === 0 ? 'nothing matched' : events.join('\n');
      }
      case 'sync':
        need().sync(c.args.get('node'), true);
        return need().takeEvents().join('\n');
      case 'stabilize':
        need().stabilize();
        return need().takeEvents().join('\n');
      case 'crash':
        need().crash(arg(c, 'node'));
        return need().takeEvents().join('\n');
      case 'restart':
        need().restart(arg(c, 'node'));
        return need().takeEvents().join('\n');
      case 'partition':
        need().partition(arg(c, 'a'), arg(c, 'b'), c.args.has('oneway'));
        return need().takeEvents().join('\n');
      case 'heal':
        need().heal();
        return need().takeEvents().join('\n');
      case 'fail-log':
        need().failNextSync(arg(c, 'node'));
        return need().takeEvents().join('\n');
      case 'checkpoint':
        return `checkpoint at ${need().checkpointAndTruncate(arg(c, 'node'), c.args.get('gpid') ?? '1.0')}`;
      case 'state':
        return need().describeState().join('\n');
      case 'pending':
        return need().pendingMessages().join('\n');
      default:
        throw new Error(`unknown command ${c.command}`);
    }
  };
}

for (const file of readdirSync(testdata).filter((name) => name.endsWith('.txt')).sort()) {
  test(`interaction scenario testdata/${file}`, async () => {
    const mismatches = await runDataDriven(joinPath(testdata, file), handler());
    assert.equal(mismatches, [], mismatches.join('\n\n'));
  });
}

test.run();
