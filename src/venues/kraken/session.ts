/**
 * Kraken WebSocket v2 session (https://docs.kraken.com/api/docs/websocket-v2/book …): JSON-object
 * frames `{"channel","type","data"}` and `{"method","success",…}` acks, normalized into the sink.
 *
 * Channels: `trades` ← `trade` (subscribed with snapshot=false; seq = trade_id, duplicates by
 * trade_id dropped), `ticker` ← `ticker` (open = last − change and quoteVolume = vwap · volume,
 * as ccxt derives them; duplicates by timestamp dropped), `candles` ← `ohlc` (openTs =
 * interval_begin; candles of a snapshot other than the newest are `closed`; updates are open
 * candles — Kraken never marks a candle final), `book` ← `book`. No `quotes` channel: Kraken's
 * bbo-triggered ticker would share one subscription with `ticker`; not implemented.
 *
 * Books (https://docs.kraken.com/api/docs/guides/spot-ws-book-v2). Kraken has no book sequence
 * numbers; integrity rests on the CRC32 checksum carried by every snapshot and update:
 *  - The session subscribes `instrument` on open (it has no symbol filter: all pairs) to learn
 *    each pair's price/qty precision, which the checksum text depends on. Until a pair's
 *    precision is known its checksums cannot be checked (counted in `stats.unverified`).
 *  - A snapshot replaces the book. After each update the book is truncated to the subscribed
 *    depth (Kraken sends no delete for a level pushed out of scope); the truncated levels are
 *    added to the emitted delta as amount-0 levels so a consumer applying deltas keeps the same
 *    book. Book records carry seq = NaN (no venue sequence) and exchangeTs = the frame timestamp.
 *  - The checksum over the top 10 levels is verified after every snapshot/update, before anything
 *    is emitted. A mismatch (or a crossed book) resyncs THAT symbol only: `resync` status
 *    (checksum / crossedBook), `ctx.onResync`, book cleared, then `unsubscribe` + `subscribe` of
 *    that pair's book for a fresh snapshot, through kit/book-resync.ts (rate-limited, retried
 *    with capped backoff on timeout and on a refused subscribe). A rejected book frame of a
 *    synced book, or a rejected snapshot, resyncs the same way (sequenceGap). Updates before the new
 *    snapshot are dropped. The snapshot is followed by a `synced` status (detail 0: no sequence).
 *  - `onDisconnect` clears every book; the next socket's subscribe brings a new snapshot.
 *  - Rotation: the successor's own snapshot replaces the book (a snapshot record, no status);
 *    its updates then follow from that snapshot, so no sequence dedupe is needed for books.
 */

import { OrderBook } from '../../book/order-book.js';
import { ResyncReason, Side, StatusCode } from '../../records/types.js';
import type { SessionContext, StreamSpec, TickerFields, VenueSession } from '../contract.js';
import { BookResync, type BookResyncTiming, BookSyncState } from '../kit/book-resync.js';
import { FieldReader } from '../kit/fields.js';
import { parseObjectFrame } from '../kit/frame.js';
import { dec, isObj, type Obj, preview, previewValue } from '../kit/json-fields.js';
import { LevelScratch, parseObjectLevels } from '../kit/levels.js';
import { type SessionStats, sessionStats } from '../kit/session-stats.js';
import { emptyTickerFields } from '../kit/ticker-fields.js';
import { krakenBookChecksum, MAX_PRECISION } from './checksum.js';
import { KRAKEN_BOOK_DEPTHS, KRAKEN_CHANNEL, ohlcMinutes, parseRfc3339 } from './protocol.js';

/** Resync timing (`minResyncIntervalMs`, `snapshotTimeoutMs`, `now` …): see kit/book-resync.ts. */
export interface KrakenSessionOptions extends BookResyncTiming {
  /** Book depth to subscribe (10, 25, 100, 500 or 1000). Default 25. */
  bookDepth?: number;
}

