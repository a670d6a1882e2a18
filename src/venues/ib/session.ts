/**
 * One TWS API connection: handshake, contract resolution, the data requests per stream, and
 * the TWS error codes that change what the streams are doing (see `errors.ts`).
 *
 * Books: reqMktDepth starts from no rows, so the first depth row of a request is the book's
 * snapshot (written with the levels it makes) and `synced` follows. A rejected depth row
 * resyncs the book on the kit's `BookResync`: its ask is a fresh reqMktDepth, asked again when
 * no row comes within the snapshot timeout or TWS answers the request with an error.
 */
import { ResyncReason, Side, StatusCode } from '../../records/types.js';
import type { StreamSpec, TcpSession, TcpSessionContext, TickerFields } from '../contract.js';
import { BookResync, type BookResyncTiming, BookSyncState } from '../kit/book-resync.js';
import { Pacer } from '../kit/pacer.js';
import { emptyTickerFields } from '../kit/ticker-fields.js';
import { describeStreams } from '../rejection.js';
import { FieldReader, handshake as handshakeBytes, In, messageId, startApi, TickByTick, TickType, TWS_MAX_VERSION, TWS_MIN_VERSION, VERSION_LAST_TRADE_DATE } from './codec.js';
import { type ContractSpec, parseContractSpec } from './contract-spec.js';
import { DepthBook, DepthSide } from './depth-book.js';
import { ENTITLEMENT_ERRORS, FARM_DOWN, FARM_OK, TwsError } from './errors.js';
import * as req from './requests.js';

/** Rows of depth asked per side. */
export const DEPTH_ROWS = 10;
export const DEFAULT_CLIENT_ID = 0;

interface Contract {
  readonly native: string;
  readonly spec: ContractSpec;
  conId: number;
  /** Streams of this contract, by channel. */
  readonly streams: Map<string, StreamSpec>;
  /** The pending `reqContractDetails` (0 when none). */
  detailsReqId: number;
}

interface Book {
  readonly rows: DepthBook;
  readonly sync: BookSyncState;
}

interface DataRequest {
  readonly stream: StreamSpec;
  readonly contract: Contract;
}

export interface IbSessionStats {
  serverVersion: number;
  requestsSent: number;
  resubscribes: number;
  resyncs: number;
  ignored: number;
}

export interface IbSessionOptions extends BookResyncTiming {
  /** Requests per second (below TWS's 50). */
  readonly perSecond?: number;
}

export function createIbSession(ctx: TcpSessionContext, options: IbSessionOptions = {}): IbSession {
  return new IbSession(ctx, options);
}

export class IbSession implements TcpSession<Buffer> {
  readonly stats: IbSessionStats = { serverVersion: 0, requestsSent: 0, resubscribes: 0, resyncs: 0, ignored: 0 };
  private readonly clientId: number;
  private readonly pacer: Pacer<Uint8Array>;
  private readonly reader = new FieldReader();
  private readonly contracts = new Map<string, Contract>();
  private readonly details = new Map<number, Contract>();
  private readonly requests = new Map<number, DataRequest>();
  /** The data request of each stream (key: channel + symbolId). */
  private readonly byStream = new Map<string, number>();
  private readonly books = new Map<number, Book>();
  private readonly resync: BookResync;
  private readonly tickers = new Map<number, TickerFields>();
  private readonly levels: number[] = [];
  private readonly snapshotBids: number[] = [];
  private readonly empty: number[] = [];
  private nextReqId = 1;
  private ready = false;
  private farmDown = false;

  constructor(
    private readonly ctx: TcpSessionContext,
    options: IbSessionOptions,
  ) {
    this.clientId = ctx.clientId ?? DEFAULT_CLIENT_ID;
    this.resync = new BookResync('ib', ctx, options);
    this.pacer = new Pacer((bytes) => {
      this.stats.requestsSent++;
      ctx.send(bytes);
    // TWS closes a client above 50 messages a second: evenly spaced, with a margin.
    }, { perSecond: options.perSecond ?? 40 });
  }

  get pendingRequests(): number {
    return this.pacer.pending;
  }

  openMessages(_streams: readonly StreamSpec[]): Uint8Array[] {
    this.reset();
    return [handshakeBytes()];
  }

