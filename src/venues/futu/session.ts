/**
 * One OpenD connection's protocol state: InitConnect first; then KeepAlive at the interval OpenD
 * returned, GetGlobalState (polled: a closed market is quiet, not stale), and per security one
 * Qot_Sub of the subscription types its streams need, followed by Qot_RegQotPush once OpenD
 * accepted it. Pushes become records:
 *
 * - Qot_UpdateTicker (3011) → `trade` (seq = the ticker's sequence, side from its direction). A
 *   sequence gap asks Qot_GetTicker for the missing tickers (`resync` status, counter); live
 *   tickers wait meanwhile and follow the backfill in order (then `synced`). A gap too large to
 *   backfill, or a backfill that fails, is a fresh start from the waiting tickers.
 * - Qot_UpdateOrderBook (3013) → `book` (first push a snapshot, then deltas of the top N that
 *   keep `engine.book()` equal to OpenD's latest top) and the top level as `quote`. Every push is
 *   the whole top, so any push while a book awaits its snapshot is one. A push with a bad level
 *   or a crossed top resyncs the book on the kit's `BookResync`: the ask is a Qot_RegQotPush with
 *   isFirstPush (OpenD pushes its current book at once), asked again on timeout or refusal.
 * - Qot_UpdateBasicQot (3005) → `ticker`; Qot_UpdateKL (3007) → `candle` (a bar is `closed`
 *   when a later bar arrives).
 *
 * OpenD refuses a Qot_Sub (quota exhausted, no quote right, unknown security) with retType ≠ 0:
 * those streams are rejected (`ctx.reject`), the connection stays. OpenD refuses to unsubscribe a
 * type within one minute of subscribing it: such unsubscribes are queued until the minute is up.
 */
import { ResyncReason, StatusCode } from '../../records/types.js';
import type { StreamSpec, TcpSession, TcpSessionContext } from '../contract.js';
import { BookResync, type BookResyncTiming, BookSyncState } from '../kit/book-resync.js';
import { emptyTickerFields } from '../kit/ticker-fields.js';
import type { RejectionCode } from '../rejection.js';
import { encodePacket, packetBody, readHeader } from './codec.js';
import { decode, encode, int64, FutuMessages as M } from './messages.js';
import {
  FUTU_CANDLE_INTERVALS,
  type FutuSecurity,
  futuSymbolOf,
  isQuietMarketState,
  klTypeSeconds,
  MARKET_STATE_FIELD,
  ProtoId,
  parseFutuSymbol,
  SubType,
  sideOfDirection,
  subTypeOf,
} from './protocol.js';
import { TopBook } from './top-book.js';

export interface FutuSessionOptions extends BookResyncTiming {
  /** OpenD requires this long between subscribing a type and unsubscribing it (ms). Default 60 000. */
  readonly minSubscribedMs?: number;
  /** GetGlobalState is asked this often (ms). Default 30 000. */
  readonly globalStatePollMs?: number;
  /** A ticker gap up to this many sequences is backfilled with Qot_GetTicker (OpenD returns at most 1000). */
  readonly maxBackfill?: number;
  /** A backfill not answered within this is given up (ms). Default 5000. */
  readonly backfillTimeoutMs?: number;
  /** Used when OpenD's InitConnect answer carries no keepAliveInterval (s). Default 10. */
  readonly defaultKeepAliveSec?: number;
}

export interface FutuSessionStats {
  duplicates: number;
  resyncs: number;
  backfilled: number;
  acks: number;
  errorAcks: number;
  unknownStream: number;
  queuedUnsubscribes: number;
}

interface SecurityState {
  readonly native: string;
  readonly security: FutuSecurity;
  readonly symbolId: number;
  readonly streams: StreamSpec[];
  /** SubType → when OpenD accepted it on this socket. */
  readonly subscribed: Map<number, number>;
  /** SubTypes asked for and not answered yet. */
  readonly asked: Set<number>;
  readonly book: TopBook;
  /** The book's resync state while the security has a book stream. */
  sync: BookSyncState | undefined;
  lastSeq: number;
  /** A backfill is outstanding: live tickers wait here. */
  backfill: { readonly from: number; readonly serial: number; readonly waiting: Ticker[]; timer: NodeJS.Timeout } | undefined;
  /** Last bar per KLType (to mark it closed when the next one starts). */
  readonly bars: Map<number, Bar>;
}

