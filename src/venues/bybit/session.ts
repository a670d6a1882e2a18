/**
 * Bybit v5 public session (one category per session: spot or linear). Parses topic frames,
 * normalizes them into the RecordSink, keeps order books in sync, and drops anything already
 * emitted (during a planned rotation two sockets feed one session).
 *
 * Topics: `publicTrade.S` → trades, `tickers.S` → ticker and (linear) funding, `orderbook.1.S` →
 * quotes, `orderbook.<depth>.S` → book, `kline.<i>.S` → candles.
 *
 * Book rules (https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook):
 *  - A `snapshot` frame, or any frame with `u == 1` (the service restarted), replaces the book.
 *    A snapshot with `u <= last u` (and `u != 1`) while in sync is one we already passed — e.g.
 *    a successor socket's initial snapshot during rotation, or level 1's 3-second re-push — and
 *    is dropped.
 *  - A `delta` must continue the update id: `u == last u + 1`. `u <= last u` is a duplicate and is
 *    dropped silently. Anything else is a gap: the symbol's book is cleared, a `resync` status
 *    (sequenceGap) is written, `ctx.onResync` is called and the topic is resubscribed
 *    (unsubscribe + subscribe: Bybit answers with a fresh snapshot) through kit/book-resync.ts:
 *    at most once per topic per `minResyncIntervalMs`, retried with capped backoff when no
 *    snapshot comes or the venue refuses the subscribe. A rejected orderbook frame of a synced
 *    book, or a rejected snapshot, resyncs the same way (sequenceGap). Deltas are dropped until that snapshot arrives; `synced` (detail = u)
 *    follows it. `seq` (cross sequence) is not contiguous — it orders books of different depths
 *    against each other — so it is not used for continuity.
 *  - A crossed book (best bid >= best ask) after a snapshot or delta resyncs the same way
 *    (crossedBook); the offending update is not emitted.
 * Quotes come from the level-1 topic, kept with the same rules; a quotes-only topic resyncs
 * silently (no status record: the consumer has no book for it).
 *
 * Tickers: spot pushes full snapshots; linear pushes a snapshot then deltas holding only the
 * fields that changed, merged here into the last full ticker per topic. A `funding`-only stream
 * emits a ticker record for a snapshot and for deltas that touch mark/index/funding fields.
 */

import { OrderBook } from '../../book/order-book.js';
import { ResyncReason, Side, StatusCode } from '../../records/types.js';
import type { SessionContext, StreamSpec, TickerFields, VenueSession } from '../contract.js';
import { BookResync, type BookResyncTiming, BookSyncState } from '../kit/book-resync.js';
import { BIT_BOOK, BIT_QUOTES, BIT_TICKER, channelBit } from '../kit/channel-kind.js';
import { FieldReader } from '../kit/fields.js';
import { parseObjectFrame } from '../kit/frame.js';
import { dec, isObj, type Obj, preview, } from '../kit/json-fields.js';
import { ASKS, BIDS, LevelScratch, parsePairLevels } from '../kit/levels.js';
import { type SessionStats, sessionStats } from '../kit/session-stats.js';
import { emptyTickerFields } from '../kit/ticker-fields.js';
import { isTradeId, tradeIdSeq, tradeIdText } from '../kit/trade-id.js';
import { batchArgs, bybitIntervalSec, categoryOf, DEFAULT_BOOK_DEPTH, MAX_ARGS_PER_REQUEST, topicOf } from './topics.js';

/** Resync timing (`minResyncIntervalMs`, `snapshotTimeoutMs`, `now` …): see kit/book-resync.ts. */
export interface BybitSessionOptions extends BookResyncTiming {
  /** Depth of the `book` topic: 1, 50 (default), 200 or 1000. */
  bookDepth?: number;
  /** Max args per subscribe/unsubscribe frame. Default 10 (the spot limit). */
  maxArgsPerRequest?: number;
}

export interface BybitSessionStats extends SessionStats {
  /** Book deltas dropped while waiting for a snapshot. */
  deltasWhileUnsynced: number;
  /** Linear ticker deltas dropped because no snapshot had been seen. */
  tickerDeltasWithoutSnapshot: number;
  /** Unsubscribe + subscribe pairs sent to rebuild a book. */
  resubscribes: number;
  pongs: number;
  /** Block trades (`BT: true`, negotiated off the book): dropped, as Binance USD-M's off-book fills. */
  offBookTrades: number;
}


