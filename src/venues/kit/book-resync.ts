/**
 * Book resync: the one mechanism by which a venue session gets a book back in sync after it was
 * found wrong (gap, checksum, crossed book, a rejected frame concerning it), whatever the venue's
 * way of asking for a fresh snapshot (resubscribe frames, a REST fetch).
 *
 * Invariants:
 *  - A desync always writes a `resync` status record for that symbol (detail = ResyncReason) and
 *    calls `ctx.onResync` once, unless the venue says the stream has no book a consumer sees
 *    (e.g. a quotes-only topic): no book is left unsynced without a status record.
 *  - After a desync the book is in phase `awaitingSnapshot` until the venue reports a snapshot
 *    applied (`snapshotApplied`), which moves it to `synced`; the venue then writes `synced`.
 *  - Asks for a snapshot (the venue's `ask` callback) are at least `minResyncIntervalMs` apart
 *    per book; a desync within that interval waits on a timer instead of asking at once.
 *  - An ask that brings no snapshot within the snapshot timeout, or that the venue rejects
 *    (`askRejected`), is asked again; the timeout doubles with each unanswered ask, capped at
 *    `maxSnapshotTimeoutMs`. Retries stop when a snapshot arrives, the stream is removed, or the
 *    socket goes (`reset`: the next socket's subscribe brings the snapshot).
 *  - A frame the session rejects that concerns a book resyncs it when the book was in sync (the
 *    frame may have carried a real update) or when the frame was a snapshot (the book would
 *    otherwise wait for good): `resyncsAfterRejected`. Nothing of a rejected frame is applied.
 *  - At most one timer per book is pending; every timer is unref'd and cancelled on
 *    `snapshotApplied`, `reset` and `remove`.
 */

import { StatusCode } from '../../records/types.js';
import type { SessionContext } from '../contract.js';

/** The phases of a book a session keeps in sync (one vocabulary for every venue). */
export const BookPhase = {
  /** No trustworthy book: waiting for a snapshot (new stream, after a disconnect or a resync). */
  awaitingSnapshot: 0,
  synced: 1,
} as const;
export type BookPhase = (typeof BookPhase)[keyof typeof BookPhase];

export interface BookResyncTiming {
  /** Minimum time between two asks for one book (ms). Default 1000. */
  readonly minResyncIntervalMs?: number;
  /** Ask again when no snapshot arrived this long after an ask (ms). Default 10 000. */
  readonly snapshotTimeoutMs?: number;
  /** The snapshot timeout doubles with each unanswered ask up to this (ms). Default 60 000. */
  readonly maxSnapshotTimeoutMs?: number;
  /** Clock (ms). Default Date.now. */
  readonly now?: () => number;
}

export const DEFAULT_MIN_RESYNC_INTERVAL_MS = 1000;
export const DEFAULT_SNAPSHOT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_SNAPSHOT_TIMEOUT_MS = 60_000;

/** The resync state of one book. The venue creates one per book, with its way of asking. */
export class BookSyncState {
  phase: BookPhase = BookPhase.awaitingSnapshot;
  /** When the last ask was sent (−∞: none since the socket opened). */
  lastAskAt = Number.NEGATIVE_INFINITY;
  /** Asks sent since the last snapshot (0: none pending; the initial subscribe is not one). */
  asks = 0;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  removed = false;

  /** `ask` sends the venue's request for a fresh snapshot of this book (frames or a fetch). */
  constructor(
    readonly label: string,
    readonly ask: () => void,
  ) {}

  get synced(): boolean {
    return this.phase === BookPhase.synced;
  }

  /** A frame concerning this book was rejected: must the book resync? (see the invariants) */
  resyncsAfterRejected(snapshot: boolean): boolean {
    return snapshot || this.phase === BookPhase.synced;
  }
}

export class BookResync {
  private readonly minIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly maxTimeoutMs: number;
  readonly now: () => number;

  constructor(
    private readonly venue: string,
    private readonly ctx: Pick<SessionContext, 'sink' | 'log' | 'onResync'>,
    timing: BookResyncTiming = {},
  ) {
    this.minIntervalMs = timing.minResyncIntervalMs ?? DEFAULT_MIN_RESYNC_INTERVAL_MS;
    this.timeoutMs = timing.snapshotTimeoutMs ?? DEFAULT_SNAPSHOT_TIMEOUT_MS;
    this.maxTimeoutMs = Math.max(this.timeoutMs, timing.maxSnapshotTimeoutMs ?? DEFAULT_MAX_SNAPSHOT_TIMEOUT_MS);
    this.now = timing.now ?? Date.now;
  }

  /**
   * The book is out of sync: `resync` status and counter (when `visible`), phase
   * `awaitingSnapshot`, and a fresh snapshot asked for (rate-limited). The caller clears its book.
   */
  desync(st: BookSyncState, symbolId: number, reason: number, visible = true): void {
    if (visible) {
      this.ctx.sink.status(symbolId, StatusCode.resync, reason);
      this.ctx.onResync(symbolId, reason);
    }
    st.phase = BookPhase.awaitingSnapshot;
    this.schedule(st);
  }

  /** The venue refused an ask (or answered it without a snapshot): ask again, rate-limited. */
  askRejected(st: BookSyncState): void {
    if (st.removed || st.synced || st.asks === 0) return;
    this.schedule(st);
  }

  /** The socket's own subscribe was sent now: it counts against the rate limit (no timer). */
  subscribed(st: BookSyncState): void {
    st.lastAskAt = this.now();
  }

  /** A snapshot was applied. Returns true when the book was not in sync before (write `synced`). */
  snapshotApplied(st: BookSyncState): boolean {
    this.cancel(st);
    st.asks = 0;
    const was = st.phase;
    st.phase = BookPhase.synced;
    return was !== BookPhase.synced;
  }

  /** The socket closed: the book waits for the next socket's snapshot; asks are forgotten. */
  reset(st: BookSyncState): void {
    this.cancel(st);
    st.phase = BookPhase.awaitingSnapshot;
    st.lastAskAt = Number.NEGATIVE_INFINITY;
    st.asks = 0;
  }

  remove(st: BookSyncState): void {
    st.removed = true;
    this.cancel(st);
  }

  private cancel(st: BookSyncState): void {
    if (st.timer !== undefined) clearTimeout(st.timer);
    st.timer = undefined;
  }

  /** Ask now, or when the rate limit allows; a pending timer is replaced. */
  private schedule(st: BookSyncState): void {
    this.cancel(st);
    const wait = st.lastAskAt + this.minIntervalMs - this.now();
    if (wait <= 0) {
      this.askNow(st);
      return;
    }
    st.timer = unref(setTimeout(() => this.askNow(st), wait));
  }

  private askNow(st: BookSyncState): void {
    st.timer = undefined;
    if (st.removed || st.synced) return;
    st.lastAskAt = this.now();
    st.asks++;
    st.ask();
    const timeout = Math.min(this.maxTimeoutMs, this.timeoutMs * 2 ** Math.min(st.asks - 1, 30));
    st.timer = unref(
      setTimeout(() => {
        st.timer = undefined;
        if (st.removed || st.synced) return;
        this.ctx.log.warn(`${this.venue}: no book snapshot after asking for one; asking again`, {
          book: st.label,
          asks: st.asks,
        });
        this.schedule(st);
      }, timeout),
    );
  }
}

function unref(timer: ReturnType<typeof setTimeout>): ReturnType<typeof setTimeout> {
  timer.unref?.();
  return timer;
}