interface Ticker {
  seq: number;
  ts: number;
  side: number;
  price: number;
  amount: number;
}

interface Bar {
  openTs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

type Pending =
  | { readonly kind: 'sub'; readonly native: string; readonly subTypes: readonly number[] }
  /** `book`: a RegQotPush asking for that security's book (a refusal is asked again). */
  | { readonly kind: 'other'; readonly what: string; readonly book?: string };

const MAX_LEVELS = 64;

export class FutuSession implements TcpSession<Buffer> {
  readonly stats: FutuSessionStats = {
    duplicates: 0,
    resyncs: 0,
    backfilled: 0,
    acks: 0,
    errorAcks: 0,
    unknownStream: 0,
    queuedUnsubscribes: 0,
  };
  /** OpenD's keep-alive interval (s), once InitConnect answered. */
  keepAliveSec = 0;
  connId = 0;
  private ready = false;
  private serial = 0;
  private readonly securities = new Map<string, SecurityState>();
  private readonly pending = new Map<number, Pending>();
  private readonly marketStates = new Map<number, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly minSubscribedMs: number;
  private readonly now: () => number;
  private readonly bids: number[] = new Array(2 * MAX_LEVELS).fill(0);
  private readonly asks: number[] = new Array(2 * MAX_LEVELS).fill(0);
  private readonly tickerFields = emptyTickerFields();
  private readonly resync: BookResync;

  constructor(
    private readonly ctx: TcpSessionContext,
    private readonly options: FutuSessionOptions = {},
  ) {
    this.minSubscribedMs = options.minSubscribedMs ?? 60_000;
    this.resync = new BookResync('futu', ctx, options);
    this.now = this.resync.now;
  }

  openMessages(): Uint8Array[] {
    return [
      this.request(ProtoId.InitConnect, M.InitConnectRequest, {
        c2s: { clientVer: 100, clientID: 'ringfeed', recvNotify: false, packetEncAlgo: -1, programmingLanguage: 'JavaScript' },
      }, { kind: 'other', what: 'InitConnect' }),
    ];
  }

  subscribeMessages(streams: readonly StreamSpec[]): Uint8Array[] {
    if (!this.ready) return [];
    return this.subscribePackets(new Set(streams.map((s) => s.native)));
  }

  unsubscribeMessages(streams: readonly StreamSpec[]): Uint8Array[] {
    if (!this.ready) return [];
    const out: Uint8Array[] = [];
    for (const native of new Set(streams.map((s) => s.native))) {
      const packet = this.unsubscribeUnwanted(native, streams);
      if (packet !== undefined) out.push(packet);
    }
    return out;
  }

  addStreams(streams: readonly StreamSpec[]): void {
    for (const s of streams) {
      let st = this.securities.get(s.native);
      if (st === undefined) {
        st = {
          native: s.native,
          security: parseFutuSymbol(s.native),
          symbolId: s.symbolId,
          streams: [],
          subscribed: new Map(),
          asked: new Set(),
          book: new TopBook(),
          sync: undefined,
          lastSeq: Number.NaN,
          backfill: undefined,
          bars: new Map(),
        };
        this.securities.set(s.native, st);
      }
      if (!st.streams.some((x) => sameStream(x, s))) st.streams.push(s);
      if (s.channel === 'book') {
        st.book.reset();
        if (st.sync === undefined) {
          const security = st;
          st.sync = new BookSyncState(s.native, () => this.askBook(security));
        } else this.resync.reset(st.sync);
      }
    }
  }

