/**
 * Coinbase Exchange feed session (`wss://ws-feed.exchange.coinbase.com`): subscribe frames,
 * normalization of `match`/`last_match`, `ticker`, `snapshot`/`l2update` and `heartbeat`
 * messages, and per-product book integrity.
 *
 * Wire channels per product: `trades` → `matches` (`last_match` only sets the trade-id baseline); `ticker`/`quotes` → `ticker`; `book` →
 * `level2_batch` (public, 50 ms batches) or `level2` when credentials are configured (the full
 * channel needs a signed subscribe), plus `matches`; every product → `heartbeat` (one message
 * per second per product: liveness for the stale watchdog, and `last_trade_id`).
 *
 * Integrity. Exchange `l2update`s carry no sequence, and the product `sequence` on matches,
 * tickers and heartbeats counts every full-channel event (orders received, opened, done …), so
 * on these channels it legitimately jumps: consecutive-sequence checks would fire all the time.
 * What *is* consecutive per product is the trade id, so continuity is checked on it:
 *  - a `match` (or `last_match`) whose `trade_id` is more than one past the last one seen, or a
 *    `heartbeat` whose `last_trade_id` is past it, means this socket lost a message for that
 *    product → that product's book is resynced: `resync` status (sequenceGap), `ctx.onResync`,
 *    the book is cleared and `level2` is unsubscribed and subscribed again for that product
 *    only, which makes the venue send a fresh `snapshot` (then `synced`), through
 *    kit/book-resync.ts: at most one resubscribe per product per `minResyncIntervalMs`, retried
 *    with capped backoff when no snapshot comes or the venue answers with an error. A rejected
 *    `l2update` of a synced book, or a rejected snapshot, resyncs the same way (sequenceGap).
 *  - `sequence`/`trade_id` at or below what was already emitted is a duplicate (a second socket
 *    during a rotation, a re-subscribe's `last_match`) and is dropped silently.
 *  - a crossed book after an `l2update` (or a crossed snapshot) resyncs the same way
 *    (crossedBook); the offending delta is not emitted.
 * The trade-id baseline comes from the first `last_match`/`match`/`heartbeat` after (re)connect.
 * For a product with only `trades`, a gap is counted and logged (no book to resync).
 */

import { OrderBook } from '../../book/order-book.js';
import { ResyncReason, Side, StatusCode } from '../../records/types.js';
import type { SessionContext, StreamSpec, TickerFields, VenueSession } from '../contract.js';
import { BookResync, type BookResyncTiming, BookSyncState } from '../kit/book-resync.js';
import { FieldReader } from '../kit/fields.js';
import { parseObjectFrame } from '../kit/frame.js';
import { dec, isObj, type Obj, preview, previewValue } from '../kit/json-fields.js';
import { ASKS, BIDS, checkLevel, LevelScratch, parsePairLevels } from '../kit/levels.js';
import { type SessionStats, sessionStats } from '../kit/session-stats.js';
import { emptyTickerFields } from '../kit/ticker-fields.js';
import { channelFrame, L2_AUTH, L2_PUBLIC, parseIsoMs } from './protocol.js';

/** Resync timing (`minResyncIntervalMs`, `snapshotTimeoutMs`, `now` …): see kit/book-resync.ts. */

/** Ticker fields Coinbase sends as decimal strings: [ringfeed field, Coinbase key]. */
const TICKER_FIELDS: ReadonlyArray<readonly [keyof TickerFields, string]> = [
  ['open', 'open_24h'], ['high', 'high_24h'], ['low', 'low_24h'], ['baseVolume', 'volume_24h'], ['bidPrice', 'best_bid'], ['askPrice', 'best_ask'],
];

export interface CoinbaseSessionOptions extends BookResyncTiming {
  /** Max levels per side kept in the worker book. Default 5000. */
  maxBookLevels?: number;
}

export interface CoinbaseSessionStats extends SessionStats {
  /** Message types the session does not use (ignored, as the venue asks clients to). */
  ignored: number;
  /** `l2update`s dropped because the product's book waits for a snapshot. */
  droppedBeforeSnapshot: number;
  /** Trade-id gaps (lost messages) detected, per product. */
  sequenceGaps: number;
  /** level2 resubscribes sent to get a fresh snapshot. */
  resubscribes: number;
  snapshots: number;
}