const T_TRADE = 0;
const T_TICKER = 1;
const T_ORDERBOOK = 2;
const T_KLINE = 3;

/** Ticker fields in the order of TickerFields, by Bybit key. */
const TICKER_KEYS = [
  'lastPrice',
  'prevPrice24h',
  'highPrice24h',
  'lowPrice24h',
  'volume24h',
  'turnover24h',
  'bid1Price',
  'ask1Price',
  'markPrice',
  'indexPrice',
  'fundingRate',
  'nextFundingTime',
] as const;
/** Indexes of TICKER_KEYS that matter to a funding-only stream. */
const FUNDING_FIRST = 8;

interface BookSync {
  readonly book: OrderBook;
  /** Last applied update id (NaN when not in sync). */
  lastU: number;
  readonly state: BookSyncState;
}

interface TopicState {
  readonly topic: string;
  readonly type: number;
  flags: number;
  symbol: string;
  symbolId: number;
  /** Dedupe keys: trades (seq, —), tickers (ts, cs), klines (ts, start). */
  lastA: number;
  lastB: number;
  /** Trade ids emitted at sequence `lastA` (several trades of one match share a seq). */
  readonly tradeIds: Set<string> | undefined;
  /** Merged ticker (TICKER_KEYS order); `tickerReady` once a snapshot was seen. */
  readonly ticker: Float64Array | undefined;
  tickerReady: boolean;
  readonly sync: BookSync | undefined;
  removed: boolean;
  /**
   * Option trades go out per base coin (`publicTrade.BTC`): the option's symbol (`s`) → its
   * symbol id, for the options subscribed. Undefined on every other topic (one symbol each).
   */
  readonly routes: Map<string, number> | undefined;
}

function topicType(topic: string): number {
  if (topic.startsWith('publicTrade.')) return T_TRADE;
  if (topic.startsWith('tickers.')) return T_TICKER;
  if (topic.startsWith('orderbook.')) return T_ORDERBOOK;
  return T_KLINE;
}

export class BybitSession implements VenueSession {
  readonly stats: BybitSessionStats = sessionStats(
    'deltasWhileUnsynced',
    'tickerDeltasWithoutSnapshot',
    'resubscribes',
    'pongs',
    'offBookTrades',
  );

  private readonly topics = new Map<string, TopicState>();
  private readonly pending = new Map<string, { op: string; args: readonly string[] }>();
  /** The streams each topic carries (a ticker topic may carry `ticker` and `funding`). */
  private readonly specsOfTopic = new Map<string, StreamSpec[]>();
  private nextReqId = 1;
  private readonly tickerOut: TickerFields = emptyTickerFields();
  private readonly levels = new LevelScratch();
  private readonly fields = new FieldReader<string>((topic) => `bybit: malformed ${topic} frame`);

  private readonly bookDepth: number;
  private readonly maxArgs: number;
  private readonly bookSync: BookResync;

  constructor(
    private readonly ctx: SessionContext,
    options: BybitSessionOptions = {},
  ) {
    this.bookDepth = options.bookDepth ?? DEFAULT_BOOK_DEPTH;
    if (![1, 50, 200, 1000].includes(this.bookDepth)) {
      throw new Error(`bybit: book depth must be 1, 50, 200 or 1000, got ${String(options.bookDepth)}`);
    }
    this.maxArgs = options.maxArgsPerRequest ?? MAX_ARGS_PER_REQUEST;
    this.bookSync = new BookResync('bybit', ctx, options);
  }

  /** The worker-side book of a symbol's `book` topic (undefined when not subscribed). */
  book(symbolId: number): OrderBook | undefined {
    for (const st of this.topics.values()) {
      if (st.sync !== undefined && st.symbolId === symbolId && (st.flags & BIT_BOOK) !== 0) return st.sync.book;
    }
    return undefined;
  }

  isSynced(symbolId: number): boolean {
    for (const st of this.topics.values()) {
      if (st.sync !== undefined && st.symbolId === symbolId && (st.flags & BIT_BOOK) !== 0) {
        return st.sync.state.synced;
      }
    }
    return false;
  }

  /** Subscribe/unsubscribe requests not yet acknowledged. */
  get pendingRequests(): number {
    return this.pending.size;
  }