  removeStreams(streams: readonly StreamSpec[]): void {
    for (const s of streams) {
      const st = this.securities.get(s.native);
      if (st === undefined) continue;
      const i = st.streams.findIndex((x) => sameStream(x, s));
      if (i >= 0) st.streams.splice(i, 1);
      if (s.channel === 'book' && st.sync !== undefined) {
        this.resync.remove(st.sync);
        st.sync = undefined;
      }
      // Nothing subscribed or asked on this socket: the security is forgotten at once.
      if (st.streams.length === 0 && st.subscribed.size === 0 && st.asked.size === 0) this.forget(st);
    }
  }

  /** No data is expected: every subscribed security's market is in a quiet state (closed …). */
  quietExpected(): boolean {
    if (!this.ready || this.securities.size === 0) return false;
    for (const st of this.securities.values()) {
      const state = this.marketStates.get(st.security.market);
      if (state === undefined || !isQuietMarketState(state)) return false;
    }
    return true;
  }

  onFrame(frame: Buffer): void {
    const header = readHeader(frame);
    const body = packetBody(frame, header);
    switch (header.protoId) {
      case ProtoId.QotUpdateTicker:
        this.onTickers(decode(M.QotUpdateTicker, body) as unknown as PushOf<TickerS2C>);
        return;
      case ProtoId.QotUpdateOrderBook:
        this.onOrderBook(decode(M.QotUpdateOrderBook, body) as unknown as PushOf<OrderBookS2C>);
        return;
      case ProtoId.QotUpdateBasicQot:
        this.onBasicQot(decode(M.QotUpdateBasicQot, body) as unknown as PushOf<BasicQotS2C>);
        return;
      case ProtoId.QotUpdateKL:
        this.onKLines(decode(M.QotUpdateKL, body) as unknown as PushOf<KLS2C>);
        return;
      default:
        this.onResponse(header.protoId, header.serial, body);
        return;
    }
  }

  onDisconnect(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.ready = false;
    this.pending.clear();
    for (const st of this.securities.values()) {
      st.subscribed.clear();
      st.asked.clear();
      st.book.reset();
      if (st.sync !== undefined) this.resync.reset(st.sync);
      if (st.backfill) clearTimeout(st.backfill.timer);
      st.backfill = undefined;
      st.bars.clear();
      if (st.streams.length === 0) this.forget(st);
    }
  }

  // ---------------------------------------------------------------- requests

  private request(protoId: number, type: typeof M.QotSubRequest, value: Record<string, unknown>, pending: Pending): Buffer {
    const serial = ++this.serial;
    this.pending.set(serial, pending);
    return encodePacket(protoId, serial, encode(type, value));
  }

  private subscribePackets(natives: Iterable<string>): Buffer[] {
    const out: Buffer[] = [];
    for (const native of natives) {
      const st = this.securities.get(native);
      if (st === undefined) continue;
      const missing = [...wantedSubTypes(st)].filter((t) => !st.subscribed.has(t) && !st.asked.has(t));
      if (missing.length === 0) continue;
      for (const t of missing) st.asked.add(t);
      out.push(
        this.request(
          ProtoId.QotSub,
          M.QotSubRequest,
          { c2s: { securityList: [st.security], subTypeList: missing, isSubOrUnSub: true, isFirstPush: true } },
          { kind: 'sub', native, subTypes: missing },
        ),
      );
    }
    return out;
  }

  /** Unsubscribes the types no stream of `native` needs any more; those younger than a minute later. */
  private unsubscribeUnwanted(native: string, _removed?: readonly StreamSpec[]): Buffer | undefined {
    const st = this.securities.get(native);
    if (st === undefined) return undefined;
    const wanted = wantedSubTypes(st);
    const now = this.now();
    const due: number[] = [];
    let wait = Number.POSITIVE_INFINITY;
    for (const [t, at] of st.subscribed) {
      if (wanted.has(t)) continue;
      const left = at + this.minSubscribedMs - now;
      if (left <= 0) due.push(t);
      else wait = Math.min(wait, left);
    }
    if (wait !== Number.POSITIVE_INFINITY) {
      this.stats.queuedUnsubscribes++;
      this.later(wait, () => {
        const packet = this.unsubscribeUnwanted(native);
        if (packet !== undefined) this.ctx.send(packet);
      });
    }
    if (due.length === 0) return undefined;
    for (const t of due) st.subscribed.delete(t);
    if (st.streams.length === 0 && st.subscribed.size === 0 && st.asked.size === 0) this.forget(st);
    return this.request(
      ProtoId.QotSub,
      M.QotSubRequest,
      { c2s: { securityList: [st.security], subTypeList: due, isSubOrUnSub: false } },
      { kind: 'other', what: `unsubscribe ${native}` },
    );
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref?.();
    this.timers.add(t);
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref?.();
    this.timers.add(t);
  }