export interface KrakenSessionStats extends SessionStats {
  checksumMismatches: number;
  /** Book snapshots/updates whose checksum could not be checked (no precision yet, or no checksum). */
  unverified: number;
  /** Book updates dropped while the symbol waited for a snapshot. */
  droppedUnsynced: number;
}

interface BaseState {
  readonly spec: StreamSpec;
  symbolId: number;
  /** Dedupe key: last trade id / ticker or ohlc frame time emitted. */
  last: number;
  /** Candles: open time of the last emitted candle. */
  lastAux: number;
}

interface BookState extends BaseState {
  readonly book: OrderBook;
  readonly sync: BookSyncState;
}

interface Precision {
  price: number;
  qty: number;
}

function grow(a: Float64Array, need: number): Float64Array {
  if (a.length >= need) return a;
  let cap = a.length;
  while (cap < need) cap *= 2;
  const b = new Float64Array(cap);
  b.set(a);
  return b;
}

export class KrakenSession implements VenueSession {
  readonly stats: KrakenSessionStats = sessionStats('checksumMismatches', 'unverified', 'droppedUnsynced');

  private readonly trades = new Map<string, BaseState>();
  private readonly tickers = new Map<string, BaseState>();
  private readonly books = new Map<string, BookState>();
  /** native → (interval minutes → state). */
  private readonly candles = new Map<string, Map<number, BaseState>>();
  private readonly precision = new Map<string, Precision>();
  private nextReqId = 1;
  /** Subscribe requests awaiting their per-symbol acks: req_id → streams asked for, acks still due. */
  private readonly pendingSubscribes = new Map<number, { streams: StreamSpec[]; due: number }>();

  private readonly ticker: TickerFields = emptyTickerFields();
  private readonly levels = new LevelScratch();
  private readonly fields = new FieldReader<string>((channel, d) => `kraken: ${channel} ${previewValue(d.symbol)}`);
  private deepBids: Float64Array = new Float64Array(256);
  private deepAsks: Float64Array = new Float64Array(256);
  private readonly topBids = new Float64Array(20);
  private readonly topAsks = new Float64Array(20);

  readonly bookDepth: number;
  private readonly bookSync: BookResync;

  constructor(
    private readonly ctx: SessionContext,
    options: KrakenSessionOptions = {},
  ) {
    const depth = options.bookDepth ?? 25;
    if (!KRAKEN_BOOK_DEPTHS.includes(depth)) {
      throw new Error(`kraken: book depth ${depth} is not one of ${KRAKEN_BOOK_DEPTHS.join(', ')}`);
    }
    this.bookDepth = depth;
    this.bookSync = new BookResync('kraken', ctx, options);
  }

  /** The worker-side book of a symbol (undefined when not subscribed). */
  book(symbol: string): OrderBook | undefined {
    return this.books.get(symbol)?.book;
  }

  isSynced(symbol: string): boolean {
    return this.books.get(symbol)?.sync.synced === true;
  }

  /** Price/qty precision learnt from the `instrument` channel. */
  precisionOf(symbol: string): Precision | undefined {
    return this.precision.get(symbol);
  }

  // ─── control frames ──────────────────────────────────────────────────────────────────────

  openMessages(streams: readonly StreamSpec[]): string[] {
    const instrument = JSON.stringify({
      method: 'subscribe',
      params: { channel: 'instrument', snapshot: true },
      req_id: this.nextReqId++,
    });
    return [instrument, ...this.requests('subscribe', streams)];
  }

  subscribeMessages(streams: readonly StreamSpec[]): string[] {
    return this.requests('subscribe', streams);
  }

  unsubscribeMessages(streams: readonly StreamSpec[]): string[] {
    return this.requests('unsubscribe', streams);
  }