  // ─── control frames ──────────────────────────────────────────────────────────────────────

  openMessages(streams: readonly StreamSpec[]): string[] {
    return this.requests('subscribe', this.topicsOf(streams, () => true));
  }

  /** Called after `addStreams`: topics another channel already holds are subscribed already. */
  subscribeMessages(streams: readonly StreamSpec[]): string[] {
    return this.requests(
      'subscribe',
      this.topicsOf(streams, (topic) => {
        const st = this.topics.get(topic);
        return st === undefined || (st.flags & ~this.flagsOf(streams, topic)) === 0;
      }),
    );
  }

  /** Called after `removeStreams`: a topic still held by another channel stays subscribed. */
  unsubscribeMessages(streams: readonly StreamSpec[]): string[] {
    return this.requests(
      'unsubscribe',
      this.topicsOf(streams, (topic) => !this.topics.has(topic)),
    );
  }

  private topicsOf(streams: readonly StreamSpec[], keep: (topic: string) => boolean): string[] {
    const out = new Set<string>();
    for (const spec of streams) {
      const topic = topicOf(spec, this.bookDepth);
      if (keep(topic)) out.add(topic);
    }
    return [...out];
  }

  /**
   * A refused subscribe: the topics its `ret_msg` names (or its only topic) are rejected. Bybit
   * may refuse a whole request for one bad topic, so the request's other topics are asked for
   * again (an "already subscribed" answer to that is ignored). false when nothing was named.
   */
  private rejectTopics(args: readonly string[], retMsg: string): boolean {
    const clauses = refusals(retMsg);
    const named = args.length === 1 ? [...args] : args.filter((t) => clauses.some((c) => mentionsTopic(c, t)));
    const streams = named.flatMap((t) => this.specsOfTopic.get(t) ?? []);
    if (streams.length === 0) return false;
    const code = /symbol|handler not found/i.test(retMsg) ? 'ERR_BAD_SYMBOL' : 'ERR_SUBSCRIPTION_REJECTED';
    const what = [...new Set(streams.map((s) => `${s.symbol} ${s.channel}`))].join(', ');
    this.ctx.reject?.(streams, code, `bybit: ${what} refused by the venue: ${retMsg}`);
    const rest = args.filter((t) => !named.includes(t) && this.topics.has(t));
    for (const text of this.requests('subscribe', rest)) this.ctx.send(text);
    return true;
  }

  private flagsOf(streams: readonly StreamSpec[], topic: string): number {
    let flags = 0;
    for (const spec of streams) {
      if (topicOf(spec, this.bookDepth) === topic) flags |= channelBit(spec.channel);
    }
    return flags;
  }

  private requests(op: 'subscribe' | 'unsubscribe', topics: readonly string[]): string[] {
    const out: string[] = [];
    for (const args of batchArgs(topics, this.maxArgs)) {
      const reqId = String(this.nextReqId++);
      this.pending.set(reqId, { op, args });
      out.push(JSON.stringify({ op, req_id: reqId, args }));
    }
    return out;
  }

  private onControl(m: Obj, text: string): void {
    const op = m.op;
    if (op === 'pong' || m.ret_msg === 'pong') {
      this.stats.pongs++;
      return;
    }
    if (op !== 'subscribe' && op !== 'unsubscribe') {
      if (typeof op !== 'string' && typeof m.success !== 'boolean') {
        throw new Error(`bybit: unexpected frame (no topic, op or success): ${preview(text)}`);
      }
      this.ctx.log.debug('bybit: control frame ignored', { op, ret_msg: m.ret_msg });
      return;
    }
    const reqId = typeof m.req_id === 'string' ? m.req_id : String(m.req_id);
    const req = this.pending.get(reqId);
    this.pending.delete(reqId);
    if (m.success === false) {
      const retMsg = typeof m.ret_msg === 'string' ? m.ret_msg : '';
      this.stats.errorAcks++;
      this.ctx.log.warn('bybit: request rejected', { op, req_id: reqId, ret_msg: m.ret_msg, args: req?.args });
      // "already subscribed" refuses nothing (but a book resubscribe it answers is retried below).
      if (op === 'subscribe' && req !== undefined && refusals(retMsg).length > 0 && this.rejectTopics(req.args, retMsg)) return;
      // A rejected resubscribe would leave its book out of sync for good: try again (rate-limited).
      if (op === 'subscribe' && req !== undefined) {
        for (const topic of req.args) {
          const st = this.topics.get(topic);
          const sync = st?.sync;
          if (sync !== undefined) this.bookSync.askRejected(sync.state);
        }
      }
      return;
    }
    this.stats.acks++;
  }