  /** Asks OpenD to push the security's current book once (RegQotPush with isFirstPush). */
  private askBook(st: SecurityState): void {
    const orderBook = SubType.OrderBook;
    if (!this.ready || !st.subscribed.has(orderBook)) return; // the subscription's own first push will come
    this.ctx.send(
      this.request(
        ProtoId.QotRegQotPush,
        M.QotRegQotPushRequest,
        { c2s: { securityList: [st.security], subTypeList: [orderBook], isRegOrUnReg: true, isFirstPush: true } },
        { kind: 'other', what: 'RegQotPush', book: st.native },
      ),
    );
  }

  private askGlobalState(): void {
    this.ctx.send(this.request(ProtoId.GetGlobalState, M.GetGlobalStateRequest, { c2s: { userID: 0 } }, { kind: 'other', what: 'GetGlobalState' }));
  }

  // ---------------------------------------------------------------- responses

  private onResponse(protoId: number, serial: number, body: Buffer): void {
    const pending = this.pending.get(serial);
    if (pending === undefined) {
      this.stats.unknownStream++;
      return;
    }
    this.pending.delete(serial);
    switch (protoId) {
      case ProtoId.InitConnect:
        this.onInitConnect(decode(M.InitConnectResponse, body) as unknown as Answer<{ keepAliveInterval?: number; connID?: unknown }>);
        return;
      case ProtoId.GetGlobalState:
        this.onGlobalState(decode(M.GetGlobalStateResponse, body) as unknown as Answer<Record<string, number>>);
        return;
      case ProtoId.QotSub: {
        const answer = decode(M.QotSubResponse, body) as unknown as Answer<unknown>;
        if (pending.kind === 'sub') this.onSubscribed(pending, answer);
        else this.acked(answer, pending.what);
        return;
      }
      case ProtoId.QotRegQotPush: {
        const answer = decode(M.QotRegQotPushResponse, body) as unknown as Answer<unknown>;
        this.acked(answer, 'RegQotPush');
        const sync = pending.kind === 'other' && pending.book !== undefined ? this.securities.get(pending.book)?.sync : undefined;
        if (answer.retType !== 0 && sync !== undefined) this.resync.askRejected(sync);
        return;
      }
      case ProtoId.QotGetTicker:
        this.onBackfill(serial, decode(M.QotGetTickerResponse, body) as unknown as Answer<TickerS2C>);
        return;
      default:
        this.stats.unknownStream++;
    }
  }

  private acked(answer: Answer<unknown>, what: string): void {
    if (answer.retType === 0) this.stats.acks++;
    else {
      this.stats.errorAcks++;
      this.ctx.log.warn(`futu: ${what} refused`, { retType: answer.retType, retMsg: bounded(answer.retMsg) });
    }
  }

  private onInitConnect(answer: Answer<{ keepAliveInterval?: number; connID?: unknown }>): void {
    if (answer.retType !== 0 || answer.s2c === undefined) {
      throw new Error(`futu: InitConnect refused (retType ${answer.retType}): ${bounded(answer.retMsg)}`);
    }
    this.ready = true;
    this.connId = int64(answer.s2c.connID as never);
    this.keepAliveSec = answer.s2c.keepAliveInterval || (this.options.defaultKeepAliveSec ?? 10);
    // OpenD drops a connection silent for its interval: its interval wins over limits.pingIntervalMs
    // for sending; the task's dead-peer check (at limits.pingIntervalMs) still judges the answers.
    this.every(this.keepAliveSec * 1000, () => this.ctx.send(keepAliveRequest()));
    this.askGlobalState();
    this.every(this.options.globalStatePollMs ?? 30_000, () => this.askGlobalState());
    for (const packet of this.subscribePackets([...this.securities.keys()])) this.ctx.send(packet);
  }