  /** One request per (channel, interval) group. */
  private requests(method: 'subscribe' | 'unsubscribe', streams: readonly StreamSpec[]): string[] {
    const groups = new Map<string, { params: Obj; symbols: string[]; specs: StreamSpec[] }>();
    for (const spec of streams) {
      const channel = KRAKEN_CHANNEL[spec.channel];
      if (channel === undefined) throw new Error(`kraken: unsupported channel ${spec.channel} for ${spec.symbol}`);
      const params: Obj = { channel };
      if (channel === 'ohlc') params.interval = ohlcMinutes(spec);
      if (channel === 'book') params.depth = this.bookDepth;
      if (channel === 'trade' && method === 'subscribe') params.snapshot = false;
      const key = `${channel}|${params.interval ?? ''}`;
      let g = groups.get(key);
      if (g === undefined) {
        g = { params, symbols: [], specs: [] };
        groups.set(key, g);
      }
      g.symbols.push(spec.native);
      g.specs.push(spec);
    }
    const out: string[] = [];
    for (const { params, symbols, specs } of groups.values()) {
      const reqId = this.nextReqId++;
      if (method === 'subscribe') this.pendingSubscribes.set(reqId, { streams: specs, due: symbols.length });
      out.push(JSON.stringify({ method, params: { ...params, symbol: symbols }, req_id: reqId }));
    }
    return out;
  }

  private bookRequest(method: 'subscribe' | 'unsubscribe', native: string): string {
    return JSON.stringify({
      method,
      params: { channel: 'book', symbol: [native], depth: this.bookDepth },
      req_id: this.nextReqId++,
    });
  }

  // ─── stream bookkeeping ──────────────────────────────────────────────────────────────────

  addStreams(streams: readonly StreamSpec[]): void {
    for (const spec of streams) {
      const base: BaseState = {
        spec,
        symbolId: spec.symbolId,
        last: Number.NEGATIVE_INFINITY,
        lastAux: Number.NEGATIVE_INFINITY,
      };
      switch (spec.channel) {
        case 'trades':
          if (!this.trades.has(spec.native)) this.trades.set(spec.native, base);
          break;
        case 'ticker':
          if (!this.tickers.has(spec.native)) this.tickers.set(spec.native, base);
          break;
        case 'candles': {
          const minutes = ohlcMinutes(spec);
          let m = this.candles.get(spec.native);
          if (m === undefined) {
            m = new Map();
            this.candles.set(spec.native, m);
          }
          if (!m.has(minutes)) m.set(minutes, base);
          break;
        }
        case 'book':
          if (!this.books.has(spec.native)) {
            this.books.set(spec.native, {
              ...base,
              // Room for one update's inserts beyond the depth before truncation.
              book: new OrderBook({ maxLevels: Math.max(5000, 2 * this.bookDepth) }),
              sync: new BookSyncState(spec.native, () => {
                this.ctx.send(this.bookRequest('unsubscribe', spec.native));
                this.ctx.send(this.bookRequest('subscribe', spec.native));
              }),
            });
          }
          break;
        default:
          throw new Error(`kraken: unsupported channel ${spec.channel} for ${spec.symbol}`);
      }
    }
  }

  removeStreams(streams: readonly StreamSpec[]): void {
    for (const spec of streams) {
      switch (spec.channel) {
        case 'trades':
          this.trades.delete(spec.native);
          break;
        case 'ticker':
          this.tickers.delete(spec.native);
          break;
        case 'candles': {
          const m = this.candles.get(spec.native);
          m?.delete(ohlcMinutes(spec));
          if (m !== undefined && m.size === 0) this.candles.delete(spec.native);
          break;
        }
        case 'book': {
          const st = this.books.get(spec.native);
          if (st === undefined) break;
          this.bookSync.remove(st.sync);
          this.books.delete(spec.native);
          break;
        }
        default:
          break;
      }
    }
  }

  onDisconnect(): void {
    this.pendingSubscribes.clear();
    for (const st of this.books.values()) {
      this.bookSync.reset(st.sync);
      st.book.clear();
    }
  }

