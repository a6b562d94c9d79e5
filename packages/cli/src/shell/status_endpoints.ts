/**
 * The servers' HTTP status endpoints (`/health`, `/metrics`; a server has one when started with
 * --http-port). The meta does not know the replica servers' status ports, so the shell learns
 * them from the operator: `-l host:port,...` on the command, `--http host:port,...` for the
 * session, or `--http-port-offset N` (status port = server port + N, as `petrel onebox
 * --http-ports` sets them up with N = 1000). Each endpoint's `/health` says which server it is.
 */
import type { ShellContext } from './context.js';
import { ShellError } from './errors.js';
import { optionText, type ParsedArguments } from './options.js';
import { type Sample, parseMetricsText } from './metrics_text.js';

export type ServerRole = 'meta-server' | 'replica-server';

export interface StatusEndpoint {
  /** host:port of the HTTP endpoint. */
  http: string;
  role: ServerRole | undefined;
  /** The server's own address (its node id), from /health. */
  address: string | undefined;
  health: Record<string, unknown> | undefined;
  /** Why /health could not be read. */
  error: string | undefined;
}

const HTTP_TIMEOUT_CAP_MS = 3000;

async function fetchText(context: ShellContext, http: string, path: string): Promise<{ status: number; text: string }> {
  const timeoutMs = Math.min(context.timeoutMs, HTTP_TIMEOUT_CAP_MS);
  const signal = AbortSignal.any([context.signal, AbortSignal.timeout(timeoutMs)]);
  try {
    const response = await fetch(`http://${http}${path}`, { signal });
    return { status: response.status, text: await response.text() };
  } catch (error) {
    context.checkInterrupted();
    const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error instanceof Error ? error.name : String(error));
    throw new ShellError('HTTP_ERROR', `GET http://${http}${path} failed (${reason === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : reason})`);
  }
}

export async function fetchMetrics(context: ShellContext, http: string): Promise<Sample[]> {
  const { status, text } = await fetchText(context, http, '/metrics');
  if (status !== 200) throw new ShellError('HTTP_ERROR', `GET http://${http}/metrics answered ${status}`);
  return parseMetricsText(text);
}

async function probe(context: ShellContext, http: string): Promise<StatusEndpoint> {
  try {
    const { text } = await fetchText(context, http, '/health');
    const health = JSON.parse(text) as Record<string, unknown>;
    const role: ServerRole | undefined = typeof health.metaServer === 'string' ? 'meta-server' : typeof health.address === 'string' ? 'replica-server' : undefined;
    const address = role === 'meta-server' ? (health.metaServer as string) : role === 'replica-server' ? (health.address as string) : undefined;
    return { http, role, address, health, error: undefined };
  } catch (error) {
    context.checkInterrupted();
    return { http, role: undefined, address: undefined, health: undefined, error: error instanceof Error ? error.message : String(error) };
  }
}

function withPortOffset(address: string, offset: number): string {
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  return `${address.slice(0, colon)}:${port + offset}`;
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

/** The `-l` and `-t` options of server_info and server_stat. */
export const ENDPOINT_OPTIONS = [
  { short: 't', long: 'type', kind: 'value', valueName: 'all|meta-server|replica-server', description: 'which servers (default all)' },
  { short: 'l', long: 'list', kind: 'value', valueName: 'host:port,...', description: 'status endpoints (HTTP) to ask, instead of the session ones' },
] as const;

export const ENDPOINT_DETAILS: readonly string[] = [
  "The numbers come from the servers' HTTP status endpoints (/health, /metrics), which exist when",
  'a server runs with --http-port. The meta does not know those ports: give them with -l, with the',
  "shell's --http host:port,..., or with --http-port-offset N when every status port is the",
  'server port + N (`petrel onebox --http-ports` uses 1000).',
];

/** The endpoints the session knows (or `-l` names), each identified by its /health. */
export async function discoverEndpoints(context: ShellContext, args: ParsedArguments | undefined, knownReplicas: () => Promise<string[]>): Promise<StatusEndpoint[]> {
  const listed = args === undefined ? undefined : optionText(args, 'list');
  let https: string[];
  if (listed !== undefined) https = splitList(listed);
  else if (context.settings.httpEndpoints.length > 0) https = context.settings.httpEndpoints;
  else if (context.settings.httpPortOffset !== undefined) {
    const offset = context.settings.httpPortOffset;
    https = [...context.settings.metaServers, ...(await knownReplicas())].map((address) => withPortOffset(address.replace(/^wss?:\/\//, ''), offset));
  } else https = [];
  const unique = [...new Set(https)];
  const endpoints = await Promise.all(unique.map((http) => probe(context, http)));
  const type = args === undefined ? undefined : optionText(args, 'type');
  if (type !== undefined && type !== 'all' && type !== 'meta-server' && type !== 'replica-server') throw new ShellError('USAGE', `--type must be all, meta-server or replica-server, not ${JSON.stringify(type)}`);
  return endpoints.filter((endpoint) => type === undefined || type === 'all' || endpoint.role === type || endpoint.role === undefined);
}

export function noEndpointsNote(): string {
  return 'no status endpoints known: start the servers with --http-port and give them with -l, or start the shell with --http host:port,... or --http-port-offset N';
}