  private onGlobalState(answer: Answer<Record<string, number>>): void {
    if (answer.retType !== 0 || answer.s2c === undefined) {
      this.acked(answer, 'GetGlobalState');
      return;
    }
    this.stats.acks++;
    for (const [market, field] of Object.entries(MARKET_STATE_FIELD)) {
      const state = answer.s2c[field];
      if (typeof state === 'number') this.marketStates.set(Number(market), state);
    }
  }

  private onSubscribed(pending: Extract<Pending, { kind: 'sub' }>, answer: Answer<unknown>): void {
    const st = this.securities.get(pending.native);
    if (st === undefined) return;
    for (const t of pending.subTypes) st.asked.delete(t);
    if (answer.retType === 0) {
      this.stats.acks++;
      const at = this.now();
      for (const t of pending.subTypes) st.subscribed.set(t, at);
      if (st.sync !== undefined && pending.subTypes.includes(SubType.OrderBook)) this.resync.subscribed(st.sync);
      this.ctx.send(
        this.request(
          ProtoId.QotRegQotPush,
          M.QotRegQotPushRequest,
          { c2s: { securityList: [st.security], subTypeList: pending.subTypes, isRegOrUnReg: true, isFirstPush: true } },
          { kind: 'other', what: 'RegQotPush' },
        ),
      );
      // Streams removed while the answer was on its way: their types go again (after the minute).
      const packet = this.unsubscribeUnwanted(st.native);
      if (packet !== undefined) this.ctx.send(packet);
      return;
    }
    this.stats.errorAcks++;
    const refused = st.streams.filter((s) => pending.subTypes.includes(subTypeOf(s.channel, s.interval)));
    const message = `futu: OpenD refused ${st.native} (${refused.map((s) => s.channel).join(', ')}): ${bounded(answer.retMsg)}`;
    if (refused.length > 0) this.ctx.reject(refused, rejectionCode(answer.retMsg), message);
    else this.ctx.log.warn(message);
  }

  // ---------------------------------------------------------------- pushes

  private stateOf(security: FutuSecurity | undefined): SecurityState | undefined {
    const native = security === undefined ? undefined : futuSymbolOf(security.market, security.code);
    const st = native === undefined ? undefined : this.securities.get(native);
    if (st === undefined) this.stats.unknownStream++;
    return st;
  }

  private onTickers(push: PushOf<TickerS2C>): void {
    const s2c = pushBody(push, 'Qot_UpdateTicker');
    const st = this.stateOf(s2c.security);
    if (st === undefined || !st.streams.some((s) => s.channel === 'trades')) return;
    for (const raw of s2c.tickerList) {
      const t = readTicker(raw);
      if (st.backfill !== undefined) {
        if (st.backfill.waiting.length >= this.ctx.limits.maxBufferedUpdates) this.endBackfill(st, undefined);
        else {
          st.backfill.waiting.push(t);
          continue;
        }
      }
      if (t.seq <= st.lastSeq) {
        this.stats.duplicates++;
        continue;
      }
      if (t.seq > st.lastSeq + 1) {
        this.gap(st, t);
        if (st.backfill !== undefined) continue;
      }
      this.emitTrade(st, t);
    }
  }

  private emitTrade(st: SecurityState, t: Ticker): void {
    st.lastSeq = t.seq;
    this.ctx.sink.trade(st.symbolId, t.ts, t.seq, t.side, t.price, t.amount);
  }

