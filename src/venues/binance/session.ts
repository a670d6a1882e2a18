/**
 * Binance session (spot, and USD-M futures through `BinanceFlavor`): parses combined-stream frames (`{"stream":…,"data":…}`), normalizes
 * them into the RecordSink, keeps per-symbol L2 books in sync with REST snapshots, and drops
 * anything already emitted (two sockets may feed one session during a planned rotation).
 *
 * Raw single-stream frames (the `/ws` endpoint: the payload without the envelope) are accepted
 * too; they are mapped to the stream name by event type and symbol, which allocates a string
 * per frame — the combined-stream path does not allocate beyond `JSON.parse`.
 *
 * Parsing: by default each frame first goes through the allocation-free scanner
 * (`src/parse/binance-scan.ts`) which handles the hot flat payloads (trade, aggTrade, bookTicker,
 * depthUpdate); anything else, or anything irregular, takes `JSON.parse`. Both paths feed the same
 * normalization, so records are identical (`test/parse-equivalence.test.ts`). `parser: 'json'`
 * forces `JSON.parse`.
 *
 * Book sync below is written for spot; USD-M differs only in the continuity rule
 * (`binance-flavor.ts`: drop `u < L`, first diff `U <= L <= u`, then `pu == prev u`, and the
 * snapshot is held until a diff shows it bridges).
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
 *     `minResyncIntervalMs`, by kit/book-resync.ts); `synced` follows when the new snapshot is applied.
 *  4. After each applied diff a crossed worker book (best bid >= best ask) resyncs the same way
 *     (crossedBook); the offending delta is not emitted.
 *  5. A depth frame of a synced book that is rejected (malformed, negative or non-finite level)
 *     resyncs it the same way (sequenceGap: an update may have been lost) and counts as bad.
 *
 * Disconnect: `onDisconnect` clears every book and marks it "needs snapshot"; nothing is fetched
 * until the first diff arrives on the next socket, which is buffered and triggers the fetch. (A
 * later `addStreams` for the same stream also triggers it; adding an existing stream is idempotent.)
 *
 * A failed or malformed snapshot is logged and asked again, rate-limited; a request unanswered
 * for the snapshot timeout is sent again with a doubling timeout (kit/book-resync.ts). No second
 * status record: the consumer already knows the book is not in sync.
 */

import { OrderBook } from '../../book/order-book.js';
import {
  BinanceScanner,
  hashRegion,
  S_A,
  S_a,
  S_B,
  S_b,
  S_E,
  S_m,
  S_p,
  S_pu,
  S_q,
  S_T,
  S_t,
  S_U,
  S_u,
  S_X,
  T_ABSENT,
  T_DECIMAL,
  T_FALSE,
  T_LEVELS,
  T_NUMBER,
  T_STRING,
  T_TRUE,
} from '../../parse/binance-scan.js';
import { ResyncReason, Side, StatusCode } from '../../records/types.js';
import type { Channel, SessionContext, StreamSpec, TickerFields, VenueSession } from '../contract.js';
import { BookResync, type BookResyncTiming, BookSyncState } from '../kit/book-resync.js';
import { CHANNEL_KIND, K_AGG_TRADES, K_BOOK, K_CANDLES, K_FUNDING, K_QUOTES, K_TICKER, K_TRADES } from '../kit/channel-kind.js';
import { FieldReader } from '../kit/fields.js';
import { parseObjectFrame } from '../kit/frame.js';
import { dec, isObj, type Obj, preview, previewValue } from '../kit/json-fields.js';
import { type SessionStats, sessionStats } from '../kit/session-stats.js';
import { emptyTickerFields } from '../kit/ticker-fields.js';
import { type BinanceFlavor, type DepthRule, SPOT_FLAVOR } from './flavor.js';
import { klineIntervalSec, streamNameFor } from './streams.js';

/**
 * Snapshot requests follow the kit's resync timing (`minResyncIntervalMs` between two requests
 * for one symbol, a request unanswered for `snapshotTimeoutMs` is sent again, a failed one is
 * retried rate-limited; `now`): see kit/book-resync.ts.
 */