interface BookState {
  readonly book: OrderBook;
  readonly state: BookSyncState;
}

interface ProductState {
  readonly native: string;
  symbol: string;
  symbolId: number;
  trades: boolean;
  ticker: boolean;
  quotes: boolean;
  book: BookState | undefined;
  /** Last trade id seen (matches, last_match, heartbeat). */
  lastTradeId: number;
  /** true once `lastTradeId` is a trustworthy baseline on the current socket. */
  tradeBaseline: boolean;
  lastTickerSeq: number;
  lastHeartbeatSeq: number;
}

const CH_MATCHES = 'matches';
const CH_TICKER = 'ticker';
const CH_HEARTBEAT = 'heartbeat';

export class CoinbaseSession implements VenueSession {
  readonly stats: CoinbaseSessionStats = sessionStats('ignored', 'droppedBeforeSnapshot', 'sequenceGaps', 'resubscribes', 'snapshots');

  private readonly products = new Map<string, ProductState>();
  /** Wire channel → products, as the venue's last `subscriptions` message confirmed them. */
  private confirmed = new Map<string, Set<string>>();
  private readonly ticker: TickerFields = emptyTickerFields();
  private readonly levels = new LevelScratch();
  private readonly fields = new FieldReader<ProductState>((p, m) => `coinbase: malformed ${String(m.type)} for ${p.native}`);
  private nb = 0;
  private na = 0;

  private readonly maxBookLevels: number;
  private readonly bookSync: BookResync;
  /** Wire name of the book channel: `level2` needs a signed subscribe. */
  readonly l2Channel: string;

  constructor(
    private readonly ctx: SessionContext,
    options: CoinbaseSessionOptions = {},
  ) {
    this.maxBookLevels = options.maxBookLevels ?? ctx.limits.maxBookLevels;
    this.bookSync = new BookResync('coinbase', ctx, options);
    this.l2Channel = ctx.credentials !== undefined ? L2_AUTH : L2_PUBLIC;
  }

  /** The worker-side book of a product (undefined when its book is not subscribed). */
  book(native: string): OrderBook | undefined {
    return this.products.get(native)?.book?.book;
  }

  isSynced(native: string): boolean {
    return this.products.get(native)?.book?.state.synced === true;
  }

  // ─── control frames ──────────────────────────────────────────────────────────────────────

  openMessages(streams: readonly StreamSpec[]): string[] {
    return this.subscribeMessages(streams);
  }

  subscribeMessages(streams: readonly StreamSpec[]): string[] {
    const channels = new Map<string, string[]>();
    for (const s of streams) for (const ch of this.wireChannels(s.channel)) addTo(channels, ch, s.native);
    return channels.size === 0 ? [] : [channelFrame('subscribe', channels, this.ctx.credentials)];
  }

  /** Called after `removeStreams`: drops the wire channels no remaining stream needs. */
  unsubscribeMessages(streams: readonly StreamSpec[]): string[] {
    const channels = new Map<string, string[]>();
    for (const s of streams) {
      const p = this.products.get(s.native);
      for (const ch of this.wireChannels(s.channel)) {
        if (p === undefined || !this.productNeeds(p, ch)) addTo(channels, ch, s.native);
      }
    }
    return channels.size === 0 ? [] : [channelFrame('unsubscribe', channels)];
  }

  private wireChannels(channel: string): string[] {
    switch (channel) {
      case 'trades':
        return [CH_MATCHES, CH_HEARTBEAT];
      case 'ticker':
      case 'quotes':
        return [CH_TICKER, CH_HEARTBEAT];
      case 'book':
        return [this.l2Channel, CH_MATCHES, CH_HEARTBEAT];
      default:
        throw new Error(`coinbase: unsupported channel ${JSON.stringify(channel)}`);
    }
  }

  private productNeeds(p: ProductState, ch: string): boolean {
    const book = p.book !== undefined;
    if (ch === CH_HEARTBEAT) return p.trades || p.ticker || p.quotes || book;
    if (ch === CH_MATCHES) return p.trades || book;
    if (ch === CH_TICKER) return p.ticker || p.quotes;
    return book;
  }