  private gap(st: SecurityState, t: Ticker): void {
    const missing = t.seq - st.lastSeq - 1;
    this.stats.resyncs++;
    this.ctx.sink.status(st.symbolId, StatusCode.resync, ResyncReason.sequenceGap);
    this.ctx.onResync(st.symbolId, ResyncReason.sequenceGap);
    this.ctx.log.warn('futu: ticker sequence gap', { symbol: st.native, after: st.lastSeq, next: t.seq, missing });
    if (missing > (this.options.maxBackfill ?? 1000)) {
      // Too far behind to backfill: a fresh start from this ticker.
      this.ctx.sink.status(st.symbolId, StatusCode.synced, t.seq);
      return;
    }
    const serial = this.serial + 1;
    const packet = this.request(
      ProtoId.QotGetTicker,
      M.QotGetTickerRequest,
      { c2s: { security: st.security, maxRetNum: Math.min(1000, missing + 1 + 50) } },
      { kind: 'other', what: `GetTicker ${st.native}` },
    );
    const timer = setTimeout(() => this.endBackfill(st, undefined), this.options.backfillTimeoutMs ?? 5000);
    timer.unref?.();
    st.backfill = { from: st.lastSeq, serial, waiting: [t], timer };
    this.ctx.send(packet);
  }

  private onBackfill(serial: number, answer: Answer<TickerS2C>): void {
    for (const st of this.securities.values()) {
      if (st.backfill?.serial !== serial) continue;
      const ok = answer.retType === 0 && answer.s2c !== undefined;
      if (!ok) this.acked(answer, `GetTicker ${st.native}`);
      this.endBackfill(st, ok ? answer.s2c!.tickerList.map(readTicker) : undefined);
    }
  }

  /** Emits the backfilled tickers that were missing, then those that waited, in sequence order. */
  private endBackfill(st: SecurityState, history: Ticker[] | undefined): void {
    const bf = st.backfill;
    if (bf === undefined) return;
    clearTimeout(bf.timer);
    st.backfill = undefined;
    const firstWaiting = bf.waiting[0]?.seq ?? Number.POSITIVE_INFINITY;
    if (history !== undefined) {
      history.sort((a, b) => a.seq - b.seq);
      for (const t of history) {
        if (t.seq > st.lastSeq && t.seq < firstWaiting) {
          this.stats.backfilled++;
          this.emitTrade(st, t);
        }
      }
    }
    let first = true;
    for (const t of bf.waiting) {
      if (t.seq <= st.lastSeq) {
        this.stats.duplicates++;
        continue;
      }
      if (first) this.ctx.sink.status(st.symbolId, StatusCode.synced, t.seq);
      first = false;
      this.emitTrade(st, t);
    }
  }

  private onOrderBook(push: PushOf<OrderBookS2C>): void {
    const s2c = pushBody(push, 'Qot_UpdateOrderBook');
    const st = this.stateOf(s2c.security);
    if (st === undefined) return;
    let bidCount: number;
    let askCount: number;
    try {
      bidCount = this.levels(s2c.orderBookBidList, this.bids, 'bid');
      askCount = this.levels(s2c.orderBookAskList, this.asks, 'ask');
    } catch (err) {
      this.bookRejected(st, ResyncReason.sequenceGap);
      throw err;
    }
    if (bidCount > 0 && askCount > 0 && this.bids[0]! >= this.asks[0]!) {
      this.bookRejected(st, ResyncReason.crossedBook);
      throw new Error(`futu: ${st.native} order book is crossed (bid ${this.bids[0]} >= ask ${this.asks[0]})`);
    }
    const ts = secondsToMs(s2c.svrRecvTimeBidTimestamp || s2c.svrRecvTimeAskTimestamp);
    let quotes = false;
    for (const s of st.streams) if (s.channel === 'quotes') quotes = true;
    if (st.sync !== undefined) {
      const snapshot = st.book.apply(this.bids, bidCount, this.asks, askCount);
      const b = st.book;
      if (snapshot || b.deltaBidCount + b.deltaAskCount > 0) {
        this.ctx.sink.book(st.symbolId, ts, Number.NaN, Number.NaN, snapshot, b.deltaBids, b.deltaBidCount, b.deltaAsks, b.deltaAskCount);
      }
      if (snapshot && this.resync.snapshotApplied(st.sync)) this.ctx.sink.status(st.symbolId, StatusCode.synced, 0);
    }
    if (quotes && (bidCount > 0 || askCount > 0)) {
      const nan = Number.NaN;
      this.ctx.sink.quote(
        st.symbolId,
        ts,
        nan,
        bidCount > 0 ? this.bids[0]! : nan,
        bidCount > 0 ? this.bids[1]! : nan,
        askCount > 0 ? this.asks[0]! : nan,
        askCount > 0 ? this.asks[1]! : nan,
      );
    }
  }

