/**
 * Server addresses. Meta addresses come from the user (`host:port` or `ws://host:port`), replica
 * addresses from routing tables; both are reduced to one canonical `host:port` so that the pool
 * keeps one session per server whatever the spelling.
 */
import { parseAddress } from '@petrel/protocol';

/** `host:port` (IPv6 hosts in brackets); INVALID_ARGUMENT for anything else. */
export function canonicalAddress(address: string): string {
  const { host, port } = parseAddress(address);
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