export interface BinanceSessionOptions extends BookResyncTiming {
  /** Maximum diffs buffered per symbol while waiting for a snapshot. Default 10 000. */
  maxBufferedUpdates?: number;
  /** REST depth limit. Default 1000. */
  snapshotLimit?: number;
  /** Max levels per side kept in the worker book. Default 5000. */
  maxBookLevels?: number;
  /** Max streams per SUBSCRIBE/UNSUBSCRIBE frame. Default 200. */
  maxParamsPerRequest?: number;
  /** `fast` (default): scanner first, `JSON.parse` for the rest; `json`: always `JSON.parse`. */
  parser?: 'fast' | 'json';
  /** Market specifics (spot by default). */
  flavor?: BinanceFlavor;
}

/** Counters exposed for tests and diagnostics. */
export interface BinanceSessionStats extends SessionStats {
  /** Buffered diffs dropped when a snapshot was applied (already contained in it). */
  droppedBeforeSnapshot: number;
  snapshotRequests: number;
  snapshotFailures: number;
  /** Snapshots discarded because the first remaining diff does not bridge them. */
  staleSnapshots: number;
  /** Buffer overflows (buffer dropped and snapshot refetched). */
  bufferOverflows: number;
  /** Frames handled by the scanner without `JSON.parse`. */
  fastPath: number;
  /** USD-M trades that are not market trades (insurance fund, auto-deleveraging, `NA`): dropped. */
  offBookTrades: number;
}

/** A buffered depth diff (levels copied out of the scratch arrays). */
interface DepthDiff {
  readonly E: number;
  readonly U: number;
  readonly u: number;
  readonly pu: number;
  readonly bids: Float64Array;
  readonly nb: number;
  readonly asks: Float64Array;
  readonly na: number;
}

/** A parsed REST snapshot. */
interface Snapshot {
  readonly L: number;
  readonly E: number;
  readonly bids: Float64Array;
  readonly nb: number;
  readonly asks: Float64Array;
  readonly na: number;
}

interface BookSync {
  /** Phase, rate limit and retry timer (the kit's); diffs are buffered while not synced. */
  readonly state: BookSyncState;
  /** After a disconnect: the first diff of the next socket starts the fetch. */
  needsSnapshot: boolean;
  readonly book: OrderBook;
  buffer: DepthDiff[];
  /** Last applied `u` (NaN when not synced). */
  lastU: number;
  /** true until the first diff after the snapshot has been applied (the bridging rule applies). */
  bridging: boolean;
  /** A snapshot held until a diff shows whether it bridges (`DepthRule.deferSnapshot`). */
  held: Snapshot | undefined;
  /** Generation: bumped whenever an in-flight request becomes obsolete. */
  gen: number;
}

interface StreamState {
  readonly name: string;
  /** The stream as the task gave it (what a refusal is reported for). */
  readonly spec: StreamSpec;
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

export class BinanceSession implements VenueSession {
  readonly stats: BinanceSessionStats = sessionStats(
    'droppedBeforeSnapshot',
    'snapshotRequests',
    'snapshotFailures',
    'staleSnapshots',
    'bufferOverflows',
    'fastPath',
    'offBookTrades',
  );

  private readonly streams = new Map<string, StreamState>();
  /** Stream-name hash → state for the scanner path (null: hash collision, use JSON.parse). */
  private byHash = new Map<number, StreamState | null>();
  private readonly pending = new Map<number, PendingRequest>();
  private nextId = 1;
  private readonly fields = new FieldReader<StreamState>((st) => `${this.venue}: malformed frame for ${st.name}`);
  /** Reusable ticker fields: 24h tickers (mark/index/funding stay NaN) … */
  private readonly ticker: TickerFields = emptyTickerFields();
  /** … and mark price / funding (24h fields stay NaN). */
  private readonly funding: TickerFields = emptyTickerFields();
  /** Scratch level arrays (flat price/amount) for the JSON.parse path, grown as needed. */
  private bidScratch = new Float64Array(256);
  private askScratch = new Float64Array(256);
  private readonly scanner: BinanceScanner | undefined;

