/**
 * Binance spot session: parses combined-stream frames (`{"stream":…,"data":…}`), normalizes
 * them into the RecordSink, keeps per-symbol L2 books in sync with REST snapshots, and drops
 * anything already emitted (two sockets may feed one session during a planned rotation).
 *
 * Raw single-stream frames (the `/ws` endpoint: the payload without the envelope) are accepted
 * too; they are mapped to the stream name by event type and symbol, which allocates a string
 * per frame — the combined-stream path does not allocate beyond `JSON.parse`.
 *
 * Book sync (per symbol, https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams):
 *  1. `addStreams` with a book stream starts buffering diffs and fetches
 *     `GET /api/v3/depth?symbol=X&limit=1000`.
 *  2. On the snapshot (`lastUpdateId` L): buffered diffs with `u <= L` are dropped; if the first
 *     remaining diff has `U > L + 1` the snapshot is too old and is fetched again. Otherwise the
 *     snapshot record (snapshot=true, seq=L) and a `synced` status (detail L) are emitted, then
 *     the buffered diffs are applied as deltas (firstSeq=U, seq=u).
 *  3. Afterwards a diff is applied when `U <= prev u + 1 <= u`. That is `U == prev u + 1` for a
 *     single socket; the wider test also accepts a diff from a second socket during rotation whose
 *     batch overlaps what was already applied (diffs carry absolute amounts, so re-applying the
 *     overlap is harmless). `u <= prev u` is a duplicate and dropped silently. `U > prev u + 1`
 *     is a gap: `resync` status (sequenceGap), `ctx.onResync`, the book is cleared, diffs are
 *     buffered again and the snapshot is refetched (at most one request per symbol per
 *     `minSnapshotIntervalMs`); `synced` follows when the new snapshot is applied.
 *  4. After each applied diff a crossed worker book (best bid >= best ask) resyncs the same way
 *     (crossedBook); the offending delta is not emitted.
 *
 * Disconnect: `onDisconnect` clears every book and marks it "needs snapshot"; nothing is fetched
 * until the first diff arrives on the next socket, which is buffered and triggers the fetch. (A
 * later `addStreams` for the same stream also triggers it; adding an existing stream is idempotent.)
 *
 * A failed or malformed snapshot is logged and retried with exponential backoff (no status
 * record: the consumer already knows the book is not in sync).
 */

import { OrderBook } from '../book/order-book.js';
import { ResyncReason, Side, StatusCode } from '../records/types.js';
import { klineIntervalSec, streamName } from './binance-streams.js';
import type { Channel, SessionContext, StreamSpec, TickerFields, VenueSession } from './types.js';

export interface BinanceSessionOptions {
  /** Minimum time between two snapshot requests for one symbol (ms). Default 1000. */
  minSnapshotIntervalMs?: number;
  /** First retry delay after a failed snapshot request (ms), doubled per failure. Default 250. */
  retryBaseMs?: number;
  /** Maximum retry delay (ms). Default 10 000. */
  retryMaxMs?: number;
  /** Maximum diffs buffered per symbol while waiting for a snapshot. Default 10 000. */
  maxBufferedDiffs?: number;
  /** REST depth limit. Default 1000. */
  snapshotLimit?: number;
  /** Max levels per side kept in the worker book. Default 5000. */
  maxBookLevels?: number;
  /** Clock (ms). Default Date.now. */
  now?: () => number;
  /** Max streams per SUBSCRIBE/UNSUBSCRIBE frame. Default 200. */
  maxParamsPerRequest?: number;
}

/** Counters exposed for tests and diagnostics. */
export interface BinanceSessionStats {
  /** Data frames for streams this session does not know (ignored). */
  unknownStream: number;
  /** Frames dropped because they were already emitted (trade id / update id / event time). */
  duplicates: number;
  /** Buffered diffs dropped when a snapshot was applied (`u <= lastUpdateId`). */
  droppedBeforeSnapshot: number;
  /** Book resyncs (gaps + crossed books). */
  resyncs: number;
  snapshotRequests: number;
  snapshotFailures: number;
  /** Snapshots discarded because the buffered diffs start after `lastUpdateId + 1`. */
  staleSnapshots: number;
  /** Buffer overflows (buffer dropped and snapshot refetched). */
  bufferOverflows: number;
  acks: number;
  errorAcks: number;
}