  private confirm(msg: Obj): void {
    const confirmed = new Map<string, Set<string>>();
    if (Array.isArray(msg.channels)) {
      for (const ch of msg.channels) {
        if (!isObj(ch) || typeof ch.name !== 'string' || !Array.isArray(ch.product_ids)) continue;
        confirmed.set(ch.name, new Set(ch.product_ids.filter((id): id is string => typeof id === 'string')));
      }
    }
    this.confirmed = confirmed;
  }

  /**
   * `{"type":"error","message":"Failed to subscribe","reason":"FOO-BAR is not a valid product"}`:
   * Coinbase ignores the whole subscribe for one bad product. That product's streams are
   * rejected and the others not yet confirmed by a `subscriptions` message are asked for again.
   * An error naming no product of ours (e.g. authentication) only logs.
   */
  private rejectNamedProduct(msg: Obj): void {
    const reason = typeof msg.reason === 'string' ? msg.reason : '';
    const named = [...this.products.keys()].filter((native) => mentionsProduct(reason, native));
    if (named.length === 0) return;
    for (const native of named) {
      const streams = this.specsOf(this.products.get(native)!);
      const what = streams.map((s) => `${s.symbol} ${s.channel}`).join(', ');
      const code = /not a valid product|invalid product/i.test(reason) ? 'ERR_BAD_SYMBOL' : 'ERR_SUBSCRIPTION_REJECTED';
      this.ctx.reject?.(streams, code, `coinbase: ${what} refused by the venue: ${String(msg.message)}: ${reason}`);
    }
    const unconfirmed: StreamSpec[] = [];
    for (const p of this.products.values()) {
      if (named.includes(p.native)) continue;
      for (const spec of this.specsOf(p)) {
        if (this.wireChannels(spec.channel).some((ch) => !this.confirmed.get(ch)?.has(p.native))) unconfirmed.push(spec);
      }
    }
    for (const text of this.subscribeMessages(unconfirmed)) this.ctx.send(text);
  }

  /** The streams a product carries, rebuilt from its flags. */
  private specsOf(p: ProductState): StreamSpec[] {
    const base = { symbol: p.symbol, symbolId: p.symbolId, native: p.native };
    const out: StreamSpec[] = [];
    if (p.trades) out.push({ ...base, channel: 'trades' });
    if (p.ticker) out.push({ ...base, channel: 'ticker' });
    if (p.quotes) out.push({ ...base, channel: 'quotes' });
    if (p.book !== undefined) out.push({ ...base, channel: 'book' });
    return out;
  }

  // ─── stream bookkeeping ──────────────────────────────────────────────────────────────────

  addStreams(streams: readonly StreamSpec[]): void {
    for (const spec of streams) {
      let p = this.products.get(spec.native);
      if (p === undefined) {
        p = {
          native: spec.native,
          symbol: spec.symbol,
          symbolId: spec.symbolId,
          trades: false,
          ticker: false,
          quotes: false,
          book: undefined,
          lastTradeId: Number.NaN,
          tradeBaseline: false,
          lastTickerSeq: Number.NEGATIVE_INFINITY,
          lastHeartbeatSeq: Number.NEGATIVE_INFINITY,
        };
        this.products.set(spec.native, p);
      }
      p.symbol = spec.symbol;
      p.symbolId = spec.symbolId;
      switch (spec.channel) {
        case 'trades':
          p.trades = true;
          break;
        case 'ticker':
          p.ticker = true;
          break;
        case 'quotes':
          p.quotes = true;
          break;
        case 'book':
          // The subscribe frame that accompanies this call brings the snapshot.
          if (p.book === undefined) {
            const native = spec.native;
            p.book = {
              book: new OrderBook({ maxLevels: this.maxBookLevels }),
              state: new BookSyncState(native, () => this.resubscribe(native)),
            };
            this.bookSync.subscribed(p.book.state);
          }
          break;
        default:
          throw new Error(`coinbase: unsupported channel ${spec.channel} for ${spec.symbol}`);
      }
    }
  }