  // ─── stream bookkeeping ──────────────────────────────────────────────────────────────────

  addStreams(streams: readonly StreamSpec[]): void {
    for (const spec of streams) {
      if (spec.channel === 'aggTrades') throw new Error(`bybit: unsupported channel ${spec.channel} for ${spec.symbol}`);
      const flag = channelBit(spec.channel);
      const topic = topicOf(spec, this.bookDepth);
      const carried = this.specsOfTopic.get(topic) ?? [];
      if (!carried.some((t) => t.channel === spec.channel && t.symbolId === spec.symbolId)) carried.push(spec);
      this.specsOfTopic.set(topic, carried);
      const perOption = spec.channel === 'trades' && categoryOf(spec.symbol) === 'option';
      const existing = this.topics.get(topic);
      if (existing !== undefined) {
        existing.routes?.set(spec.native, spec.symbolId);
        const added = flag & ~existing.flags;
        existing.flags |= flag;
        existing.symbol = spec.symbol;
        existing.symbolId = spec.symbolId;
        if ((added & BIT_BOOK) !== 0) this.emitWorkerSnapshot(existing);
        continue;
      }
      const type = topicType(topic);
      const depth = type === T_ORDERBOOK ? Number(topic.split('.')[1]) : 0;
      this.topics.set(topic, {
        topic,
        type,
        flags: flag,
        symbol: spec.symbol,
        symbolId: spec.symbolId,
        lastA: Number.NEGATIVE_INFINITY,
        lastB: Number.NEGATIVE_INFINITY,
        tradeIds: type === T_TRADE ? new Set() : undefined,
        ticker: type === T_TICKER ? new Float64Array(TICKER_KEYS.length).fill(Number.NaN) : undefined,
        tickerReady: false,
        sync:
          type === T_ORDERBOOK
            ? {
                book: new OrderBook({ maxLevels: depth }),
                lastU: Number.NaN,
                state: new BookSyncState(topic, () => this.resubscribe(topic)),
              }
            : undefined,
        removed: false,
        routes: perOption ? new Map([[spec.native, spec.symbolId]]) : undefined,
      });
    }
  }

  removeStreams(streams: readonly StreamSpec[]): void {
    for (const spec of streams) {
      const topic = topicOf(spec, this.bookDepth);
      const carried = this.specsOfTopic.get(topic)?.filter((t) => t.channel !== spec.channel || t.symbolId !== spec.symbolId);
      if (carried === undefined || carried.length === 0) this.specsOfTopic.delete(topic);
      else this.specsOfTopic.set(topic, carried);
      const st = this.topics.get(topic);
      if (st === undefined) continue;
      st.routes?.delete(spec.native);
      // The channels the topic still carries (an option trade topic carries several options' trades).
      st.flags = 0;
      for (const t of carried ?? []) st.flags |= channelBit(t.channel);
      if (st.flags !== 0) continue;
      st.removed = true;
      if (st.sync !== undefined) this.bookSync.remove(st.sync.state);
      this.topics.delete(topic);
    }
  }

  onDisconnect(): void {
    this.pending.clear();
    for (const st of this.topics.values()) {
      st.tickerReady = false;
      const sync = st.sync;
      if (sync === undefined) continue;
      this.bookSync.reset(sync.state);
      sync.book.clear();
      sync.lastU = Number.NaN;
    }
  }

  // ─── frames ──────────────────────────────────────────────────────────────────────────────

  onMessage(text: string): void {
    const msg = parseObjectFrame('bybit', text);
    const topic = msg.topic;
    if (typeof topic !== 'string') {
      this.onControl(msg, text);
      return;
    }
    const st = this.topics.get(topic);
    if (st === undefined) {
      this.stats.unknownStream++;
      return;
    }
    switch (st.type) {
      case T_TRADE:
        this.onTrades(st, msg);
        return;
      case T_TICKER:
        this.onTicker(st, msg);
        return;
      case T_ORDERBOOK:
        try {
          this.onOrderbook(st, msg);
        } catch (err) {
          // Nothing of a rejected frame was applied; the book it concerns can no longer be trusted
          // (a synced one may have missed a real update; a snapshot-less one would wait for good).
          const sync = st.sync!;
          if (sync.state.resyncsAfterRejected(msg.type === 'snapshot')) this.resync(st, sync, ResyncReason.sequenceGap);
          throw err;
        }
        return;
      case T_KLINE:
        this.onKline(st, msg);
        return;
    }
  }