  subscribeMessages(_streams: readonly StreamSpec[]): Uint8Array[] {
    return []; // sent paced, from addStreams
  }

  unsubscribeMessages(_streams: readonly StreamSpec[]): Uint8Array[] {
    return []; // sent paced, from removeStreams
  }

  addStreams(streams: readonly StreamSpec[]): void {
    const touched = new Set<Contract>();
    for (const s of streams) {
      let c = this.contracts.get(s.native);
      if (c === undefined) {
        c = { native: s.native, spec: parseContractSpec(s.native), conId: 0, streams: new Map(), detailsReqId: 0 };
        this.contracts.set(s.native, c);
      }
      c.streams.set(s.channel, s);
      touched.add(c);
    }
    if (!this.ready) return;
    for (const c of touched) this.requestContract(c, [...streams].filter((s) => s.native === c.native));
  }

  removeStreams(streams: readonly StreamSpec[]): void {
    for (const s of streams) {
      this.cancel(s);
      const c = this.contracts.get(s.native);
      if (c === undefined) continue;
      c.streams.delete(s.channel);
      if (s.channel === 'book') {
        const book = this.books.get(s.symbolId);
        if (book !== undefined) this.resync.remove(book.sync);
        this.books.delete(s.symbolId);
      }
      if (s.channel === 'ticker') this.tickers.delete(s.symbolId);
      if (c.streams.size === 0) {
        this.contracts.delete(s.native);
        if (c.detailsReqId) this.details.delete(c.detailsReqId);
      }
    }
  }

  onDisconnect(): void {
    this.reset();
  }

  private reset(): void {
    this.pacer.clear();
    this.ready = false;
    this.farmDown = false;
    this.stats.serverVersion = 0;
    this.details.clear();
    this.requests.clear();
    this.byStream.clear();
    for (const b of this.books.values()) this.startOver(b);
    for (const c of this.contracts.values()) c.detailsReqId = 0;
  }

  onFrame(frame: Buffer): void {
    if (this.stats.serverVersion === 0) {
      this.onServerVersion(frame);
      return;
    }
    const r = this.reader.reset(frame);
    const id = messageId(frame);
    switch (id) {
      case In.tickByTick:
        this.onTickByTick(r);
        return;
      case In.marketDepth:
      case In.marketDepthL2:
        this.onDepth(r, id === In.marketDepthL2);
        return;
      case In.tickPrice:
      case In.tickSize:
        this.onTick(r, id === In.tickPrice);
        return;
      case In.realTimeBars:
        this.onBar(r);
        return;
      case In.error:
        this.onError(r);
        return;
      case In.contractData:
        this.onContractData(r);
        return;
      case In.contractDataEnd:
        this.onContractDataEnd(r);
        return;
      case In.nextValidId:
        this.onReady();
        return;
      case In.managedAccounts:
        r.skip(2);
        this.ctx.log.debug('ib: managed accounts received', { accounts: r.str('accounts').slice(0, 200) });
        return;
      default:
        if (Number.isNaN(id)) throw new Error('ib: message without a message id');
        this.stats.ignored++; // TWS sends many messages we do not use (market data type, tick params …)
    }
  }

  private onServerVersion(frame: Buffer): void {
    const r = this.reader.reset(frame);
    const version = r.int('server version');
    if (version < TWS_MIN_VERSION || version > TWS_MAX_VERSION) {
      throw new Error(`ib: TWS answered server version ${version}; ringfeed speaks ${TWS_MIN_VERSION}..${TWS_MAX_VERSION} (TWS / IB Gateway 10.19 or later)`);
    }
    this.stats.serverVersion = version;
    this.pacer.send(startApi(this.clientId));
  }

  private onReady(): void {
    if (this.ready) return;
    this.ready = true;
    for (const c of this.contracts.values()) this.requestContract(c, [...c.streams.values()]);
  }

  /** Resolves the contract first; once it has a conId, the data requests of `streams`. */
  private requestContract(c: Contract, streams: readonly StreamSpec[]): void {
    if (c.conId === 0) {
      if (c.detailsReqId !== 0) return; // its end will request every stream of it
      c.detailsReqId = this.nextReqId++;
      this.details.set(c.detailsReqId, c);
      this.pacer.send(req.reqContractDetails(c.detailsReqId, c));
      return;
    }
    for (const s of streams) this.request(c, s);
  }