  // ─── frames ──────────────────────────────────────────────────────────────────────────────

  onMessage(text: string): void {
    const msg = parseObjectFrame('kraken', text);
    const channel = msg.channel;
    if (typeof channel === 'string') {
      this.onChannel(channel, msg, text);
      return;
    }
    const method = msg.method;
    if (typeof method === 'string') {
      this.onMethod(method, msg);
      return;
    }
    throw new Error(`kraken: frame has neither "channel" nor "method": ${preview(text)}`);
  }

  private onChannel(channel: string, msg: Obj, text: string): void {
    switch (channel) {
      case 'heartbeat':
      case 'status':
        return;
      case 'instrument':
        this.onInstrument(msg);
        return;
    }
    const type = msg.type;
    const data = msg.data;
    if (type !== 'snapshot' && type !== 'update') {
      throw new Error(`kraken: ${channel} frame has type ${previewValue(type)}: ${preview(text)}`);
    }
    if (!Array.isArray(data)) throw new Error(`kraken: ${channel} frame has no "data" array: ${preview(text)}`);
    // A frame with several entries is checked whole first (`check` = validate only): a bad entry
    // rejects the frame before any entry of it is written.
    const passes = data.length > 1 ? 2 : 1;
    switch (channel) {
      case 'trade':
        for (let p = passes; p > 0; p--) for (let i = 0; i < data.length; i++) this.onTrade(data[i], p > 1);
        return;
      case 'ticker':
        for (let p = passes; p > 0; p--) for (let i = 0; i < data.length; i++) this.onTicker(data[i], p > 1);
        return;
      case 'ohlc': {
        const ts = parseRfc3339(msg.timestamp);
        const snapshot = type === 'snapshot';
        for (let p = passes; p > 0; p--) {
          for (let i = 0; i < data.length; i++) this.onCandle(data[i], ts, snapshot && i < data.length - 1, p > 1);
        }
        return;
      }
      case 'book':
        try {
          for (let p = passes; p > 0; p--) for (let i = 0; i < data.length; i++) this.onBook(data[i], type === 'snapshot', p > 1);
        } catch (err) {
          this.resyncRejected(data, type === 'snapshot');
          throw err;
        }
        return;
      default:
        this.stats.unknownStream++;
    }
  }

  private onMethod(method: string, msg: Obj): void {
    if (method === 'pong') return;
    const request = method === 'subscribe' && typeof msg.req_id === 'number' ? this.pendingSubscribes.get(msg.req_id) : undefined;
    if (request !== undefined && --request.due <= 0) this.pendingSubscribes.delete(msg.req_id as number);
    if (msg.success === true) {
      this.stats.acks++;
      return;
    }
    const error = typeof msg.error === 'string' ? msg.error : msg.error === undefined ? 'no reason given' : previewValue(msg.error);
    // A book resubscription the venue refused brings no snapshot: ask again (rate-limited).
    const book = method === 'subscribe' && typeof msg.symbol === 'string' ? this.books.get(msg.symbol) : undefined;
    if (book !== undefined) this.bookSync.askRejected(book.sync);
    // A resubscription (book resync, rotation) of a live stream: nothing was refused.
    if (/already subscribed/i.test(error)) return;
    this.stats.errorAcks++;
    this.ctx.log.warn('kraken: request rejected', { method, error, symbol: msg.symbol, reqId: msg.req_id });
    if (method === 'subscribe') this.rejectSubscription(msg, error, request?.streams);
  }

