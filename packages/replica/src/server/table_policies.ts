/**
 * Table envs that change how a replica server serves a table (set with `set_app_envs`, pushed by
 * the meta). Pegasus's names and formats:
 *
 * - `replica.deny_client_request` = `<timeout|reconfig>*<read|write|all>` (also `true` = timeout*all):
 *   requests of that scope are dropped unanswered (the client times out) or answered
 *   SERVER_CHANGED (the client refreshes its routing and retries until its timeout).
 * - `replica.write_throttling` = comma-separated `<qps>*<delay|reject>*<ms>` rules, per partition
 *   primary (as in Pegasus): above `qps` writes per second a write is delayed `ms` milliseconds, or
 *   refused with APP_BUSY (`reject`). `replica.write_throttling_by_size`: the same in bytes per second.
 * - `default_ttl` (seconds): the TTL of writes without one, and of old records at compaction
 *   (handled by the storage app).
 * - `manual_compact.once.trigger_time` (unix seconds): every replica of the table compacts all of
 *   its data once, when it sees a trigger time it has not acted on.
 *
 * A malformed value is ignored (with a log line), never half-applied.
 */
import { PetrelError } from '@petrel/base';

export interface DenyRule {
  action: 'timeout' | 'reconfig';
  reads: boolean;
  writes: boolean;
}

export interface ThrottleRule {
  /** Units (writes or bytes) per second above which the rule acts. */
  limit: number;
  action: 'delay' | 'reject';
  delayMs: number;
}

export interface TablePolicy {
  deny: DenyRule | undefined;
  writeThrottling: ThrottleRule[];
  writeThrottlingBySize: ThrottleRule[];
  manualCompactTriggerTime: number | undefined;
}

export function parseDeny(value: string | undefined): DenyRule | undefined {
  if (value === undefined || value === '' || value === 'false') return undefined;
  if (value === 'true') return { action: 'timeout', reads: true, writes: true };
  const match = /^(timeout|reconfig)\*(read|write|all)$/.exec(value.trim());
  if (match === null) throw new PetrelError('INVALID_ARGUMENT', `replica.deny_client_request: expected <timeout|reconfig>*<read|write|all>, not ${JSON.stringify(value)}`);
  const scope = match[2];
  return { action: match[1] as 'timeout' | 'reconfig', reads: scope !== 'write', writes: scope !== 'read' };
}

export function parseThrottling(value: string | undefined, what: string): ThrottleRule[] {
  if (value === undefined || value.trim() === '') return [];
  const rules = value.split(',').map((part) => {
    const match = /^\s*(\d+)([KM]?)\*(delay|reject)\*(\d+)\s*$/.exec(part);
    if (match === null) throw new PetrelError('INVALID_ARGUMENT', `${what}: expected <limit>*<delay|reject>*<ms>[,…], not ${JSON.stringify(part)}`);
    const scale = match[2] === 'K' ? 1000 : match[2] === 'M' ? 1_000_000 : 1;
    return { limit: Number(match[1]) * scale, action: match[3] as 'delay' | 'reject', delayMs: Number(match[4]) };
  });
  return rules.sort((a, b) => a.limit - b.limit);
}

export function parsePolicy(envs: Record<string, string>, log: (line: string) => void): TablePolicy {
  const policy: TablePolicy = { deny: undefined, writeThrottling: [], writeThrottlingBySize: [], manualCompactTriggerTime: undefined };
  const attempt = (apply: () => void): void => {
    try {
      apply();
    } catch (error) {
      log(`replica: ignoring a table env: ${String(error instanceof Error ? error.message : error)}`);
    }
  };
  attempt(() => (policy.deny = parseDeny(envs['replica.deny_client_request'])));
  attempt(() => (policy.writeThrottling = parseThrottling(envs['replica.write_throttling'], 'replica.write_throttling')));
  attempt(() => (policy.writeThrottlingBySize = parseThrottling(envs['replica.write_throttling_by_size'], 'replica.write_throttling_by_size')));
  const trigger = envs['manual_compact.once.trigger_time'];
  if (trigger !== undefined && /^\d+$/.test(trigger)) policy.manualCompactTriggerTime = Number(trigger);
  return policy;
}

/**
 * A sliding one-second window of what a partition's primary accepted: `decide` says whether a
 * write of `units` may go now, after a delay, or not at all, under the rules.
 */
export class Throttle {
  private readonly stamps: number[] = [];
  private readonly units: number[] = [];
  private sum = 0;
  private head = 0;

  decide(rules: readonly ThrottleRule[], nowMs: number, units: number): { action: 'accept' } | { action: 'delay'; ms: number } | { action: 'reject' } {
    this.expire(nowMs);
    const after = this.sum + units;
    // The strictest rule the rate would cross.
    let reject = false;
    let delayMs = 0;
    for (const rule of rules) {
      if (after <= rule.limit) continue;
      if (rule.action === 'reject') reject = true;
      else delayMs = Math.max(delayMs, rule.delayMs);
    }
    if (reject) return { action: 'reject' };
    this.record(nowMs, units);
    return delayMs > 0 ? { action: 'delay', ms: delayMs } : { action: 'accept' };
  }

  private record(nowMs: number, units: number): void {
    this.stamps.push(nowMs);
    this.units.push(units);
    this.sum += units;
  }

  private expire(nowMs: number): void {
    while (this.head < this.stamps.length && nowMs - (this.stamps[this.head] as number) >= 1000) {
      this.sum -= this.units[this.head] as number;
      this.head++;
    }
    if (this.head > 4096 && this.head * 2 > this.stamps.length) {
      this.stamps.splice(0, this.head);
      this.units.splice(0, this.head);
      this.head = 0;
    }
  }
}
