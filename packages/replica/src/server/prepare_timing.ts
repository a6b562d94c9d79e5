/**
 * How long the two halves of a write's replication take, as seen by one replica server:
 *
 * - `primary`: from sending a prepare to a secondary (or learner) until its ack arrives — the
 *   network both ways, the secondary's queue, its log write and fsync, and its event loop;
 * - `secondary`: from a prepare's arrival here until this server sends its ack — the part of the
 *   above spent on this server.
 *
 * The two together say whether a slow write waited on its peers or on the wire between them.
 * Bounded: a prepare that never gets its ack (a peer that died) is forgotten once more than
 * `limit` are outstanding, oldest first.
 */
import type { Histogram } from '@petrel/base';
import type { Message as PacificaMessage, NodeId } from '@petrel/pacifica';

export class PrepareTiming {
  private readonly sent = new Map<string, number>();
  private readonly received = new Map<string, number>();
  private readonly primary: { observe(value: number): void };
  private readonly secondary: { observe(value: number): void };

  constructor(
    histogram: Histogram,
    private readonly now: () => number = () => performance.now(),
    private readonly limit = 10_000,
  ) {
    this.primary = histogram.child({ side: 'primary' });
    this.secondary = histogram.child({ side: 'secondary' });
  }

  /** A message this server is sending to `to`. */
  sending(to: NodeId, message: PacificaMessage): void {
    if (message.type === 'prepare') {
      remember(this.sent, `${to}|${message.mutation.gpid}|${message.mutation.decree}`, this.now(), this.limit);
    } else if (message.type === 'prepareAck') {
      const key = `${message.gpid}|${message.decree}`;
      const started = this.received.get(key);
      if (started === undefined) return;
      this.received.delete(key);
      this.secondary.observe((this.now() - started) / 1000);
    }
  }

  /** A message that arrived from `from`. */
  receiving(from: NodeId, message: PacificaMessage): void {
    if (message.type === 'prepare') {
      remember(this.received, `${message.mutation.gpid}|${message.mutation.decree}`, this.now(), this.limit);
    } else if (message.type === 'prepareAck') {
      const key = `${from}|${message.gpid}|${message.decree}`;
      const started = this.sent.get(key);
      if (started === undefined) return;
      this.sent.delete(key);
      if (message.error === undefined) this.primary.observe((this.now() - started) / 1000);
    }
  }

  /** Outstanding prepares (for tests). */
  get outstanding(): { sent: number; received: number } {
    return { sent: this.sent.size, received: this.received.size };
  }
}

function remember(map: Map<string, number>, key: string, time: number, limit: number): void {
  // A prepare sent again (a retry) is timed from its first sending.
  if (map.has(key)) return;
  if (map.size >= limit) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
  map.set(key, time);
}