  private readonly venue: string;
  private readonly flavor: BinanceFlavor;
  private readonly rule: DepthRule;
  private readonly bookSync: BookResync;
  private readonly maxBufferedUpdates: number;
  private readonly snapshotLimit: number;
  private readonly maxBookLevels: number;
  private readonly maxParams: number;
  constructor(
    private readonly ctx: SessionContext,
    options: BinanceSessionOptions = {},
  ) {
    this.flavor = options.flavor ?? SPOT_FLAVOR;
    this.venue = this.flavor.naming.venue;
    this.rule = this.flavor.depthRule;
    this.bookSync = new BookResync(this.venue, ctx, options);
    this.maxBufferedUpdates = options.maxBufferedUpdates ?? ctx.limits.maxBufferedUpdates;
    this.snapshotLimit = options.snapshotLimit ?? 1000;
    this.maxBookLevels = options.maxBookLevels ?? ctx.limits.maxBookLevels;
    this.maxParams = options.maxParamsPerRequest ?? 200;
    this.scanner = options.parser === 'json' ? undefined : new BinanceScanner();
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
      if (st.sync !== undefined && st.symbolId === symbolId) return st.sync.state.synced;
    }
    return false;
  }

  private streamName(spec: StreamSpec): string {
    return streamNameFor(this.flavor.naming, spec);
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
    const names = streams.map((s) => this.streamName(s));
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
      this.ctx.log.warn(`${this.venue}: request rejected`, {
        id,
        error: m.error,
        method: req?.method,
        params: req?.params,
      });
      if (req?.method === 'SUBSCRIBE') this.rejectNamedStreams(req.params, m.error);
      return;
    }
    this.stats.acks++;
    if (req === undefined) this.ctx.log.debug(`${this.venue}: ack for unknown request`, { id });
  }

  /**
   * A refused SUBSCRIBE whose error names some of its streams (`unknown symbol in stream
   * 'foobar@trade'`): those are rejected and the rest are asked for again, as Binance refuses
   * the whole request. (Binance itself takes unknown symbols silently; the instrument check
   * before the socket opens is what catches them. This covers venues and proxies that refuse.)
   */
  private rejectNamedStreams(params: readonly string[], error: unknown): void {
    const msg = isObj(error) && typeof error.msg === 'string' ? error.msg : String(error);
    const named = params.filter((p) => msg.includes(`'${p}'`) || msg.includes(`"${p}"`));
    if (named.length === 0) return;
    const refused = named.map((p) => this.streams.get(p)).filter((st): st is StreamState => st !== undefined);
    const rest = params
      .filter((p) => !named.includes(p))
      .map((p) => this.streams.get(p)?.spec)
      .filter((spec): spec is StreamSpec => spec !== undefined);
    if (refused.length > 0) {
      const what = refused.map((st) => `${st.symbol} ${st.spec.channel}`).join(', ');
      const code = /symbol/i.test(msg) ? 'ERR_BAD_SYMBOL' : 'ERR_SUBSCRIPTION_REJECTED';
      this.ctx.reject?.(
        refused.map((st) => st.spec),
        code,
        `${this.venue}: ${what} refused by the venue: ${msg}`,
      );
    }
    for (const text of this.subscribeMessages(rest)) this.ctx.send(text);
  }

  // ─── stream bookkeeping ──────────────────────────────────────────────────────────────────

  addStreams(streams: readonly StreamSpec[]): void {
    for (const spec of streams) {
      const name = this.streamName(spec);
      const existing = this.streams.get(name);
      if (existing !== undefined) {
        existing.symbol = spec.symbol;
        existing.symbolId = spec.symbolId;
        if (existing.sync?.needsSnapshot) this.requestSnapshot(existing);
        continue;
      }
      const kind = CHANNEL_KIND[spec.channel];
      if (kind === undefined) throw new Error(`${this.venue}: unsupported channel ${spec.channel} for ${spec.symbol}`);
      const st: StreamState = {
        name,
        spec,
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
                state: new BookSyncState(name, () => this.fetchSnapshot(st)),
                needsSnapshot: false,
                book: new OrderBook({ maxLevels: this.maxBookLevels }),
                buffer: [],
                lastU: Number.NaN,
                bridging: false,
                held: undefined,
                gen: 0,
              }
            : undefined,
      };
      this.streams.set(name, st);
      if (st.sync !== undefined) this.requestSnapshot(st);
    }
    this.rehash();
  }

  removeStreams(streams: readonly StreamSpec[]): void {
    for (const spec of streams) {
      const name = this.streamName(spec);
      const st = this.streams.get(name);
      if (st === undefined) continue;
      st.removed = true;
      if (st.sync !== undefined) {
        this.bookSync.remove(st.sync.state);
        this.clearSync(st.sync);
      }
      this.streams.delete(name);
    }
    this.rehash();
  }

  private rehash(): void {
    const m = new Map<number, StreamState | null>();
    for (const st of this.streams.values()) {
      const h = hashRegion(st.name, 0, st.name.length);
      m.set(h, m.has(h) ? null : st);
    }
    this.byHash = m;
  }

  onDisconnect(): void {
    for (const st of this.streams.values()) {
      const sync = st.sync;
      if (sync === undefined) continue;
      this.bookSync.reset(sync.state);
      this.clearSync(sync);
      sync.needsSnapshot = true;
    }
  }

  /** Forgets the book, its buffered diffs and any snapshot in flight or held. */
  private clearSync(sync: BookSync): void {
    sync.gen++;
    sync.book.clear();
    sync.buffer = [];
    sync.lastU = Number.NaN;
    sync.held = undefined;
  }

  // ─── frames ──────────────────────────────────────────────────────────────────────────────

  onMessage(text: string): void {
    const scanner = this.scanner;
    if (scanner?.scan(text) && this.fastDispatch(text, scanner)) {
      this.stats.fastPath++;
      return;
    }
    const msg = parseObjectFrame(this.venue, text);
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
    const name = this.rawStreamName(msg);
    if (name === undefined) throw new Error(`${this.venue}: unrecognised frame: ${preview(text)}`);
    const st = this.streams.get(name);
    if (st === undefined) {
      this.stats.unknownStream++;
      return;
    }
    this.dispatch(st, msg);
  }

  /**
   * Normalize a scanned frame. Returns false (nothing emitted) whenever the fields are not
   * exactly what the `JSON.parse` path would accept without error, so that path decides.
   */
  private fastDispatch(text: string, sc: BinanceScanner): boolean {
    const st = this.byHash.get(sc.streamHash);
    if (
      st === undefined ||
      st === null ||
      st.name.length !== sc.streamEnd - sc.streamStart ||
      !text.startsWith(st.name, sc.streamStart)
    ) {
      return false;
    }
    const ty = sc.type;
    const v = sc.val;
    switch (st.kind) {
      case K_TRADES:
      case K_AGG_TRADES: {
        const idSlot = st.kind === K_TRADES ? S_t : S_a;
        const m = ty[S_m];
        // USD-M names the trade's kind; anything but a market trade is the JSON path's to decide.
        if (ty[S_X] !== T_ABSENT && !(ty[S_X] === T_STRING && text.startsWith('MARKET"', v[S_X]))) return false;
        if (
          ty[idSlot] !== T_NUMBER ||
          ty[S_T] !== T_NUMBER ||
          ty[S_p] !== T_DECIMAL ||
          ty[S_q] !== T_DECIMAL ||
          v[S_p] < 0 ||
          v[S_q] < 0 ||
          (m !== T_TRUE && m !== T_FALSE)
        ) {
          return false;
        }
        this.emitTrade(st, v[idSlot], v[S_T], v[S_p], v[S_q], m === T_TRUE);
        return true;
      }
      case K_QUOTES: {
        const e = ty[S_E];
        if (
          ty[S_u] !== T_NUMBER ||
          ty[S_b] !== T_DECIMAL ||
          ty[S_B] !== T_DECIMAL ||
          ty[S_a] !== T_DECIMAL ||
          ty[S_A] !== T_DECIMAL ||
          v[S_b] < 0 ||
          v[S_B] < 0 ||
          v[S_a] < 0 ||
          v[S_A] < 0 ||
          (e !== T_NUMBER && e !== T_ABSENT)
        ) {
          return false;
        }
        this.emitQuote(st, e === T_NUMBER ? v[S_E] : Number.NaN, v[S_u], v[S_b], v[S_B], v[S_a], v[S_A]);
        return true;
      }
      case K_BOOK: {
        const e = ty[S_E];
        if (
          ty[S_U] !== T_NUMBER ||
          ty[S_u] !== T_NUMBER ||
          ty[S_b] !== T_LEVELS ||
          ty[S_a] !== T_LEVELS ||
          (this.rule.needsPu && ty[S_pu] !== T_NUMBER) ||
          (e !== T_NUMBER && e !== T_ABSENT) ||
          v[S_U] > v[S_u]
        ) {
          return false;
        }
        this.handleDiff(
          st,
          st.sync!,
          e === T_NUMBER ? v[S_E] : Number.NaN,
          v[S_U],
          v[S_u],
          this.rule.needsPu ? v[S_pu] : Number.NaN,
          sc.bids,
          sc.bidCount,
          sc.asks,
          sc.askCount,
        );
        return true;
      }
      default:
        return false;
    }
  }

  private malformed(stream: string, problem: string): Error {
    return new Error(`${this.venue}: malformed frame for ${stream}: ${problem}`);
  }

  private badField(st: StreamState, d: Obj, key: string, what: string): Error {
    return this.fields.error(st, d, key, what);
  }

  private dispatch(st: StreamState, d: Obj): void {
    switch (st.kind) {
      case K_TRADES:
        this.onTrade(st, d, 't');
        return;
      case K_AGG_TRADES:
        this.onTrade(st, d, 'a');
        return;
      case K_QUOTES:
        this.onBookTicker(st, d);
        return;
      case K_TICKER:
        this.onTicker(st, d);
        return;
      case K_BOOK:
        this.onDepthChecked(st, d);
        return;
      case K_CANDLES:
        this.onKline(st, d);
        return;
      case K_FUNDING:
        this.onMarkPrice(st, d);
        return;
    }
  }

  private onTrade(st: StreamState, d: Obj, idKey: 't' | 'a'): void {
    const id = this.fields.integer(st, d, idKey);
    const ts = this.fields.integer(st, d, 'T');
    const price = this.fields.size(st, d, 'p');
    const amount = this.fields.size(st, d, 'q');
    const m = d.m;
    if (typeof m !== 'boolean') throw this.badField(st, d, 'm', 'is not a boolean');
    const kind = d.X;
    if (kind !== undefined && kind !== 'MARKET') {
      if (typeof kind !== 'string') throw this.badField(st, d, 'X', 'is not a string');
      // Insurance-fund and auto-deleveraging fills (and `NA`) are not market trades.
      this.stats.offBookTrades++;
      if (id > st.last) st.last = id;
      return;
    }
    this.emitTrade(st, id, ts, price, amount, m);
  }

  private emitTrade(st: StreamState, id: number, ts: number, price: number, amount: number, m: boolean): void {
    if (id <= st.last) {
      this.stats.duplicates++;
      return;
    }
    st.last = id;
    // m: the buyer is the maker → the seller was the aggressor.
    this.ctx.sink.trade(st.symbolId, ts, id, m ? Side.sell : Side.buy, price, amount);
  }

  private onBookTicker(st: StreamState, d: Obj): void {
    const u = this.fields.integer(st, d, 'u');
    const bid = this.fields.size(st, d, 'b');
    const bidAmount = this.fields.size(st, d, 'B');
    const ask = this.fields.size(st, d, 'a');
    const askAmount = this.fields.size(st, d, 'A');
    const e = d.E;
    // Spot bookTicker carries no event time (NaN); USD-M has E (and T).
    this.emitQuote(st, typeof e === 'number' ? e : Number.NaN, u, bid, bidAmount, ask, askAmount);
  }

  private emitQuote(
    st: StreamState,
    E: number,
    u: number,
    bid: number,
    bidAmount: number,
    ask: number,
    askAmount: number,
  ): void {
    if (u <= st.last) {
      this.stats.duplicates++;
      return;
    }
    st.last = u;
    // E is optional (spot has none): a non-finite one (1e999) counts as not provided, never written.
    this.ctx.sink.quote(st.symbolId, Number.isFinite(E) ? E : Number.NaN, u, bid, bidAmount, ask, askAmount);
  }

  /** `24hrTicker` (the `@ticker` stream); `24hrMiniTicker` payloads are accepted too. */
  private onTicker(st: StreamState, d: Obj): void {
    const E = this.fields.integer(st, d, 'E');
    const f = this.ticker;
    f.last = this.fields.decimal(st, d, 'c');
    f.open = this.fields.decimal(st, d, 'o');
    f.high = this.fields.decimal(st, d, 'h');
    f.low = this.fields.decimal(st, d, 'l');
    f.baseVolume = this.fields.decimal(st, d, 'v');
    f.quoteVolume = this.fields.decimal(st, d, 'q');
    f.bidPrice = dec(d.b); // absent in miniTicker and in USD-M tickers → NaN
    f.askPrice = dec(d.a);
    // markPrice … nextFundingTs stay NaN (they come with the funding channel).
    // Rotation dedupe: one event per stream per event time.
    if (E <= st.last) {
      this.stats.duplicates++;
      return;
    }
    st.last = E;
    const L = d.L;
    this.ctx.sink.ticker(st.symbolId, E, typeof L === 'number' ? L : Number.NaN, f);
  }

  /**
   * USD-M `markPriceUpdate` (the `@markPrice@1s` stream) → a ticker record carrying markPrice,
   * indexPrice, fundingRate and nextFundingTs (the 24h fields stay NaN). Delivery contracts send
   * an empty funding rate and `T: 0`: NaN.
   */
  private onMarkPrice(st: StreamState, d: Obj): void {
    const E = this.fields.integer(st, d, 'E');
    const f = this.funding;
    f.markPrice = this.fields.decimal(st, d, 'p');
    f.indexPrice = dec(d.i);
    f.fundingRate = dec(d.r);
    const T = d.T;
    f.nextFundingTs = typeof T === 'number' && T > 0 ? T : Number.NaN;
    if (E <= st.last) {
      this.stats.duplicates++;
      return;
    }
    st.last = E;
    this.ctx.sink.ticker(st.symbolId, E, Number.NaN, f);
  }

  private onKline(st: StreamState, d: Obj): void {
    const E = this.fields.integer(st, d, 'E');
    const k = d.k;
    if (!isObj(k)) throw this.malformed(st.name, 'missing "k" object');
    const intervalSec = klineIntervalSec(k.i);
    if (intervalSec === undefined) throw this.badField(st, k, 'i', 'is not a kline interval');
    const openTs = this.fields.integer(st, k, 't');
    const open = this.fields.decimal(st, k, 'o');
    const high = this.fields.decimal(st, k, 'h');
    const low = this.fields.decimal(st, k, 'l');
    const close = this.fields.decimal(st, k, 'c');
    const volume = this.fields.decimal(st, k, 'v');
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
      if (!Number.isFinite(p) || !Number.isFinite(q) || p < 0 || q < 0) {
        throw this.malformed(
          name,
          `${side === 0 ? 'bid' : 'ask'} level ${i} is not numeric or is negative: ${previewValue(lv)}`,
        );
      }
      out[2 * i] = p;
      out[2 * i + 1] = q;
    }
    return n;
  }

  /**
   * A depth frame of a synced book that cannot be used may have carried a real update: the book
   * resyncs now (as for a gap) rather than trusting the next diff's sequence alone, and the
   * frame is still reported as bad. (While a snapshot is pending nothing is lost: the buffered
   * diffs are checked for continuity when it is applied.)
   */
  private onDepthChecked(st: StreamState, d: Obj): void {
    try {
      this.onDepth(st, d);
    } catch (err) {
      const sync = st.sync!;
      if (sync.state.synced) this.resync(st, sync, ResyncReason.sequenceGap);
      throw err;
    }
  }

  private onDepth(st: StreamState, d: Obj): void {
    const U = this.fields.integer(st, d, 'U');
    const u = this.fields.integer(st, d, 'u');
    const pu = this.rule.needsPu ? this.fields.integer(st, d, 'pu') : Number.NaN;
    if (!Array.isArray(d.b)) throw this.badField(st, d, 'b', 'is not an array');
    if (!Array.isArray(d.a)) throw this.badField(st, d, 'a', 'is not an array');
    if (U > u) throw this.malformed(st.name, `first update id U=${U} > last update id u=${u}`);
    const nb = this.parseLevels(st.name, d.b, 0);
    const na = this.parseLevels(st.name, d.a, 1);
    const E = d.E;
    this.handleDiff(
      st,
      st.sync!,
      typeof E === 'number' ? E : Number.NaN,
      U,
      u,
      pu,
      this.bidScratch,
      nb,
      this.askScratch,
      na,
    );
  }

  private handleDiff(
    st: StreamState,
    sync: BookSync,
    E: number,
    U: number,
    u: number,
    pu: number,
    bids: Float64Array,
    nb: number,
    asks: Float64Array,
    na: number,
  ): void {
    if (!sync.state.synced) {
      this.bufferDiff(st, sync, E, U, u, pu, bids, nb, asks, na);
      if (sync.needsSnapshot) {
        this.requestSnapshot(st);
      } else if (sync.held !== undefined) {
        this.useSnapshot(st, sync, sync.held);
      }
      return;
    }
    const rule = this.rule;
    let ok: boolean;
    if (sync.bridging) {
      if (rule.covered(u, sync.lastU)) {
        this.stats.duplicates++;
        return;
      }
      ok = rule.bridges(U, sync.lastU);
    } else {
      if (u <= sync.lastU) {
        this.stats.duplicates++;
        return;
      }
      ok = rule.continues(U, pu, sync.lastU);
    }
    if (!ok) {
      this.ctx.log.warn(`${this.venue}: depth sequence gap`, {
        stream: st.name,
        lastU: sync.lastU,
        U,
        u,
        pu,
      });
      this.resync(st, sync, ResyncReason.sequenceGap);
      this.bufferDiff(st, sync, E, U, u, pu, bids, nb, asks, na);
      return;
    }
    const book = sync.book;
    book.applyDelta(bids, nb, asks, na);
    if (book.isCrossed()) {
      this.ctx.log.warn(`${this.venue}: crossed book`, {
        stream: st.name,
        u,
        bestBid: book.bestBid(),
        bestAsk: book.bestAsk(),
      });
      this.resync(st, sync, ResyncReason.crossedBook);
      this.bufferDiff(st, sync, E, U, u, pu, bids, nb, asks, na);
      return;
    }
    sync.lastU = u;
    sync.bridging = false;
    this.ctx.sink.book(st.symbolId, E, U, u, false, bids, nb, asks, na);
  }

  private bufferDiff(
    st: StreamState,
    sync: BookSync,
    E: number,
    U: number,
    u: number,
    pu: number,
    bids: Float64Array,
    nb: number,
    asks: Float64Array,
    na: number,
  ): void {
    if (sync.buffer.length >= this.maxBufferedUpdates) {
      this.stats.bufferOverflows++;
      this.ctx.log.warn(`${this.venue}: depth buffer overflow while waiting for a snapshot; refetching`, {
        stream: st.name,
        buffered: sync.buffer.length,
      });
      sync.buffer = [];
      this.requestSnapshot(st);
    }
    sync.buffer.push({ E, U, u, pu, bids: bids.slice(0, 2 * nb), nb, asks: asks.slice(0, 2 * na), na });
  }

  private resync(st: StreamState, sync: BookSync, reason: number): void {
    this.stats.resyncs++;
    this.clearSync(sync);
    sync.needsSnapshot = false;
    this.bookSync.desync(sync.state, st.symbolId, reason);
  }

  /**
   * (Re)request the snapshot for a book stream without a status record (a new stream, a stale
   * snapshot, a buffer overflow): supersedes any in-flight or held snapshot; the kit keeps the
   * per-symbol minimum interval between requests.
   */
  private requestSnapshot(st: StreamState): void {
    const sync = st.sync!;
    sync.gen++;
    sync.held = undefined;
    sync.needsSnapshot = false;
    this.bookSync.desync(sync.state, st.symbolId, ResyncReason.sequenceGap, false);
  }

  /** The kit's ask: fetch the REST snapshot (answers of superseded asks are ignored). */
  private fetchSnapshot(st: StreamState): void {
    const sync = st.sync!;
    const gen = ++sync.gen;
    this.stats.snapshotRequests++;
    const url = `${this.ctx.restUrl}${this.flavor.snapshotPath}?symbol=${st.native}&limit=${this.snapshotLimit}`;
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
    this.ctx.log.warn(`${this.venue}: depth snapshot failed; retrying`, {
      stream: st.name,
      error: err instanceof Error ? err.message : String(err),
      asks: sync.state.asks,
    });
    this.bookSync.askRejected(sync.state);
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
    const E = body.E;
    const snap: Snapshot = {
      L,
      E: typeof E === 'number' ? E : Number.NaN,
      bids: this.bidScratch.slice(0, 2 * nb),
      nb,
      asks: this.askScratch.slice(0, 2 * na),
      na,
    };
    // Validate before buffered diffs are looked at: a crossed snapshot cannot be used.
    const probe = new OrderBook({ maxLevels: this.maxBookLevels });
    probe.applySnapshot(snap.bids, nb, snap.asks, na);
    if (probe.isCrossed()) throw new Error('snapshot book is crossed');
    this.useSnapshot(st, sync, snap);
  }

  /**
   * Apply `snap` if the buffered diffs allow it: drop the diffs it covers; if the first one left
   * does not bridge it, refetch; if none is left and the rule says so, hold it for the next diff.
   */
  private useSnapshot(st: StreamState, sync: BookSync, snap: Snapshot): void {
    const rule = this.rule;
    const L = snap.L;
    let buffer = sync.buffer;
    let drop = 0;
    while (drop < buffer.length && rule.covered(buffer[drop].u, L)) drop++;
    if (drop > 0) {
      this.stats.droppedBeforeSnapshot += drop;
      buffer = buffer.slice(drop);
    }
    sync.held = undefined;
    if (buffer.length === 0 && rule.deferSnapshot) {
      sync.buffer = buffer;
      sync.held = snap;
      return;
    }
    if (buffer.length > 0 && !rule.bridges(buffer[0].U, L)) {
      this.stats.staleSnapshots++;
      this.ctx.log.info(`${this.venue}: depth snapshot older than buffered diffs; refetching`, {
        stream: st.name,
        lastUpdateId: L,
        firstU: buffer[0].U,
      });
      sync.buffer = buffer;
      this.requestSnapshot(st);
      return;
    }
    sync.buffer = [];
    this.bookSync.snapshotApplied(sync.state);
    sync.book.applySnapshot(snap.bids, snap.nb, snap.asks, snap.na);
    sync.lastU = L;
    sync.bridging = true;
    this.ctx.sink.book(st.symbolId, snap.E, Number.NaN, L, true, snap.bids, snap.nb, snap.asks, snap.na);
    this.ctx.sink.status(st.symbolId, StatusCode.synced, L);
    // Replay the buffer through the live path: a gap or crossed book inside it resyncs, and
    // the remaining diffs are then buffered for the next snapshot.
    for (let i = 0; i < buffer.length; i++) {
      const d = buffer[i];
      this.handleDiff(st, sync, d.E, d.U, d.u, d.pu, d.bids, d.nb, d.asks, d.na);
    }
  }

  /** Stream name for a raw (non-envelope) payload, by event type and symbol. */
  private rawStreamName(m: Obj): string | undefined {
    const s = m.s;
    if (typeof s !== 'string') return undefined;
    const l = s.toLowerCase();
    const suffix = this.flavor.naming.suffix;
    const named = (ch: Channel): string | undefined => {
      const x = suffix[ch];
      return x === undefined ? undefined : l + x;
    };
    switch (m.e) {
      case 'trade':
        return named('trades');
      case 'aggTrade':
        return named('aggTrades');
      case 'depthUpdate':
        return named('book');
      case '24hrTicker':
      case '24hrMiniTicker':
        return named('ticker');
      case 'markPriceUpdate':
        return named('funding');
      case 'kline': {
        const k = m.k;
        return isObj(k) && typeof k.i === 'string' ? `${l}@kline_${k.i}` : undefined;
      }
      case 'bookTicker': // USD-M
        return named('quotes');
      case undefined:
        // Spot bookTicker has no event type.
        return 'u' in m && 'b' in m && 'a' in m ? named('quotes') : undefined;
      default:
        return undefined;
    }
  }
}

export function createBinanceSession(
  ctx: SessionContext,
  options?: BinanceSessionOptions,
): BinanceSession {
  return new BinanceSession(ctx, options);
}