  /** `asked`: a resync's ask (its timing is the resync's), not the stream's own first request. */
  private request(c: Contract, s: StreamSpec, asked = false): void {
    this.cancel(s);
    const reqId = this.nextReqId++;
    this.requests.set(reqId, { stream: s, contract: c });
    this.byStream.set(streamKey(s), reqId);
    switch (s.channel) {
      case 'trades':
        this.pacer.send(req.reqTickByTick(reqId, c, 'AllLast'));
        return;
      case 'quotes':
        this.pacer.send(req.reqTickByTick(reqId, c, 'BidAsk'));
        return;
      case 'ticker':
        this.tickers.set(s.symbolId, emptyTickerFields());
        this.pacer.send(req.reqMktData(reqId, c));
        return;
      case 'candles':
        this.pacer.send(req.reqRealTimeBars(reqId, c));
        return;
      case 'book': {
        let book = this.books.get(s.symbolId);
        if (book === undefined) {
          book = { rows: new DepthBook(), sync: new BookSyncState(s.native, () => this.request(c, s, true)) };
          this.books.set(s.symbolId, book);
        }
        book.rows.clear();
        if (!asked) {
          this.startOver(book);
          this.resync.subscribed(book.sync);
        }
        this.pacer.send(req.reqMktDepth(reqId, c, DEPTH_ROWS, c.spec.exchange === 'SMART'));
        return;
      }
      default:
        throw new Error(`ib: no channel ${s.channel}`);
    }
  }

  /** Cancels the stream's live data request, if it has one. */
  private cancel(s: StreamSpec): void {
    const key = streamKey(s);
    const reqId = this.byStream.get(key);
    if (reqId === undefined) return;
    this.byStream.delete(key);
    const live = this.requests.get(reqId);
    this.requests.delete(reqId);
    if (live === undefined || !this.ready) return;
    switch (s.channel) {
      case 'trades':
      case 'quotes':
        this.pacer.send(req.cancelTickByTick(reqId));
        return;
      case 'ticker':
        this.pacer.send(req.cancelMktData(reqId));
        return;
      case 'candles':
        this.pacer.send(req.cancelRealTimeBars(reqId));
        return;
      case 'book':
        this.pacer.send(req.cancelMktDepth(reqId, live.contract.spec.exchange === 'SMART'));
        return;
    }
  }

  /** Every stream asked again (new request ids); books start over. */
  private resubscribeAll(why: string): void {
    this.stats.resubscribes++;
    this.ctx.log.info(`ib: resubscribing every stream (${why})`);
    for (const c of this.contracts.values()) {
      for (const s of c.streams.values()) {
        if (s.channel === 'book') this.ctx.sink.status(s.symbolId, StatusCode.resync, ResyncReason.reconnect);
      }
      this.requestContract(c, [...c.streams.values()]);
    }
  }

  private everyStream(fn: (s: StreamSpec) => void): void {
    for (const c of this.contracts.values()) for (const s of c.streams.values()) fn(s);
  }

  private onContractData(r: FieldReader): void {
    r.skip(1);
    const reqId = r.int('reqId');
    const c = this.details.get(reqId);
    if (c === undefined) return;
    // symbol, secType, contract month, [lastTradeDate], strike, right, exchange, currency, localSymbol, marketName, tradingClass
    r.skip(this.stats.serverVersion >= VERSION_LAST_TRADE_DATE ? 11 : 10);
    const conId = r.int('conId');
    if (c.conId === 0 && conId > 0) c.conId = conId;
  }

  private onContractDataEnd(r: FieldReader): void {
    r.skip(2);
    const reqId = r.int('reqId');
    const c = this.details.get(reqId);
    if (c === undefined) return;
    this.details.delete(reqId);
    c.detailsReqId = 0;
    if (c.conId === 0) {
      this.rejectContract(c, 'ERR_BAD_SYMBOL', 'TWS has no contract for it');
      return;
    }
    for (const s of c.streams.values()) this.request(c, s);
  }

