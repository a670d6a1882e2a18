/**
 * The shape of a venue's kit-rule case (test/kit-rules.test.ts): how to open a session on one
 * symbol's book and trades, feed it a snapshot, an update and a trade, count its snapshot asks and
 * refuse one. Timers are the test's (fake) ones, reached through `KitRuleEnv`.
 */
import type { StreamSpec, VenueSession } from '../../src/venues/contract.js';
import type { RecordingContext } from './recording-context.js';

export type Level = [string, string];

export interface KitRuleEnv {
  /** Book-resync timing every session is opened with. */
  readonly timing: { readonly minResyncIntervalMs: number; readonly snapshotTimeoutMs: number };
  /** Advance the (fake) timers by `ms`, running what comes due. */
  advance(ms: number): Promise<unknown>;
}

export interface KitRuleCase {
  /** A session carrying the book and trades of one symbol (id 1). */
  open(rc: RecordingContext): VenueSession;
  /**
   * Deliver a good snapshot (bid 100 × 1, ask 101 × 1) by the venue's mechanism: a frame, or the
   * REST answer to the pending fetch (plus a bridging diff where the venue's rule waits for one).
   */
  snapshot(rc: RecordingContext, s: VenueSession, n: number): Promise<void>;
  /** A snapshot frame with one bad level; undefined where snapshots come by REST. */
  badSnapshot?(bad: Level): string;
  /** Where snapshots come by REST: the next REST snapshot has one bad level. */
  badRestSnapshot?(bad: Level): void;
  /** An update of the synced book (after snapshot `n`) carrying one good and one bad level. */
  update(n: number, bad: Level): string;
  trade(price: string, amount: string): string;
  /** Snapshot asks sent so far (resubscribes or REST fetches, the first subscribe excluded). */
  asks(rc: RecordingContext): number;
  /** The venue refuses the last ask. Binance: the next fetch fails. */
  refuse(rc: RecordingContext, s: VenueSession): void;
}

export const KIT_RULE_TS = '2024-01-01T00:00:00.000Z';

/** Stream `channel` of `symbol` under symbol id 1. */
export const ruleSpec = (channel: 'book' | 'trades', symbol: string, native: string): StreamSpec => ({
  channel,
  symbol,
  symbolId: 1,
  native,
});

/** Subscribe frames sent so far (`key` is the venue's operation field). */
export const subscribes = (rc: RecordingContext, key: 'method' | 'op' | 'type') =>
  rc.sent.filter((t) => JSON.parse(t)[key] === 'subscribe').length;