  removeStreams(streams: readonly StreamSpec[]): void {
    for (const spec of streams) {
      const p = this.products.get(spec.native);
      if (p === undefined) continue;
      if (spec.channel === 'trades') p.trades = false;
      else if (spec.channel === 'ticker') p.ticker = false;
      else if (spec.channel === 'quotes') p.quotes = false;
      else if (spec.channel === 'book' && p.book !== undefined) {
        this.bookSync.remove(p.book.state);
        p.book = undefined;
      }
      if (!p.trades && !p.ticker && !p.quotes && p.book === undefined) this.products.delete(spec.native);
    }
  }

  onDisconnect(): void {
    for (const p of this.products.values()) {
      p.tradeBaseline = false;
      p.lastHeartbeatSeq = Number.NEGATIVE_INFINITY;
      const b = p.book;
      if (b === undefined) continue;
      // The next socket's subscribe brings a snapshot; it does not count against the rate limit.
      this.bookSync.reset(b.state);
      b.book.clear();
    }
  }

  // ─── frames ──────────────────────────────────────────────────────────────────────────────

  onMessage(text: string): void {
    const msg = parseObjectFrame('coinbase', text);
    const type = msg.type;
    switch (type) {
      case 'l2update':
      case 'snapshot':
        this.onBookMessage(this.product(msg), msg, type === 'snapshot');
        return;
      case 'match':
      case 'last_match':
        this.onMatch(this.product(msg), msg, type === 'last_match');
        return;
      case 'ticker':
        this.onTicker(this.product(msg), msg);
        return;
      case 'heartbeat':
        this.onHeartbeat(this.product(msg), msg);
        return;
      case 'subscriptions':
        this.stats.acks++;
        this.confirm(msg);
        return;
      case 'error':
        this.stats.errorAcks++;
        this.ctx.log.warn('coinbase: error message from the venue', {
          message: msg.message,
          reason: msg.reason,
        });
        // An error may answer a book resubscription, which then brings no snapshot: ask again.
        for (const p of this.products.values()) if (p.book !== undefined) this.bookSync.askRejected(p.book.state);
        this.rejectNamedProduct(msg);
        return;
      default:
        if (typeof type !== 'string') throw new Error(`coinbase: frame without a "type": ${preview(text)}`);
        this.stats.ignored++;
    }
  }

  /** The product a data message is for; undefined (counted) when not carried here. */
  private product(m: Obj): ProductState | undefined {
    const id = m.product_id;
    if (typeof id !== 'string') {
      throw new Error(`coinbase: ${String(m.type)} message without a "product_id" string`);
    }
    const p = this.products.get(id);
    if (p === undefined) this.stats.unknownStream++;
    return p;
  }

  private malformed(p: ProductState | undefined, m: Obj, what: string): Error {
    const product = p?.native ?? String(m.product_id);
    return new Error(`coinbase: malformed ${String(m.type)} for ${product}: ${what}`);
  }

  private badField(p: ProductState, m: Obj, key: string, what: string): Error {
    return this.fields.error(p, m, key, what);
  }

  private time(p: ProductState, m: Obj): number {
    const t = parseIsoMs(m.time);
    if (Number.isNaN(t)) throw this.badField(p, m, 'time', 'is not an ISO-8601 time');
    return t;
  }

  // ─── trades & continuity ─────────────────────────────────────────────────────────────────

  private onMatch(p: ProductState | undefined, m: Obj, last: boolean): void {
    if (p === undefined) return;
    const id = this.fields.integer(p, m, 'trade_id');
    // The feed sequence is checked to be an integer, as the frame's; the trade's identity is its id.
    this.fields.integer(p, m, 'sequence');
    const price = this.fields.size(p, m, 'price');
    const amount = this.fields.size(p, m, 'size');
    const ts = this.time(p, m);
    const side = m.side;
    if (side !== 'buy' && side !== 'sell') throw this.badField(p, m, 'side', 'is not "buy" or "sell"');
    if (id <= p.lastTradeId) {
      this.stats.duplicates++;
      return;
    }
    if (p.tradeBaseline && id > p.lastTradeId + 1) {
      this.onGap(p, p.lastTradeId + 1, id, last ? 'last_match' : 'match');
    }
    p.lastTradeId = id;
    p.tradeBaseline = true;
    // `last_match` is the product's latest trade *before* this subscription: after a reconnect it
    // is usually one the previous socket's session already emitted (sessions do not outlive their
    // task), so it sets the baseline but is not emitted as a trade.
    if (!p.trades || last) return;
    // `side` is the maker order's side; the taker (aggressor) took the other side.
    this.ctx.sink.trade(p.symbolId, ts, id, side === 'buy' ? Side.sell : Side.buy, price, amount);
  }