  private malformed(topic: string, problem: string): Error {
    return new Error(`bybit: malformed ${topic} frame: ${problem}`);
  }

  private badField(topic: string, d: Obj, key: string, what: string): Error {
    return this.fields.error(topic, d, key, what);
  }

  private onTrades(st: TopicState, msg: Obj): void {
    const data = msg.data;
    if (!Array.isArray(data)) throw this.badField(st.topic, msg, 'data', 'is not an array');
    const ids = st.tradeIds!;
    // Validate every trade before writing any: a bad one rejects the whole frame.
    for (let i = 0; i < data.length; i++) this.tradeOf(st.topic, data[i], i);
    for (let i = 0; i < data.length; i++) {
      const t = data[i] as Obj;
      const ts = t.T as number;
      const price = dec(t.p);
      const amount = dec(t.v);
      const S = t.S;
      const id = t.i as string;
      const seq = typeof t.seq === 'number' ? t.seq : Number.NaN;
      if (t.BT === true) {
        this.stats.offBookTrades++;
        continue;
      }
      // Several trades of one match share a cross sequence; trade ids are not ordered (UUIDs on
      // linear), so dedupe by sequence and by the ids already emitted at the latest sequence.
      const key = Number.isNaN(seq) ? ts : seq;
      if (key < st.lastA || (key === st.lastA && ids.has(id))) {
        this.stats.duplicates++;
        continue;
      }
      if (key > st.lastA) {
        st.lastA = key;
        ids.clear();
      }
      ids.add(id);
      // An option trade topic carries every option of its base coin: only subscribed ones are written.
      const symbolId = st.routes === undefined ? st.symbolId : st.routes.get(t.s as string);
      if (symbolId === undefined) {
        this.stats.unknownStream++;
        continue;
      }
      // S is the taker's side. The trade id: spot ids have 19 digits, linear ids are UUIDs, so
      // mostly text; the cross sequence is not the trade's identity (a match shares it).
      this.ctx.sink.trade(symbolId, ts, tradeIdSeq(id), S === 'Buy' ? Side.buy : Side.sell, price, amount, tradeIdText(id));
    }
  }

  private tradeOf(topic: string, t: unknown, i: number): void {
    if (!isObj(t)) throw this.malformed(topic, `trade ${i} is not an object`);
    this.fields.finite(topic, t, 'T');
    this.fields.size(topic, t, 'p');
    this.fields.size(topic, t, 'v');
    if (t.S !== 'Buy' && t.S !== 'Sell') throw this.badField(topic, t, 'S', 'is not Buy or Sell');
    if (!isTradeId(t.i)) throw this.badField(topic, t, 'i', 'is not a trade id (printable text, at most 64 characters)');
    if (t.seq !== undefined && !(typeof t.seq === 'number' && Number.isFinite(t.seq))) throw this.badField(topic, t, 'seq', 'is not a finite number');
    if (t.BT !== undefined && typeof t.BT !== 'boolean') throw this.badField(topic, t, 'BT', 'is not a boolean');
  }