  /**
   * A refused subscribe names the pair (`symbol`, else in the error text): those of the
   * request's streams (or, for an untracked request, every stream of the pair) are rejected.
   */
  private rejectSubscription(msg: Obj, error: string, asked: readonly StreamSpec[] | undefined): void {
    const candidates = asked ?? this.allSpecs();
    const named =
      typeof msg.symbol === 'string'
        ? candidates.filter((s) => s.native === msg.symbol)
        : candidates.filter((s) => error.includes(s.native));
    const live = this.allSpecs();
    const streams = named.filter((s) =>
      live.some((t) => t.channel === s.channel && t.symbolId === s.symbolId && t.interval === s.interval),
    );
    if (streams.length === 0) return;
    const code = /pair not supported|unknown (pair|symbol)|invalid symbol/i.test(error)
      ? 'ERR_BAD_SYMBOL'
      : /channel|depth|interval/i.test(error)
        ? 'ERR_BAD_CHANNEL'
        : 'ERR_SUBSCRIPTION_REJECTED';
    const what = [...new Set(streams.map((s) => `${s.symbol} ${s.channel}`))].join(', ');
    this.ctx.reject?.(streams, code, `kraken: ${what} refused by the venue: ${error}`);
  }

  /** Every stream this session carries. */
  private allSpecs(): StreamSpec[] {
    const out: StreamSpec[] = [];
    for (const st of this.trades.values()) out.push(st.spec);
    for (const st of this.tickers.values()) out.push(st.spec);
    for (const st of this.books.values()) out.push(st.spec);
    for (const m of this.candles.values()) for (const st of m.values()) out.push(st.spec);
    return out;
  }

  private onInstrument(msg: Obj): void {
    const data = msg.data;
    if (!isObj(data)) throw new Error('kraken: instrument frame has no "data" object');
    const pairs = data.pairs;
    if (!Array.isArray(pairs)) return; // an update may carry assets only
    for (const p of pairs) {
      if (!isObj(p) || typeof p.symbol !== 'string') continue;
      const price = p.price_precision;
      const qty = p.qty_precision;
      if (!Number.isInteger(price) || !Number.isInteger(qty)) continue;
      if ((price as number) < 0 || (price as number) > MAX_PRECISION) continue;
      if ((qty as number) < 0 || (qty as number) > MAX_PRECISION) continue;
      this.precision.set(p.symbol, { price: price as number, qty: qty as number });
    }
  }

  private onTrade(d: unknown, check = false): void {
    if (!isObj(d)) throw new Error('kraken: trade entry is not an object');
    const st = typeof d.symbol === 'string' ? this.trades.get(d.symbol) : undefined;
    if (st === undefined) {
      this.stats.unknownStream++;
      return;
    }
    const id = this.fields.decimal('trade', d, 'trade_id');
    const price = this.fields.size('trade', d, 'price');
    const qty = this.fields.size('trade', d, 'qty');
    const side = d.side === 'buy' ? Side.buy : d.side === 'sell' ? Side.sell : -1;
    if (side < 0) throw new Error(`kraken: trade ${d.symbol}: side ${previewValue(d.side)} is not buy/sell`);
    if (check) return;
    if (id <= st.last) {
      this.stats.duplicates++;
      return;
    }
    st.last = id;
    this.ctx.sink.trade(st.symbolId, parseRfc3339(d.timestamp), id, side, price, qty);
  }

  private onTicker(d: unknown, check = false): void {
    if (!isObj(d)) throw new Error('kraken: ticker entry is not an object');
    const st = typeof d.symbol === 'string' ? this.tickers.get(d.symbol) : undefined;
    if (st === undefined) {
      this.stats.unknownStream++;
      return;
    }
    const f = this.ticker;
    const last = this.fields.decimal('ticker', d, 'last');
    const volume = this.fields.decimal('ticker', d, 'volume');
    f.last = last;
    f.bidPrice = this.fields.decimal('ticker', d, 'bid');
    f.askPrice = this.fields.decimal('ticker', d, 'ask');
    f.high = this.fields.decimal('ticker', d, 'high');
    f.low = this.fields.decimal('ticker', d, 'low');
    f.baseVolume = volume;
    // Kraken sends the 24 h change and vwap rather than open and quote volume.
    f.open = last - dec(d.change);
    f.quoteVolume = dec(d.vwap) * volume;
    const ts = parseRfc3339(d.timestamp);
    if (check) return;
    if (ts <= st.last) {
      this.stats.duplicates++;
      return;
    }
    if (!Number.isNaN(ts)) st.last = ts;
    this.ctx.sink.ticker(st.symbolId, ts, Number.NaN, f);
  }