  private onHeartbeat(p: ProductState | undefined, m: Obj): void {
    if (p === undefined) return;
    const seq = this.fields.integer(p, m, 'sequence');
    const lastTrade = this.fields.integer(p, m, 'last_trade_id');
    if (seq < p.lastHeartbeatSeq) {
      this.stats.duplicates++;
      return;
    }
    p.lastHeartbeatSeq = seq;
    if (!p.trades && p.book === undefined) return; // matches not subscribed: nothing to compare
    if (p.tradeBaseline) {
      if (lastTrade <= p.lastTradeId) return;
      this.onGap(p, p.lastTradeId + 1, lastTrade, 'heartbeat');
    }
    p.lastTradeId = lastTrade;
    p.tradeBaseline = true;
  }

  private onGap(p: ProductState, expected: number, got: number, via: string): void {
    this.stats.sequenceGaps++;
    this.ctx.log.warn('coinbase: trade id gap (lost messages)', {
      product: p.native,
      expectedTradeId: expected,
      tradeId: got,
      via,
    });
    const b = p.book;
    if (b?.state.synced) this.resync(p, b, ResyncReason.sequenceGap);
  }

  // ─── ticker ──────────────────────────────────────────────────────────────────────────────

  private onTicker(p: ProductState | undefined, m: Obj): void {
    if (p === undefined) return;
    const seq = this.fields.integer(p, m, 'sequence');
    const f = this.ticker;
    f.last = this.fields.decimal(p, m, 'price');
    for (const [field, key] of TICKER_FIELDS) f[field] = dec(m[key]);
    // quoteVolume, mark/index/funding stay NaN (spot; the venue sends no quote volume).
    // The first ticker after a subscribe may come without `time`.
    const ts = m.time === undefined ? Number.NaN : this.time(p, m);
    if (seq <= p.lastTickerSeq) {
      this.stats.duplicates++;
      return;
    }
    p.lastTickerSeq = seq;
    if (p.ticker) this.ctx.sink.ticker(p.symbolId, ts, seq, f);
    if (p.quotes) {
      this.ctx.sink.quote(p.symbolId, ts, seq, f.bidPrice, dec(m.best_bid_size), f.askPrice, dec(m.best_ask_size));
    }
  }

  // ─── book ────────────────────────────────────────────────────────────────────────────────

  /** `[[price, size], …]` (extra elements ignored) into a scratch array; returns the count. */
  private parseLevels(p: ProductState, m: Obj, key: 'bids' | 'asks'): number {
    const levels = m[key];
    if (!Array.isArray(levels)) throw this.badField(p, m, key, 'is not an array');
    return parsePairLevels('coinbase', 'snapshot for', p.native, key === 'bids' ? BIDS : ASKS, levels, this.levels);
  }

  /** `[[side, price, size], …]` into the bid/ask scratch arrays (`this.nb` / `this.na`). */
  private parseChanges(p: ProductState, m: Obj): void {
    const changes = m.changes;
    if (!Array.isArray(changes)) throw this.badField(p, m, 'changes', 'is not an array');
    const n = changes.length;
    const bids = this.levels.room(BIDS, n);
    const asks = this.levels.room(ASKS, n);
    let nb = 0;
    let na = 0;
    for (let i = 0; i < n; i++) {
      const c = changes[i];
      if (!Array.isArray(c) || c.length < 3) throw this.malformed(p, m, `change ${i} is not [side, price, size]`);
      const px = dec(c[1]);
      const sz = dec(c[2]);
      checkLevel('coinbase', 'l2update for', p.native, 'change', i, c, px, sz);
      if (c[0] === 'buy') {
        bids[2 * nb] = px;
        bids[2 * nb + 1] = sz;
        nb++;
      } else if (c[0] === 'sell') {
        asks[2 * na] = px;
        asks[2 * na + 1] = sz;
        na++;
      } else {
        throw this.malformed(p, m, `change ${i} has side ${previewValue(c[0])}`);
      }
    }
    this.nb = nb;
    this.na = na;
  }