  private rejectContract(c: Contract, code: 'ERR_BAD_SYMBOL' | 'ERR_SUBSCRIPTION_REJECTED', why: string): void {
    const streams = [...c.streams.values()];
    if (streams.length > 0) this.ctx.reject(streams, code, `${describeStreams('ib', streams)}: ${why}`);
  }

  private onError(r: FieldReader): void {
    r.skip(2); // id, version
    const id = r.int('id', -1);
    const code = r.int('code');
    const text = r.str('message').slice(0, 300);
    const err = new TwsError(code, text);
    if (code === 326) {
      const streams = [...this.contracts.values()].flatMap((c) => [...c.streams.values()]);
      const message = `ib: client id ${this.clientId} is already in use by another API client of this TWS (error 326); set venues.ib.clientId to a free id`;
      this.ctx.log.error(message);
      if (streams.length > 0) this.ctx.reject(streams, 'ERR_SUBSCRIPTION_REJECTED', message);
      return;
    }
    if (id <= 0) {
      this.onSystemMessage(err);
      return;
    }
    const contract = this.details.get(id);
    if (contract !== undefined) {
      this.details.delete(id);
      contract.detailsReqId = 0;
      this.rejectContract(contract, code === 200 ? 'ERR_BAD_SYMBOL' : 'ERR_SUBSCRIPTION_REJECTED', err.message);
      return;
    }
    const live = this.requests.get(id);
    if (live === undefined) return;
    if (code === 200) {
      this.ctx.reject([live.stream], 'ERR_BAD_SYMBOL', `${describeStreams('ib', [live.stream])}: ${err.message}`);
    } else if (ENTITLEMENT_ERRORS.has(code)) {
      this.ctx.reject([live.stream], 'ERR_SUBSCRIPTION_REJECTED', `${describeStreams('ib', [live.stream])}: no market data permission: ${err.message}`);
    } else {
      this.ctx.log.warn(`ib: request ${id} (${live.stream.symbol} ${live.stream.channel}): ${err.message}`);
      // A book's depth request that failed: asked again, rate-limited.
      const book = live.stream.channel === 'book' ? this.books.get(live.stream.symbolId) : undefined;
      if (book !== undefined) this.resync.askRejected(book.sync);
    }
  }

  /** Connection-wide notices (id -1). */
  private onSystemMessage(err: TwsError): void {
    const { code } = err;
    if (code === 1100) {
      this.ctx.log.warn(`ib: ${err.message}: every stream is stale, books cleared`);
      this.everyStream((s) => {
        this.ctx.sink.status(s.symbolId, StatusCode.stale, code);
        const book = s.channel === 'book' ? this.books.get(s.symbolId) : undefined;
        if (book !== undefined) {
          this.startOver(book);
          this.ctx.sink.status(s.symbolId, StatusCode.resync, ResyncReason.reconnect);
        }
      });
    } else if (code === 1101) {
      this.resubscribeAll('TWS restored connectivity, data lost (1101)');
    } else if (code === 1102) {
      this.ctx.log.info(`ib: ${err.message}: streams resume; books are asked again`);
      for (const c of this.contracts.values()) {
        const book = c.streams.get('book');
        if (book !== undefined && c.conId !== 0) this.request(c, book);
      }
    } else if (FARM_DOWN.has(code)) {
      this.farmDown = true;
      this.ctx.log.warn(`ib: ${err.message}`);
      this.everyStream((s) => this.ctx.sink.status(s.symbolId, StatusCode.stale, code));
    } else if (FARM_OK.has(code)) {
      if (this.farmDown && this.ready) {
        this.farmDown = false;
        // A farm coming back does not always restart the streams it carried: ask every one again.
        this.resubscribeAll(`data farm OK (${code}) after it was down`);
      }
    } else {
      this.ctx.log.info(`ib: ${err.message}`);
    }
  }