  /** A push concerning the book was rejected: the book starts over from a fresh push (see BookResync). */
  private bookRejected(st: SecurityState, reason: number): void {
    if (st.sync === undefined || !st.sync.resyncsAfterRejected(st.book.empty)) return;
    st.book.reset();
    this.stats.resyncs++;
    this.resync.desync(st.sync, st.symbolId, reason);
  }

  /** A side of OpenD levels into `out` (flat); throws for a bad level (nothing of the frame applied). */
  private levels(list: readonly RawLevel[], out: number[], side: string): number {
    const n = Math.min(list.length, MAX_LEVELS);
    for (let i = 0; i < n; i++) {
      const level = list[i]!;
      const price = level.price;
      const amount = Object.hasOwn(level, 'hpVolume') ? level.hpVolume! : int64(level.volume);
      if (!(price > 0) || !Number.isFinite(price) || !(amount >= 0) || !Number.isFinite(amount)) {
        throw new Error(`futu: ${side} level ${i} is not a positive price and non-negative volume (${price}, ${amount})`);
      }
      out[2 * i] = price;
      out[2 * i + 1] = amount;
    }
    return n;
  }

  private onBasicQot(push: PushOf<BasicQotS2C>): void {
    const s2c = pushBody(push, 'Qot_UpdateBasicQot');
    for (const q of s2c.basicQotList) {
      const st = this.stateOf(q.security);
      if (st === undefined || !st.streams.some((s) => s.channel === 'ticker')) continue;
      const f = this.tickerFields;
      f.last = q.curPrice;
      f.open = q.openPrice;
      f.high = q.highPrice;
      f.low = q.lowPrice;
      f.baseVolume = int64(q.volume);
      f.quoteVolume = q.turnover;
      this.ctx.sink.ticker(st.symbolId, secondsToMs(q.updateTimestamp), Number.NaN, f);
    }
  }

  private onKLines(push: PushOf<KLS2C>): void {
    const s2c = pushBody(push, 'Qot_UpdateKL');
    const st = this.stateOf(s2c.security);
    const sec = klTypeSeconds(s2c.klType);
    if (st === undefined || sec === undefined) return;
    const interval = Object.keys(FUTU_CANDLE_INTERVALS).find((k) => FUTU_CANDLE_INTERVALS[k]!.klType === s2c.klType);
    if (!st.streams.some((s) => s.channel === 'candles' && (s.interval ?? '1m') === interval)) return;
    for (const k of s2c.klList) {
      if (k.isBlank) continue;
      // OpenD stamps intraday bars with their end, day and longer bars with their start.
      const stamp = secondsToMs(k.timestamp);
      const bar: Bar = {
        openTs: sec < 86_400 ? stamp - sec * 1000 : stamp,
        open: k.openPrice ?? Number.NaN,
        high: k.highPrice ?? Number.NaN,
        low: k.lowPrice ?? Number.NaN,
        close: k.closePrice ?? Number.NaN,
        volume: Object.hasOwn(k, 'hpVolume') ? k.hpVolume! : int64(k.volume),
      };
      const last = st.bars.get(s2c.klType);
      if (last !== undefined && bar.openTs < last.openTs) continue;
      if (last !== undefined && bar.openTs > last.openTs) this.emitBar(st, sec, last, true);
      st.bars.set(s2c.klType, bar);
      this.emitBar(st, sec, bar, false);
    }
  }

  private emitBar(st: SecurityState, sec: number, b: Bar, closed: boolean): void {
    // A K-line push carries no event time of its own.
    this.ctx.sink.candle(st.symbolId, Number.NaN, Number.NaN, sec, b.openTs, b.open, b.high, b.low, b.close, b.volume, closed);
  }