  /**
   * Nothing of a rejected book message was applied (parsed whole first); the book it concerns can
   * no longer be trusted (a synced one may have missed a real change; one waiting for a snapshot
   * would wait for good), so it resyncs.
   */
  private onBookMessage(p: ProductState | undefined, m: Obj, snapshot: boolean): void {
    try {
      if (snapshot) this.onSnapshot(p, m);
      else this.onL2Update(p, m);
    } catch (err) {
      const b = p?.book;
      if (p !== undefined && b?.state.resyncsAfterRejected(snapshot)) this.resync(p, b, ResyncReason.sequenceGap);
      throw err;
    }
  }

  private onSnapshot(p: ProductState | undefined, m: Obj): void {
    if (p === undefined) return;
    const nb = this.parseLevels(p, m, 'bids');
    const na = this.parseLevels(p, m, 'asks');
    const ts = m.time === undefined ? Number.NaN : this.time(p, m);
    const b = p.book;
    if (b === undefined) {
      this.stats.ignored++; // a late snapshot for a book that was removed meanwhile
      return;
    }
    this.stats.snapshots++;
    const book = b.book;
    book.applySnapshot(this.levels.bids, nb, this.levels.asks, na);
    if (book.isCrossed()) {
      this.ctx.log.warn('coinbase: crossed snapshot', {
        product: p.native,
        bestBid: book.bestBid(),
        bestAsk: book.bestAsk(),
      });
      this.resync(p, b, ResyncReason.crossedBook);
      return;
    }
    this.bookSync.snapshotApplied(b.state);
    this.ctx.sink.book(p.symbolId, ts, Number.NaN, Number.NaN, true, this.levels.bids, nb, this.levels.asks, na);
    // Exchange snapshots carry no sequence: detail 0.
    this.ctx.sink.status(p.symbolId, StatusCode.synced, 0);
  }

  private onL2Update(p: ProductState | undefined, m: Obj): void {
    if (p === undefined) return;
    this.parseChanges(p, m);
    const ts = this.time(p, m);
    const b = p.book;
    if (b === undefined || !b.state.synced) {
      this.stats.droppedBeforeSnapshot++;
      return;
    }
    const book = b.book;
    book.applyDelta(this.levels.bids, this.nb, this.levels.asks, this.na);
    if (book.isCrossed()) {
      this.ctx.log.warn('coinbase: crossed book', {
        product: p.native,
        bestBid: book.bestBid(),
        bestAsk: book.bestAsk(),
      });
      this.resync(p, b, ResyncReason.crossedBook);
      return;
    }
    this.ctx.sink.book(
      p.symbolId,
      ts,
      Number.NaN,
      Number.NaN,
      false,
      this.levels.bids,
      this.nb,
      this.levels.asks,
      this.na,
    );
  }

  private resync(p: ProductState, b: BookState, reason: number): void {
    this.stats.resyncs++;
    b.book.clear();
    this.bookSync.desync(b.state, p.symbolId, reason);
  }

  /** Unsubscribe + subscribe level2 for this product only: a fresh snapshot. */
  private resubscribe(native: string): void {
    this.stats.resubscribes++;
    const channels = new Map([[this.l2Channel, [native]]]);
    this.ctx.send(channelFrame('unsubscribe', channels));
    this.ctx.send(channelFrame('subscribe', channels, this.ctx.credentials));
  }
}

function addTo(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else if (!list.includes(value)) list.push(value);
}

export function createCoinbaseSession(ctx: SessionContext, options?: CoinbaseSessionOptions): CoinbaseSession {
  return new CoinbaseSession(ctx, options);
}

/** `reason` names `native` as a whole product id (`BTC-USD` is not named by `BTC-USDT`). */
function mentionsProduct(reason: string, native: string): boolean {
  for (let i = reason.indexOf(native); i >= 0; i = reason.indexOf(native, i + 1)) {
    const before = reason[i - 1] ?? '';
    const after = reason[i + native.length] ?? '';
    if (!/[A-Za-z0-9-]/.test(before) && !/[A-Za-z0-9-]/.test(after)) return true;
  }
  return false;
}