  private onTickByTick(r: FieldReader): void {
    r.skip(1);
    const reqId = r.int('reqId');
    const type = r.int('tickType');
    const ts = r.int('time') * 1000;
    const live = this.requests.get(reqId);
    if (live === undefined) return;
    const id = live.stream.symbolId;
    if (type === TickByTick.allLast || type === TickByTick.last) {
      const price = r.num('price');
      const size = r.num('size');
      if (!(price > 0) || !(size >= 0)) throw new Error(`ib: trade with price ${price} and size ${size}`);
      this.ctx.sink.trade(id, ts, Number.NaN, Side.unknown, price, size);
    } else if (type === TickByTick.bidAsk) {
      const bid = r.num('bidPrice');
      const ask = r.num('askPrice');
      const bidSize = r.num('bidSize');
      const askSize = r.num('askSize');
      if (bidSize < 0 || askSize < 0) throw new Error(`ib: quote with a negative size (${bidSize}, ${askSize})`);
      this.ctx.sink.quote(id, ts, Number.NaN, bid, bidSize, ask, askSize);
    }
  }

  private onDepth(r: FieldReader, l2: boolean): void {
    r.skip(2);
    const live = this.requests.get(r.int('reqId'));
    if (live === undefined) return;
    const id = live.stream.symbolId;
    const book = this.books.get(id);
    if (book === undefined) return;
    let side = 0;
    try {
      const position = r.int('position');
      if (l2) r.skip(1); // market maker
      const op = r.int('operation');
      side = r.int('side');
      book.rows.apply(side, op, position, r.num('price'), r.num('size'), this.levels);
    } catch (err) {
      // The rows no longer match TWS's (nothing of the row was applied): the book starts over.
      book.rows.clear();
      this.stats.resyncs++;
      this.resync.desync(book.sync, id, ResyncReason.sequenceGap);
      throw err;
    }
    if (!book.sync.synced) {
      // The request's first row: the book is what it makes (written whole).
      const nb = book.rows.levelsOf(DepthSide.bid, this.snapshotBids);
      const na = book.rows.levelsOf(DepthSide.ask, this.levels);
      this.ctx.sink.book(id, Number.NaN, Number.NaN, Number.NaN, true, this.snapshotBids, nb, this.levels, na);
      if (this.resync.snapshotApplied(book.sync)) this.ctx.sink.status(id, StatusCode.synced, 0);
      return;
    }
    const n = this.levels.length >> 1;
    if (side === DepthSide.bid) this.ctx.sink.book(id, Number.NaN, Number.NaN, Number.NaN, false, this.levels, n, this.empty, 0);
    else this.ctx.sink.book(id, Number.NaN, Number.NaN, Number.NaN, false, this.empty, 0, this.levels, n);
  }

  /** The book has no rows and waits for its request's first row (no ask pending). */
  private startOver(book: Book): void {
    book.rows.clear();
    this.resync.reset(book.sync);
  }

  private onTick(r: FieldReader, isPrice: boolean): void {
    r.skip(2);
    const reqId = r.int('reqId');
    const type = r.int('tickType');
    const value = r.num(isPrice ? 'price' : 'size');
    const live = this.requests.get(reqId);
    if (live === undefined) return;
    const t = this.tickers.get(live.stream.symbolId);
    if (t === undefined) return;
    switch (type) {
      case TickType.bid:
        t.bidPrice = value;
        break;
      case TickType.ask:
        t.askPrice = value;
        break;
      case TickType.last:
        t.last = value;
        break;
      case TickType.high:
        t.high = value;
        break;
      case TickType.low:
        t.low = value;
        break;
      case TickType.open:
        t.open = value;
        break;
      case TickType.volume:
        t.baseVolume = value;
        break;
      default:
        return; // sizes of bid/ask/last and the rest are not ticker fields
    }
    this.ctx.sink.ticker(live.stream.symbolId, Number.NaN, Number.NaN, t);
  }

  private onBar(r: FieldReader): void {
    r.skip(2);
    const reqId = r.int('reqId');
    const openTs = r.int('time') * 1000;
    const open = r.num('open');
    const high = r.num('high');
    const low = r.num('low');
    const close = r.num('close');
    const volume = r.num('volume');
    const live = this.requests.get(reqId);
    if (live === undefined) return;
    if (!(low > 0) || !(high >= low) || !(volume >= 0)) throw new Error(`ib: bar with low ${low}, high ${high}, volume ${volume}`);
    this.ctx.sink.candle(live.stream.symbolId, openTs, Number.NaN, 5, openTs, open, high, low, close, volume, true);
  }
}

function streamKey(s: StreamSpec): string {
  return `${s.channel}:${s.symbolId}`;
}