  private forget(st: SecurityState): void {
    if (st.backfill) clearTimeout(st.backfill.timer);
    this.securities.delete(st.native);
  }
}

// ------------------------------------------------------------------ helpers

let keepAliveSerial = 0;

/** A KeepAlive request (the adapter's dead-peer probe and the session's interval timer). */
export function keepAliveRequest(): Buffer {
  return encodePacket(ProtoId.KeepAlive, 0x8000_0000 + (++keepAliveSerial % 0x7fff_ffff), encode(M.KeepAliveRequest, { c2s: { time: Math.floor(Date.now() / 1000) } }));
}

function wantedSubTypes(st: SecurityState): Set<number> {
  return new Set(st.streams.map((s) => subTypeOf(s.channel, s.interval)));
}

function sameStream(a: StreamSpec, b: StreamSpec): boolean {
  return a.channel === b.channel && a.native === b.native && (a.interval ?? '') === (b.interval ?? '');
}

/** OpenD's words for an unknown security (English and Chinese builds); anything else is a refusal. */
const UNKNOWN_SECURITY = /unknown (stock|security)|not exist|no such|未知股票|不存在|找不到/i;

function rejectionCode(retMsg: string | undefined): RejectionCode {
  return UNKNOWN_SECURITY.test(retMsg ?? '') ? 'ERR_BAD_SYMBOL' : 'ERR_SUBSCRIPTION_REJECTED';
}

function bounded(text: string | undefined): string {
  const t = text ?? '(no message)';
  return t.length > 200 ? `${t.slice(0, 200)}…` : t;
}

function secondsToMs(s: number | undefined | null): number {
  return typeof s === 'number' && s > 0 ? Math.round(s * 1000) : Number.NaN;
}

function readTicker(raw: RawTicker): Ticker {
  const seq = int64(raw.sequence);
  const price = raw.price;
  const amount = Object.hasOwn(raw, 'hpVolume') ? raw.hpVolume! : int64(raw.volume);
  if (!Number.isFinite(seq)) throw new Error('futu: ticker without a sequence');
  if (!(price > 0) || !Number.isFinite(price) || !(amount >= 0) || !Number.isFinite(amount)) {
    throw new Error(`futu: ticker ${seq} is not a positive price and non-negative volume (${price}, ${amount})`);
  }
  return { seq, ts: secondsToMs(raw.timestamp), side: sideOfDirection(raw.dir), price, amount };
}

function pushBody<T>(push: PushOf<T>, name: string): T {
  if (push.retType !== 0 || push.s2c === undefined || push.s2c === null) {
    throw new Error(`futu: ${name} push with retType ${push.retType}: ${bounded(push.retMsg)}`);
  }
  return push.s2c;
}

// Decoded message shapes (protobufjs objects; int64 fields are Longs or numbers).
type Int64 = Parameters<typeof int64>[0];
interface Answer<S> {
  retType: number;
  retMsg?: string;
  s2c?: S;
}
type PushOf<S> = Answer<S>;
interface RawTicker {
  sequence: Int64;
  dir: number;
  price: number;
  volume: Int64;
  hpVolume?: number | null;
  timestamp?: number | null;
}
interface TickerS2C {
  security: FutuSecurity;
  tickerList: RawTicker[];
}
interface RawLevel {
  price: number;
  volume: Int64;
  hpVolume?: number | null;
}
interface OrderBookS2C {
  security: FutuSecurity;
  orderBookAskList: RawLevel[];
  orderBookBidList: RawLevel[];
  svrRecvTimeBidTimestamp?: number | null;
  svrRecvTimeAskTimestamp?: number | null;
}
interface BasicQotS2C {
  basicQotList: {
    security: FutuSecurity;
    curPrice: number;
    openPrice: number;
    highPrice: number;
    lowPrice: number;
    volume: Int64;
    turnover: number;
    updateTimestamp?: number | null;
  }[];
}
interface KLS2C {
  klType: number;
  security: FutuSecurity;
  klList: {
    isBlank: boolean;
    timestamp?: number | null;
    openPrice?: number | null;
    highPrice?: number | null;
    lowPrice?: number | null;
    closePrice?: number | null;
    volume?: Int64 | null;
    hpVolume?: number | null;
  }[];
}