  private onCandle(d: unknown, frameTs: number, closed: boolean, check = false): void {
    if (!isObj(d)) throw new Error('kraken: ohlc entry is not an object');
    const byInterval = typeof d.symbol === 'string' ? this.candles.get(d.symbol) : undefined;
    const minutes = this.fields.decimal('ohlc', d, 'interval');
    const st = byInterval?.get(minutes);
    if (st === undefined) {
      this.stats.unknownStream++;
      return;
    }
    const openTs = parseRfc3339(d.interval_begin);
    if (Number.isNaN(openTs)) {
      throw new Error(`kraken: ohlc ${d.symbol}: interval_begin ${previewValue(d.interval_begin)} is not a time`);
    }
    const open = this.fields.decimal('ohlc', d, 'open');
    const high = this.fields.decimal('ohlc', d, 'high');
    const low = this.fields.decimal('ohlc', d, 'low');
    const close = this.fields.decimal('ohlc', d, 'close');
    const volume = this.fields.decimal('ohlc', d, 'volume');
    if (check) return;
    // Rotation/reconnect dedupe: an older candle, or the same candle at an older-or-equal frame time.
    if (openTs < st.lastAux || (openTs === st.lastAux && frameTs <= st.last)) {
      this.stats.duplicates++;
      return;
    }
    st.lastAux = openTs;
    st.last = frameTs;
    this.ctx.sink.candle(st.symbolId, frameTs, Number.NaN, minutes * 60, openTs, open, high, low, close, volume, closed);
  }

  // ─── books ───────────────────────────────────────────────────────────────────────────────

  /** Parse `[{price, qty}, …]` into the bid (side 0) or ask (side 1) scratch; returns the count. */
  private parseLevels(symbol: string, levels: unknown, side: 0 | 1): number {
    if (!Array.isArray(levels)) throw new Error(`kraken: book ${symbol}: "${side === 0 ? 'bids' : 'asks'}" is not an array`);
    // Room for the truncated levels appended after the venue's own (at most one per level of
    // the update, see truncate()) and for a snapshot's top `bookDepth` levels.
    const room = Math.max(2 * levels.length, this.bookDepth) + 1;
    return parseObjectLevels('kraken', 'book', symbol, side, levels, this.levels, 'price', 'qty', room);
  }

  private onBook(d: unknown, snapshot: boolean, check = false): void {
    if (!isObj(d)) throw new Error('kraken: book entry is not an object');
    const symbol = d.symbol;
    const st = typeof symbol === 'string' ? this.books.get(symbol) : undefined;
    if (st === undefined) {
      this.stats.unknownStream++;
      return;
    }
    const native = symbol as string;
    // Parse (and so validate) everything before touching the book.
    let nb = this.parseLevels(native, d.bids, 0);
    let na = this.parseLevels(native, d.asks, 1);
    const checksum = d.checksum;
    if (checksum !== undefined && typeof checksum !== 'number') {
      throw new Error(`kraken: book ${native}: checksum ${previewValue(checksum)} is not a number`);
    }
    if (check) return;
    const ts = parseRfc3339(d.timestamp);
    const book = st.book;
    if (snapshot) {
      book.applySnapshot(this.levels.bids, nb, this.levels.asks, na);
      this.truncate(book);
    } else {
      if (!st.sync.synced) {
        this.stats.droppedUnsynced++;
        return;
      }
      book.applyDelta(this.levels.bids, nb, this.levels.asks, na);
      const added = this.truncate(book, nb, na);
      nb += added >>> 16;
      na += added & 0xffff;
    }
    if (book.isCrossed()) {
      this.ctx.log.warn('kraken: crossed book', { symbol: native, bestBid: book.bestBid(), bestAsk: book.bestAsk() });
      this.resync(st, ResyncReason.crossedBook);
      return;
    }
    if (!this.checksumOk(st, native, checksum)) return;
    if (snapshot) {
      const top = book.top(this.bookDepth, this.levels.bids, this.levels.asks);
      this.ctx.sink.book(st.symbolId, ts, Number.NaN, Number.NaN, true, this.levels.bids, top.bids, this.levels.asks, top.asks);
      if (this.bookSync.snapshotApplied(st.sync)) this.ctx.sink.status(st.symbolId, StatusCode.synced, 0);
      return;
    }
    this.ctx.sink.book(st.symbolId, ts, Number.NaN, Number.NaN, false, this.levels.bids, nb, this.levels.asks, na);
  }