  private onTicker(st: TopicState, msg: Obj): void {
    const d = msg.data;
    if (!isObj(d)) throw this.badField(st.topic, msg, 'data', 'is not an object');
    const ts = this.fields.finite(st.topic, msg, 'ts');
    const cs = typeof msg.cs === 'number' ? msg.cs : Number.NaN;
    const delta = msg.type === 'delta';
    if (!delta && msg.type !== 'snapshot') throw this.badField(st.topic, msg, 'type', 'is not snapshot or delta');
    if (delta && !st.tickerReady) {
      this.stats.tickerDeltasWithoutSnapshot++;
      return;
    }
    // Drop what is older than, or the same as, what was merged last (by event time, then cs).
    if (ts < st.lastA || (ts === st.lastA && !(cs > st.lastB))) {
      this.stats.duplicates++;
      return;
    }
    const f = st.ticker!;
    // Validate before merging so a bad frame leaves the merged ticker untouched.
    for (let i = 0; i < TICKER_KEYS.length; i++) {
      const v = d[TICKER_KEYS[i]];
      if (v !== undefined && typeof v !== 'string' && typeof v !== 'number') {
        throw this.badField(st.topic, d, TICKER_KEYS[i], 'is not a decimal');
      }
    }
    let fundingTouched = !delta;
    for (let i = 0; i < TICKER_KEYS.length; i++) {
      const v = d[TICKER_KEYS[i]];
      if (v === undefined) {
        if (!delta) f[i] = Number.NaN;
        continue;
      }
      f[i] = dec(v);
      if (i >= FUNDING_FIRST) fundingTouched = true;
    }
    st.tickerReady = true;
    st.lastA = ts;
    st.lastB = cs;
    if ((st.flags & BIT_TICKER) === 0 && !fundingTouched) return;
    const out = this.tickerOut;
    out.last = f[0];
    out.open = f[1];
    out.high = f[2];
    out.low = f[3];
    out.baseVolume = f[4];
    out.quoteVolume = f[5];
    out.bidPrice = f[6];
    out.askPrice = f[7];
    out.markPrice = f[8];
    // Spot tickers carry `usdIndexPrice` (the base coin's USD index), not the pair's index: NaN.
    out.indexPrice = f[9];
    out.fundingRate = f[10];
    out.nextFundingTs = f[11];
    this.ctx.sink.ticker(st.symbolId, ts, cs, out);
  }

