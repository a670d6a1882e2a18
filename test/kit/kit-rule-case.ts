/**
 * The shape of a venue's kit-rule case (test/kit-rules.test.ts): how to open a session on one
 * symbol's book and trades, feed it a snapshot, an update and a trade, count its snapshot asks and
 * refuse one. Timers are the test's (fake) ones, reached through `KitRuleEnv`.
 */
import type { StreamSpec, TcpSession, VenueSession } from '../../src/venues/contract.js';
import type { RecordingContext } from './recording-context.js';

export type Level = [string, string];

/** A session of a WebSocket venue (text frames) or of a TCP venue (whole binary frames). */
export type RuleSession = VenueSession | TcpSession<Buffer>;
export type RuleFrame = string | Buffer;

/** Hands `frame` to `s` as its transport's task does. */
export function deliver(s: RuleSession, frame: RuleFrame): void {
  if (typeof frame === 'string') (s as VenueSession).onMessage(frame);
  else (s as TcpSession<Buffer>).onFrame(frame);
}

export interface KitRuleEnv {
  /** Book-resync timing every session is opened with. */
  readonly timing: { readonly minResyncIntervalMs: number; readonly snapshotTimeoutMs: number };
  /** Advance the (fake) timers by `ms`, running what comes due. */
  advance(ms: number): Promise<unknown>;
}

export interface KitRuleCase<S extends RuleSession = RuleSession, F extends RuleFrame = RuleFrame> {
  /** A session carrying the book and trades of one symbol (id 1), past any handshake. */
  open(rc: RecordingContext): S;
  /**
   * Deliver a good snapshot (bid 100 × 1, ask 101 × 1) by the venue's mechanism: a frame, or the
   * REST answer to the pending fetch (plus a bridging diff where the venue's rule waits for one).
   */
  snapshot(rc: RecordingContext, s: S, n: number): Promise<void>;
  /** A snapshot frame with one bad level; undefined where snapshots come by REST. */
  badSnapshot?(bad: Level): F;
  /** Where snapshots come by REST: the next REST snapshot has one bad level. */
  badRestSnapshot?(bad: Level): void;
  /** An update of the synced book (after snapshot `n`) carrying one good and one bad level. */
  update(n: number, bad: Level): F;
  trade(price: string, amount: string): F;
  /** Snapshot asks sent so far (resubscribes or REST fetches, the first subscribe excluded). */
  asks(rc: RecordingContext): number;
  /** The venue refuses the last ask. Binance: the next fetch fails. */
  refuse(rc: RecordingContext, s: S): void;
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

