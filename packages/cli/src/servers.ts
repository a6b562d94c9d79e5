/**
 * `petrel meta` and `petrel replica`: run one server in this process until SIGINT/SIGTERM. When
 * the server serves, one JSON line `{"event":"ready",...}` goes to stdout; human-readable logs go
 * to stderr.
 */
import { initChecksum } from '@petrel/base';
import { HaMetaServer, MetaServer } from '@petrel/meta';
import { ReplicaServer } from '@petrel/replica';
import { type FlagSpec, integerFlag, parseFlags, requireFlag, UsageError, usage } from './args.js';

export const META_FLAGS: Record<string, FlagSpec> = {
  listen: { description: 'host:port to serve on', default: '127.0.0.1:34601' },
  'data-dir': { description: 'where the local state store lives', default: './.petrel-meta' },
  'http-port': { description: 'port of /metrics and /health (0: any; absent: none)' },
  state: { description: 'state store: local or zookeeper', default: 'local' },
  zk: { description: 'ZooKeeper connection string with chroot (for --state zookeeper), e.g. 127.0.0.1:2181/petrel' },
  'zk-session-ms': { description: 'ZooKeeper session timeout: how soon a dead leader is replaced', default: '6000' },
  'min-alive-percent': { description: 'below this % of known replica servers alive, the meta stops curing (freezed)', default: '65' },
  help: { kind: 'switch', description: 'show this help' },
};

export const REPLICA_FLAGS: Record<string, FlagSpec> = {
  listen: { description: 'host:port to serve on (its node id)', default: '127.0.0.1:34801' },
  meta: { description: 'meta server addresses, comma-separated', default: '127.0.0.1:34601' },
  'data-dir': { description: 'where the replicas live', default: './.petrel-replica' },
  'http-port': { description: 'port of /metrics and /health (0: any; absent: none)' },
  'background-nice': { description: 'nice value (0-19) of the compaction and flush threads on Linux, so that they yield the cores to requests (0: no lower)', default: '10' },
  help: { kind: 'switch', description: 'show this help' },
};

function ready(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ event: 'ready', pid: process.pid, ...event })}\n`);
}

function untilSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${signal}: stopping\n`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`stop failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}

export async function runMeta(args: string[]): Promise<void> {
  const { flags } = parseFlags(args, META_FLAGS);
  if (flags.help !== undefined) {
    console.log(usage('meta', 'Runs a meta server: tables, partition configurations, routing.', META_FLAGS));
    return;
  }
  await initChecksum();
  const httpPort = integerFlag(flags, 'http-port');
  const listen = requireFlag(flags, 'listen');
  const minAlivePercentForCure = integerFlag(flags, 'min-alive-percent') ?? 65;
  if (minAlivePercentForCure < 0 || minAlivePercentForCure > 100) throw new UsageError(`--min-alive-percent must be 0..100, not ${minAlivePercentForCure}`);
  const replication = { minAlivePercentForCure };
  if (flags.state === 'zookeeper') {
    const server = await HaMetaServer.start({
      listen,
      replication,
      zk: requireFlag(flags, 'zk'),
      sessionTimeoutMs: integerFlag(flags, 'zk-session-ms') ?? 6000,
      ...(httpPort === undefined ? {} : { httpPort }),
      onRoleChange: (role) => process.stdout.write(`${JSON.stringify({ event: 'role', role, address: listen })}\n`),
    });
    ready({ role: 'meta', address: server.address, state: 'zookeeper', httpPort: httpPort ?? null });
    untilSignal(() => server.stop());
    return;
  }
  if (flags.state !== 'local') throw new UsageError(`--state must be local or zookeeper, not ${JSON.stringify(flags.state)}`);
  const server = await MetaServer.start({
    listen,
    replication,
    dataDir: requireFlag(flags, 'data-dir'),
    ...(httpPort === undefined ? {} : { httpPort }),
  });
  ready({ role: 'meta', address: server.address, state: 'local', httpPort: server.httpPort ?? null });
  untilSignal(() => server.stop());
}

export async function runReplica(args: string[]): Promise<void> {
  const { flags } = parseFlags(args, REPLICA_FLAGS);
  if (flags.help !== undefined) {
    console.log(usage('replica', 'Runs a replica server: hosts partition replicas, serves clients.', REPLICA_FLAGS));
    return;
  }
  await initChecksum();
  const httpPort = integerFlag(flags, 'http-port');
  const backgroundNice = integerFlag(flags, 'background-nice') ?? 10;
  if (backgroundNice > 19) throw new UsageError(`--background-nice must be 0..19, not ${backgroundNice}`);
  // Read when the process's shared compaction and flush pools are made (@petrel/lsm pool.ts).
  process.env.PETREL_BACKGROUND_NICE = String(backgroundNice);
  const server = await ReplicaServer.start({
    listen: requireFlag(flags, 'listen'),
    meta: requireFlag(flags, 'meta').split(',').map((address) => address.trim()).filter((address) => address !== ''),
    dataDir: requireFlag(flags, 'data-dir'),
    ...(httpPort === undefined ? {} : { httpPort }),
  });
  ready({ role: 'replica', address: server.address, httpPort: server.httpPort ?? null });
  untilSignal(() => server.stop());
}