  /**
   * A rejected book frame may have carried real updates, and levels beyond the checksummed top
   * 10 would never be found wrong: every synced book it names resyncs (and the frame counts as
   * bad); so does every book a rejected snapshot names (it would otherwise wait for good).
   * Nothing of the frame was applied (it is validated whole first).
   */
  private resyncRejected(data: unknown[], snapshot: boolean): void {
    for (const d of data) {
      const st = isObj(d) && typeof d.symbol === 'string' ? this.books.get(d.symbol) : undefined;
      if (st?.sync.resyncsAfterRejected(snapshot)) this.resync(st, ResyncReason.sequenceGap);
    }
  }

  /**
   * Drop the levels beyond the subscribed depth; for a delta (counts given) they are appended to
   * the scratch arrays as amount-0 levels. Returns (added bids << 16) | added asks.
   */
  private truncate(book: OrderBook, nb = -1, na = -1): number {
    const depth = this.bookDepth;
    const extraB = book.bidDepth - depth;
    const extraA = book.askDepth - depth;
    if (extraB <= 0 && extraA <= 0) return 0;
    const all = Math.max(book.bidDepth, book.askDepth);
    this.deepBids = grow(this.deepBids, 2 * all);
    this.deepAsks = grow(this.deepAsks, 2 * all);
    book.top(all, this.deepBids, this.deepAsks);
    const bids = this.levels.bids;
    const asks = this.levels.asks;
    for (let i = depth; i < depth + extraB; i++) {
      const p = this.deepBids[2 * i];
      book.setBid(p, 0);
      if (nb >= 0) {
        bids[2 * nb] = p;
        bids[2 * nb + 1] = 0;
        nb++;
      }
    }
    for (let i = depth; i < depth + extraA; i++) {
      const p = this.deepAsks[2 * i];
      book.setAsk(p, 0);
      if (na >= 0) {
        asks[2 * na] = p;
        asks[2 * na + 1] = 0;
        na++;
      }
    }
    return (Math.max(0, extraB) << 16) | Math.max(0, extraA);
  }

  private checksumOk(st: BookState, native: string, checksum: number | undefined): boolean {
    const prec = this.precision.get(native);
    if (checksum === undefined || prec === undefined) {
      this.stats.unverified++;
      return true;
    }
    const top = st.book.top(10, this.topBids, this.topAsks);
    const ours = krakenBookChecksum(this.topAsks, top.asks, this.topBids, top.bids, prec.price, prec.qty);
    if (ours === checksum) return true;
    this.stats.checksumMismatches++;
    this.ctx.log.warn('kraken: book checksum mismatch', { symbol: native, expected: checksum, computed: ours });
    this.resync(st, ResyncReason.checksum);
    return false;
  }

  private resync(st: BookState, reason: number): void {
    this.stats.resyncs++;
    st.book.clear();
    this.bookSync.desync(st.sync, st.symbolId, reason);
  }
}

export function createKrakenSession(ctx: SessionContext, options?: KrakenSessionOptions): KrakenSession {
  return new KrakenSession(ctx, options);
}