  private onKline(st: TopicState, msg: Obj): void {
    const ts = this.fields.finite(st.topic, msg, 'ts');
    const data = msg.data;
    if (!Array.isArray(data)) throw this.badField(st.topic, msg, 'data', 'is not an array');
    // Two passes: every candle is validated before any is written (a bad one rejects the frame).
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < data.length; i++) {
        const k = data[i];
        if (!isObj(k)) throw this.malformed(st.topic, `candle ${i} is not an object`);
        const intervalSec = bybitIntervalSec(k.interval);
        if (intervalSec === undefined) throw this.badField(st.topic, k, 'interval', 'is not a kline interval');
        const start = this.fields.finite(st.topic, k, 'start');
        const open = this.fields.decimal(st.topic, k, 'open');
        const high = this.fields.decimal(st.topic, k, 'high');
        const low = this.fields.decimal(st.topic, k, 'low');
        const close = this.fields.decimal(st.topic, k, 'close');
        const volume = this.fields.decimal(st.topic, k, 'volume');
        const confirm = k.confirm;
        if (typeof confirm !== 'boolean') throw this.badField(st.topic, k, 'confirm', 'is not a boolean');
        if (pass === 0) continue;
        if (ts < st.lastA || (ts === st.lastA && start <= st.lastB)) {
          this.stats.duplicates++;
          continue;
        }
        st.lastA = ts;
        st.lastB = start;
        this.ctx.sink.candle(st.symbolId, ts, Number.NaN, intervalSec, start, open, high, low, close, volume, confirm);
      }
    }
  }

  // ─── order books ─────────────────────────────────────────────────────────────────────────

  private onOrderbook(st: TopicState, msg: Obj): void {
    const d = msg.data;
    if (!isObj(d)) throw this.badField(st.topic, msg, 'data', 'is not an object');
    const ts = this.fields.finite(st.topic, msg, 'ts');
    const u = this.fields.finite(st.topic, d, 'u');
    if (!Array.isArray(d.b)) throw this.badField(st.topic, d, 'b', 'is not an array');
    if (!Array.isArray(d.a)) throw this.badField(st.topic, d, 'a', 'is not an array');
    const type = msg.type;
    if (type !== 'snapshot' && type !== 'delta') throw this.badField(st.topic, msg, 'type', 'is not snapshot or delta');
    const sync = st.sync!;
    const nb = parsePairLevels('bybit', 'book', st.topic, BIDS, d.b, this.levels);
    const na = parsePairLevels('bybit', 'book', st.topic, ASKS, d.a, this.levels);
    const book = sync.book;

    if (type === 'snapshot' || u === 1) {
      if (sync.state.synced && u !== 1 && u <= sync.lastU) {
        this.stats.duplicates++;
        return;
      }
      book.applySnapshot(this.levels.bids, nb, this.levels.asks, na);
      if (book.isCrossed()) {
        this.ctx.log.warn('bybit: crossed book snapshot', { topic: st.topic, u });
        this.resync(st, sync, ResyncReason.crossedBook);
        return;
      }
      const wasSynced = !this.bookSync.snapshotApplied(sync.state);
      sync.lastU = u;
      if ((st.flags & BIT_BOOK) !== 0) {
        this.ctx.sink.book(st.symbolId, ts, Number.NaN, u, true, this.levels.bids, nb, this.levels.asks, na);
        if (!wasSynced) this.ctx.sink.status(st.symbolId, StatusCode.synced, u);
      }
      if ((st.flags & BIT_QUOTES) !== 0) this.emitQuote(st, book, ts, u);
      return;
    }

    if (!sync.state.synced) {
      this.stats.deltasWhileUnsynced++;
      return;
    }
    if (u <= sync.lastU) {
      this.stats.duplicates++;
      return;
    }
    if (u !== sync.lastU + 1) {
      this.ctx.log.warn('bybit: orderbook update id gap', { topic: st.topic, expected: sync.lastU + 1, u });
      this.resync(st, sync, ResyncReason.sequenceGap);
      return;
    }
    book.applyDelta(this.levels.bids, nb, this.levels.asks, na);
    if (book.isCrossed()) {
      this.ctx.log.warn('bybit: crossed book', { topic: st.topic, u, bestBid: book.bestBid(), bestAsk: book.bestAsk() });
      this.resync(st, sync, ResyncReason.crossedBook);
      return;
    }
    sync.lastU = u;
    if ((st.flags & BIT_BOOK) !== 0) {
      this.ctx.sink.book(st.symbolId, ts, u, u, false, this.levels.bids, nb, this.levels.asks, na);
    }
    if ((st.flags & BIT_QUOTES) !== 0) this.emitQuote(st, book, ts, u);
  }

  private emitQuote(st: TopicState, book: OrderBook, ts: number, u: number): void {
    this.ctx.sink.quote(st.symbolId, ts, u, book.bestBid(), book.bestBidAmount(), book.bestAsk(), book.bestAskAmount());
  }

  /** A `book` channel joined a topic already in sync (quotes at depth 1): give it a snapshot. */
  private emitWorkerSnapshot(st: TopicState): void {
    const sync = st.sync;
    if (sync === undefined || !sync.state.synced) return;
    const n = sync.book.maxLevels;
    const c = sync.book.top(n, this.levels.room(BIDS, n), this.levels.room(ASKS, n));
    this.ctx.sink.book(st.symbolId, Number.NaN, Number.NaN, sync.lastU, true, this.levels.bids, c.bids, this.levels.asks, c.asks);
    this.ctx.sink.status(st.symbolId, StatusCode.synced, sync.lastU);
  }

  private resync(st: TopicState, sync: BookSync, reason: number): void {
    this.stats.resyncs++;
    sync.book.clear();
    sync.lastU = Number.NaN;
    // A quotes-only topic resyncs silently: the consumer has no book for it.
    this.bookSync.desync(sync.state, st.symbolId, reason, (st.flags & BIT_BOOK) !== 0);
  }

  /** Unsubscribe + subscribe the topic: Bybit answers with a fresh snapshot. */
  private resubscribe(topic: string): void {
    this.stats.resubscribes++;
    for (const text of this.requests('unsubscribe', [topic])) this.ctx.send(text);
    for (const text of this.requests('subscribe', [topic])) this.ctx.send(text);
  }
}

export function createBybitSession(ctx: SessionContext, options?: BybitSessionOptions): BybitSession {
  return new BybitSession(ctx, options);
}

/** The clauses of a failed ack's `ret_msg` that refuse something ("already subscribed" does not). */
function refusals(retMsg: string): string[] {
  return retMsg.split(';').filter((c) => c.trim() !== '' && !/already subscribed/i.test(c));
}

/** `text` names `topic` whole (`publicTrade.BTCUSDT` is not named by `publicTrade.BTCUSDTX`). */
function mentionsTopic(text: string, topic: string): boolean {
  for (let i = text.indexOf(topic); i >= 0; i = text.indexOf(topic, i + 1)) {
    if (!/[A-Za-z0-9]/.test(text[i + topic.length] ?? '')) return true;
  }
  return false;
}