const K_TRADE = 0;
const K_AGG = 1;
const K_QUOTE = 2;
const K_TICKER = 3;
const K_BOOK = 4;
const K_CANDLE = 5;

const KIND_OF_CHANNEL: Readonly<Partial<Record<Channel, number>>> = {
  trades: K_TRADE,
  aggTrades: K_AGG,
  quotes: K_QUOTE,
  ticker: K_TICKER,
  book: K_BOOK,
  candles: K_CANDLE,
};

/** Book sync phases. */
const P_NEEDS_SNAPSHOT = 0; // after a disconnect: the first diff starts the fetch
const P_FETCHING = 1; // buffering diffs, snapshot requested or scheduled
const P_SYNCED = 2;

type Obj = Record<string, unknown>;

interface DepthDiff {
  E: unknown;
  U: number;
  u: number;
  b: unknown[];
  a: unknown[];
}

interface BookSync {
  phase: number;
  readonly book: OrderBook;
  buffer: DepthDiff[];
  /** Last applied `u` (NaN when not synced). */
  lastU: number;
  /** Generation: bumped whenever an in-flight or scheduled request becomes obsolete. */
  gen: number;
  lastFetchAt: number;
  failures: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface StreamState {
  readonly name: string;
  readonly kind: number;
  readonly native: string;
  symbol: string;
  symbolId: number;
  /** Last emitted venue sequence (trade id, agg id, update id) or event time, for dedupe. */
  last: number;
  /** Kline: open time of the last emitted candle update. */
  lastAux: number;
  readonly sync: BookSync | undefined;
  removed: boolean;
}

interface PendingRequest {
  readonly method: string;
  readonly params: readonly string[];
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Decimal string (or number) → number; NaN for anything else (including ""). */
function dec(v: unknown): number {
  if (typeof v === 'string') return v.length === 0 ? Number.NaN : +v;
  return typeof v === 'number' ? v : Number.NaN;
}

function preview(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

export class BinanceSession implements VenueSession {
  readonly stats: BinanceSessionStats = {
    unknownStream: 0,
    duplicates: 0,
    droppedBeforeSnapshot: 0,
    resyncs: 0,
    snapshotRequests: 0,
    snapshotFailures: 0,
    staleSnapshots: 0,
    bufferOverflows: 0,
    acks: 0,
    errorAcks: 0,
  };

  private readonly streams = new Map<string, StreamState>();
  private readonly pending = new Map<number, PendingRequest>();
  private nextId = 1;
  private readonly ticker: TickerFields = {
    last: Number.NaN,
    open: Number.NaN,
    high: Number.NaN,
    low: Number.NaN,
    baseVolume: Number.NaN,
    quoteVolume: Number.NaN,
    bidPrice: Number.NaN,
    askPrice: Number.NaN,
    markPrice: Number.NaN,
    indexPrice: Number.NaN,
    fundingRate: Number.NaN,
    nextFundingTs: Number.NaN,
  };
  /** Scratch level arrays (flat price/amount), grown as needed. */
  private bidScratch = new Float64Array(256);
  private askScratch = new Float64Array(256);

  private readonly minSnapshotIntervalMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly maxBufferedDiffs: number;
  private readonly snapshotLimit: number;
  private readonly maxBookLevels: number;
  private readonly maxParams: number;
  private readonly now: () => number;

  constructor(
    private readonly ctx: SessionContext,
    options: BinanceSessionOptions = {},
  ) {
    this.minSnapshotIntervalMs = options.minSnapshotIntervalMs ?? 1000;
    this.retryBaseMs = options.retryBaseMs ?? 250;
    this.retryMaxMs = options.retryMaxMs ?? 10_000;
    this.maxBufferedDiffs = options.maxBufferedDiffs ?? 10_000;
    this.snapshotLimit = options.snapshotLimit ?? 1000;
    this.maxBookLevels = options.maxBookLevels ?? 5000;
    this.maxParams = options.maxParamsPerRequest ?? 200;
    this.now = options.now ?? Date.now;
  }

  /** Data frames for unknown streams seen so far. */
  get unknownStream(): number {
    return this.stats.unknownStream;
  }

  /** Number of SUBSCRIBE/UNSUBSCRIBE requests not yet acknowledged. */
  get pendingRequests(): number {
    return this.pending.size;
  }

  /** The worker-side book for a book stream's symbol (undefined when not subscribed). */
  book(symbolId: number): OrderBook | undefined {
    for (const st of this.streams.values()) {
      if (st.sync !== undefined && st.symbolId === symbolId) return st.sync.book;
    }
    return undefined;
  }

  /** true when the book of `symbolId` is in sync. */
  isSynced(symbolId: number): boolean {
    for (const st of this.streams.values()) {
      if (st.sync !== undefined && st.symbolId === symbolId) return st.sync.phase === P_SYNCED;
    }
    return false;
  }

  // ─── control frames ──────────────────────────────────────────────────────────────────────

  openMessages(_streams: readonly StreamSpec[]): string[] {
    return []; // combined streams are carried in the URL (see connectUrl)
  }

  subscribeMessages(streams: readonly StreamSpec[]): string[] {
    return this.requests('SUBSCRIBE', streams);
  }

  unsubscribeMessages(streams: readonly StreamSpec[]): string[] {
    return this.requests('UNSUBSCRIBE', streams);
  }

  private requests(method: string, streams: readonly StreamSpec[]): string[] {
    const names = streams.map(streamName);
    const out: string[] = [];
    for (let i = 0; i < names.length; i += this.maxParams) {
      const params = names.slice(i, i + this.maxParams);
      const id = this.nextId++;
      this.pending.set(id, { method, params });
      out.push(JSON.stringify({ method, params, id }));
    }
    return out;
  }

  private onAck(m: Obj): void {
    const id = m.id;
    const req = typeof id === 'number' ? this.pending.get(id) : undefined;
    if (typeof id === 'number') this.pending.delete(id);
    if (m.error !== undefined && m.error !== null) {
      this.stats.errorAcks++;
      this.ctx.log.warn('binance: request rejected', {
        id,
        error: m.error,
        method: req?.method,
        params: req?.params,
      });
      return;
    }
    this.stats.acks++;
    if (req === undefined) this.ctx.log.debug('binance: ack for unknown request', { id });
  }

  // ─── stream bookkeeping ──────────────────────────────────────────────────────────────────

  addStreams(streams: readonly StreamSpec[]): void {
    for (const spec of streams) {
      const name = streamName(spec);
      const existing = this.streams.get(name);
      if (existing !== undefined) {
        existing.symbol = spec.symbol;
        existing.symbolId = spec.symbolId;
        const sync = existing.sync;
        if (sync !== undefined && sync.phase === P_NEEDS_SNAPSHOT) {
          sync.phase = P_FETCHING;
          this.requestSnapshot(existing);
        }
        continue;
      }
      const kind = KIND_OF_CHANNEL[spec.channel];
      if (kind === undefined) throw new Error(`binance: unsupported channel ${spec.channel} for ${spec.symbol}`);
      const st: StreamState = {
        name,
        kind,
        native: spec.native,
        symbol: spec.symbol,
        symbolId: spec.symbolId,
        last: Number.NEGATIVE_INFINITY,
        lastAux: Number.NaN,
        removed: false,
        sync:
          kind === K_BOOK
            ? {
                phase: P_FETCHING,
                book: new OrderBook({ maxLevels: this.maxBookLevels }),
                buffer: [],
                lastU: Number.NaN,
                gen: 0,
                lastFetchAt: Number.NEGATIVE_INFINITY,
                failures: 0,
                timer: undefined,
              }
            : undefined,
      };
      this.streams.set(name, st);
      if (st.sync !== undefined) this.requestSnapshot(st);
    }
  }

  removeStreams(streams: readonly StreamSpec[]): void {
    for (const spec of streams) {
      const name = streamName(spec);
      const st = this.streams.get(name);
      if (st === undefined) continue;
      st.removed = true;
      if (st.sync !== undefined) this.cancelSync(st.sync);
      this.streams.delete(name);
    }
  }

  onDisconnect(): void {
    for (const st of this.streams.values()) {
      const sync = st.sync;
      if (sync === undefined) continue;
      this.cancelSync(sync);
      sync.phase = P_NEEDS_SNAPSHOT;
    }
  }

  private cancelSync(sync: BookSync): void {
    sync.gen++;
    if (sync.timer !== undefined) clearTimeout(sync.timer);
    sync.timer = undefined;
    sync.book.clear();
    sync.buffer = [];
    sync.lastU = Number.NaN;
  }

  // ─── frames ──────────────────────────────────────────────────────────────────────────────

  onMessage(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch (err) {
      throw new Error(`binance: bad JSON frame (${(err as Error).message}): ${preview(text)}`);
    }
    if (!isObj(msg)) throw new Error(`binance: unexpected frame (not an object): ${preview(text)}`);
    const stream = msg.stream;
    if (typeof stream === 'string') {
      const data = msg.data;
      if (!isObj(data)) throw this.malformed(stream, 'missing "data" object');
      const st = this.streams.get(stream);
      if (st === undefined) {
        this.stats.unknownStream++;
        return;
      }
      this.dispatch(st, data);
      return;
    }
    if (msg.id !== undefined && ('result' in msg || 'error' in msg)) {
      this.onAck(msg);
      return;
    }
    // Raw single-stream payload (no envelope).
    const name = rawStreamName(msg);
    if (name === undefined) throw new Error(`binance: unrecognised frame: ${preview(text)}`);
    const st = this.streams.get(name);
    if (st === undefined) {
      this.stats.unknownStream++;
      return;
    }
    this.dispatch(st, msg);
  }

  private malformed(stream: string, problem: string): Error {
    return new Error(`binance: malformed frame for ${stream}: ${problem}`);
  }

  private badField(st: StreamState, d: Obj, key: string, what: string): Error {
    return this.malformed(st.name, `field "${key}" ${what}, got ${JSON.stringify(d[key]) ?? 'nothing'}`);
  }

  private int(st: StreamState, d: Obj, key: string): number {
    const v = d[key];
    if (typeof v !== 'number' || Number.isNaN(v)) throw this.badField(st, d, key, 'is not a number');
    return v;
  }

  private num(st: StreamState, d: Obj, key: string): number {
    const v = dec(d[key]);
    if (Number.isNaN(v)) throw this.badField(st, d, key, 'is not a decimal number');
    return v;
  }

  private dispatch(st: StreamState, d: Obj): void {
    switch (st.kind) {
      case K_TRADE:
        this.onTrade(st, d, 't');
        return;
      case K_AGG:
        this.onTrade(st, d, 'a');
        return;
      case K_QUOTE:
        this.onBookTicker(st, d);
        return;
      case K_TICKER:
        this.onTicker(st, d);
        return;
      case K_BOOK:
        this.onDepth(st, d);
        return;
      case K_CANDLE:
        this.onKline(st, d);
        return;
    }
  }

  private onTrade(st: StreamState, d: Obj, idKey: 't' | 'a'): void {
    const id = this.int(st, d, idKey);
    const ts = this.int(st, d, 'T');
    const price = this.num(st, d, 'p');
    const amount = this.num(st, d, 'q');
    const m = d.m;
    if (typeof m !== 'boolean') throw this.badField(st, d, 'm', 'is not a boolean');
    if (id <= st.last) {
      this.stats.duplicates++;
      return;
    }
    st.last = id;
    // m: the buyer is the maker → the seller was the aggressor.
    this.ctx.sink.trade(st.symbolId, ts, id, m ? Side.sell : Side.buy, price, amount);
  }

  private onBookTicker(st: StreamState, d: Obj): void {
    const u = this.int(st, d, 'u');
    const bid = this.num(st, d, 'b');
    const bidAmount = this.num(st, d, 'B');
    const ask = this.num(st, d, 'a');
    const askAmount = this.num(st, d, 'A');
    const e = d.E;
    if (u <= st.last) {
      this.stats.duplicates++;
      return;
    }
    st.last = u;
    this.ctx.sink.quote(
      st.symbolId,
      typeof e === 'number' ? e : Number.NaN, // spot bookTicker carries no event time
      u,
      bid,
      bidAmount,
      ask,
      askAmount,
    );
  }

  /** `24hrTicker` (the `@ticker` stream); `24hrMiniTicker` payloads are accepted too. */
  private onTicker(st: StreamState, d: Obj): void {
    const E = this.int(st, d, 'E');
    const f = this.ticker;
    f.last = this.num(st, d, 'c');
    f.open = this.num(st, d, 'o');
    f.high = this.num(st, d, 'h');
    f.low = this.num(st, d, 'l');
    f.baseVolume = this.num(st, d, 'v');
    f.quoteVolume = this.num(st, d, 'q');
    f.bidPrice = dec(d.b); // absent in miniTicker → NaN
    f.askPrice = dec(d.a);
    // markPrice … nextFundingTs stay NaN (spot).
    // Rotation dedupe: one event per stream per event time.
    if (E <= st.last) {
      this.stats.duplicates++;
      return;
    }
    st.last = E;
    const L = d.L;
    this.ctx.sink.ticker(st.symbolId, E, typeof L === 'number' ? L : Number.NaN, f);
  }

  private onKline(st: StreamState, d: Obj): void {
    const E = this.int(st, d, 'E');
    const k = d.k;
    if (!isObj(k)) throw this.malformed(st.name, 'missing "k" object');
    const intervalSec = klineIntervalSec(k.i);
    if (intervalSec === undefined) throw this.badField(st, k, 'i', 'is not a kline interval');
    const openTs = this.int(st, k, 't');
    const open = this.num(st, k, 'o');
    const high = this.num(st, k, 'h');
    const low = this.num(st, k, 'l');
    const close = this.num(st, k, 'c');
    const volume = this.num(st, k, 'v');
    const x = k.x;
    if (typeof x !== 'boolean') throw this.badField(st, k, 'x', 'is not a boolean');
    // Rotation dedupe: older event time, or the same event time for the same candle.
    if (E < st.last || (E === st.last && openTs === st.lastAux)) {
      this.stats.duplicates++;
      return;
    }
    st.last = E;
    st.lastAux = openTs;
    this.ctx.sink.candle(
      st.symbolId,
      E,
      Number.NaN,
      intervalSec,
      openTs,
      open,
      high,
      low,
      close,
      volume,
      x,
    );
  }

  // ─── depth ───────────────────────────────────────────────────────────────────────────────

  /** Parse `levels` ([[price, qty], …]) into the bid (side 0) or ask (side 1) scratch array. */
  private parseLevels(name: string, levels: unknown[], side: 0 | 1): number {
    const n = levels.length;
    let out = side === 0 ? this.bidScratch : this.askScratch;
    if (out.length < 2 * n) {
      let cap = out.length;
      while (cap < 2 * n) cap *= 2;
      out = new Float64Array(cap);
      if (side === 0) this.bidScratch = out;
      else this.askScratch = out;
    }
    for (let i = 0; i < n; i++) {
      const lv = levels[i];
      if (!Array.isArray(lv) || lv.length < 2) {
        throw this.malformed(name, `${side === 0 ? 'bid' : 'ask'} level ${i} is not [price, qty]`);
      }
      const p = dec(lv[0]);
      const q = dec(lv[1]);
      if (Number.isNaN(p) || Number.isNaN(q) || q < 0) {
        throw this.malformed(
          name,
          `${side === 0 ? 'bid' : 'ask'} level ${i} is not numeric: ${JSON.stringify(lv)}`,
        );
      }
      out[2 * i] = p;
      out[2 * i + 1] = q;
    }
    return n;
  }

  private onDepth(st: StreamState, d: Obj): void {
    const U = this.int(st, d, 'U');
    const u = this.int(st, d, 'u');
    if (!Array.isArray(d.b)) throw this.badField(st, d, 'b', 'is not an array');
    if (!Array.isArray(d.a)) throw this.badField(st, d, 'a', 'is not an array');
    if (U > u) throw this.malformed(st.name, `first update id U=${U} > last update id u=${u}`);
    const sync = st.sync!;
    if (sync.phase !== P_SYNCED) {
      // Validate now so that a bad frame is reported where it arrives, not when replayed.
      this.parseLevels(st.name, d.b, 0);
      this.parseLevels(st.name, d.a, 1);
    }
    this.handleDiff(st, sync, d as unknown as DepthDiff);
  }

  private handleDiff(st: StreamState, sync: BookSync, d: DepthDiff): void {
    if (sync.phase !== P_SYNCED) {
      this.bufferDiff(st, sync, d);
      if (sync.phase === P_NEEDS_SNAPSHOT) {
        sync.phase = P_FETCHING;
        this.requestSnapshot(st);
      }
      return;
    }
    if (d.u <= sync.lastU) {
      this.stats.duplicates++;
      return;
    }
    if (d.U > sync.lastU + 1) {
      this.ctx.log.warn('binance: depth sequence gap', {
        stream: st.name,
        expected: sync.lastU + 1,
        U: d.U,
        u: d.u,
      });
      this.resync(st, sync, ResyncReason.sequenceGap);
      this.bufferDiff(st, sync, d);
      return;
    }
    const nb = this.parseLevels(st.name, d.b, 0);
    const na = this.parseLevels(st.name, d.a, 1);
    const book = sync.book;
    book.applyDelta(this.bidScratch, nb, this.askScratch, na);
    if (book.isCrossed()) {
      this.ctx.log.warn('binance: crossed book', {
        stream: st.name,
        u: d.u,
        bestBid: book.bestBid(),
        bestAsk: book.bestAsk(),
      });
      this.resync(st, sync, ResyncReason.crossedBook);
      this.bufferDiff(st, sync, d);
      return;
    }
    sync.lastU = d.u;
    this.ctx.sink.book(
      st.symbolId,
      typeof d.E === 'number' ? d.E : Number.NaN,
      d.U,
      d.u,
      false,
      this.bidScratch,
      nb,
      this.askScratch,
      na,
    );
  }

  private bufferDiff(st: StreamState, sync: BookSync, d: DepthDiff): void {
    if (sync.buffer.length >= this.maxBufferedDiffs) {
      this.stats.bufferOverflows++;
      this.ctx.log.warn('binance: depth buffer overflow while waiting for a snapshot; refetching', {
        stream: st.name,
        buffered: sync.buffer.length,
      });
      sync.buffer = [];
      this.requestSnapshot(st);
    }
    sync.buffer.push(d);
  }

  private resync(st: StreamState, sync: BookSync, reason: number): void {
    this.stats.resyncs++;
    this.ctx.sink.status(st.symbolId, StatusCode.resync, reason);
    this.ctx.onResync(st.symbolId, reason);
    sync.book.clear();
    sync.buffer = [];
    sync.lastU = Number.NaN;
    sync.phase = P_FETCHING;
    this.requestSnapshot(st);
  }

  /**
   * (Re)request the snapshot for a book stream: supersedes any in-flight or scheduled request
   * and respects the per-symbol minimum interval between requests.
   */
  private requestSnapshot(st: StreamState, extraDelayMs = 0): void {
    const sync = st.sync!;
    const gen = ++sync.gen;
    if (sync.timer !== undefined) clearTimeout(sync.timer);
    sync.timer = undefined;
    const wait = Math.max(extraDelayMs, sync.lastFetchAt + this.minSnapshotIntervalMs - this.now());
    if (wait <= 0) {
      this.fetchSnapshot(st, gen);
      return;
    }
    const timer = setTimeout(() => {
      if (sync.gen !== gen) return;
      sync.timer = undefined;
      this.fetchSnapshot(st, gen);
    }, wait);
    timer.unref?.();
    sync.timer = timer;
  }

  private fetchSnapshot(st: StreamState, gen: number): void {
    const sync = st.sync!;
    sync.lastFetchAt = this.now();
    this.stats.snapshotRequests++;
    const url = `${this.ctx.restUrl}/api/v3/depth?symbol=${st.native}&limit=${this.snapshotLimit}`;
    let p: Promise<unknown>;
    try {
      p = this.ctx.fetchJson(url);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (body) => {
        if (sync.gen !== gen || st.removed) return;
        try {
          this.onSnapshot(st, sync, body);
        } catch (err) {
          this.snapshotFailed(st, sync, err);
        }
      },
      (err: unknown) => {
        if (sync.gen !== gen || st.removed) return;
        this.snapshotFailed(st, sync, err);
      },
    );
  }

  private snapshotFailed(st: StreamState, sync: BookSync, err: unknown): void {
    this.stats.snapshotFailures++;
    const delay = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** sync.failures);
    sync.failures++;
    this.ctx.log.warn('binance: depth snapshot failed; retrying', {
      stream: st.name,
      error: err instanceof Error ? err.message : String(err),
      retryInMs: delay,
      failures: sync.failures,
    });
    this.requestSnapshot(st, delay);
  }

  private onSnapshot(st: StreamState, sync: BookSync, body: unknown): void {
    if (!isObj(body)) throw new Error('snapshot is not an object');
    const L = body.lastUpdateId;
    if (typeof L !== 'number' || Number.isNaN(L)) throw new Error('snapshot has no numeric lastUpdateId');
    if (!Array.isArray(body.bids) || !Array.isArray(body.asks)) {
      throw new Error('snapshot has no bids/asks arrays');
    }
    const label = `${st.name} snapshot`;
    const nb = this.parseLevels(label, body.bids, 0);
    const na = this.parseLevels(label, body.asks, 1);

    let buffer = sync.buffer;
    let drop = 0;
    while (drop < buffer.length && buffer[drop].u <= L) drop++;
    if (drop > 0) {
      this.stats.droppedBeforeSnapshot += drop;
      buffer = buffer.slice(drop);
    }
    if (buffer.length > 0 && buffer[0].U > L + 1) {
      this.stats.staleSnapshots++;
      this.ctx.log.info('binance: depth snapshot older than buffered diffs; refetching', {
        stream: st.name,
        lastUpdateId: L,
        firstU: buffer[0].U,
      });
      sync.buffer = buffer;
      this.requestSnapshot(st);
      return;
    }
    sync.buffer = [];
    sync.failures = 0;
    const book = sync.book;
    book.applySnapshot(this.bidScratch, nb, this.askScratch, na);
    if (book.isCrossed()) {
      // A crossed snapshot cannot be used; try again (rate-limited).
      book.clear();
      throw new Error('snapshot book is crossed');
    }
    sync.phase = P_SYNCED;
    sync.lastU = L;
    const E = body.E;
    this.ctx.sink.book(
      st.symbolId,
      typeof E === 'number' ? E : Number.NaN,
      Number.NaN,
      L,
      true,
      this.bidScratch,
      nb,
      this.askScratch,
      na,
    );
    this.ctx.sink.status(st.symbolId, StatusCode.synced, L);
    // Replay the buffer through the live path: a gap or crossed book inside it resyncs, and
    // the remaining diffs are then buffered for the next snapshot.
    for (let i = 0; i < buffer.length; i++) this.handleDiff(st, sync, buffer[i]);
  }
}

/** Stream name for a raw (non-envelope) payload, by event type and symbol. */
function rawStreamName(m: Obj): string | undefined {
  const s = m.s;
  if (typeof s !== 'string') return undefined;
  const l = s.toLowerCase();
  switch (m.e) {
    case 'trade':
      return `${l}@trade`;
    case 'aggTrade':
      return `${l}@aggTrade`;
    case 'depthUpdate':
      return `${l}@depth@100ms`;
    case '24hrTicker':
    case '24hrMiniTicker':
      return `${l}@ticker`;
    case 'kline': {
      const k = m.k;
      return isObj(k) && typeof k.i === 'string' ? `${l}@kline_${k.i}` : undefined;
    }
    case undefined:
      // bookTicker has no event type.
      return 'u' in m && 'b' in m && 'a' in m ? `${l}@bookTicker` : undefined;
    default:
      return undefined;
  }
}

export function createBinanceSession(
  ctx: SessionContext,
  options?: BinanceSessionOptions,
): BinanceSession {
  return new BinanceSession(ctx, options);
}
