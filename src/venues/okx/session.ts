/**
 * OKX v5 public session: subscribe/unsubscribe frames, text `ping`/`pong`, normalization of
 * `trades`, `tickers`, `bbo-tbt`, `books`/`books5`, `candle*`, `funding-rate` and `mark-price`,
 * and in-stream book sync with sequence and checksum checks.
 *
 * Book sync (`books`, 400 levels; https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel):
 *  - After subscribing, OKX sends `action: "snapshot"` (prevSeqId -1), then `action: "update"`
 *    frames. An update continues the book when its `prevSeqId` equals the last applied `seqId`.
 *    That rule also covers the documented exceptions: a no-change update (empty bids/asks,
 *    `prevSeqId == seqId`, sent when the book is idle) and a sequence reset after maintenance
 *    (`seqId < prevSeqId`; later frames follow the normal rule).
 *  - An update with `prevSeqId != last` and `seqId <= last` was already applied (a second socket
 *    during a planned rotation) and is dropped silently; any other mismatch is a gap.
 *  - After applying an update (or a snapshot) the CRC32 of the top 25 levels, built from the
 *    original strings, must equal `checksum` (0 = not provided: OKX deprecated the field in
 *    2026 and now always sends 0). A crossed book is a desync too.
 *  - A desync resyncs that symbol only: `resync` status (detail = ResyncReason), `ctx.onResync`,
 *    the book is cleared, and `unsubscribe` + `subscribe` of that one `books` arg are sent through
 *    kit/book-resync.ts (at most once per `minResyncIntervalMs` per symbol; retried with capped
 *    backoff when no snapshot comes or the venue refuses). A rejected book frame of a synced
 *    book, or a rejected snapshot, resyncs the same way (sequenceGap). Frames of the
 *    old subscription are ignored until the new snapshot arrives; then `synced` (detail = seqId).
 *  - A snapshot whose `seqId <= last` while in sync is a rotation duplicate and is dropped.
 *  - Frames without seqId/prevSeqId (captures before 2023) are checked by checksum only.
 * Delta records carry `firstSeq = prevSeqId + 1` and `seq = seqId`; no-change updates emit nothing.
 *
 * `books5` (option `bookChannel`) is a 5-level snapshot per frame: each frame becomes a snapshot
 * record; no sequence or checksum exists there, crossed frames are dropped.
 *
 * Units: trade/book/quote sizes are OKX's (contracts for swaps, as in ccxt). Volumes are in the
 * base currency: `vol24h` (spot) / `volCcy24h` (swaps) for tickers, `vol` (spot) / `volCcy`
 * (swaps) for candles.
 */

import { ResyncReason, Side, StatusCode } from '../../records/types.js';
import type { SessionContext, StreamSpec, TickerFields, VenueSession } from '../contract.js';
import { BookResync, type BookResyncTiming, BookSyncState } from '../kit/book-resync.js';
import { K_BOOK, K_CANDLES, K_FUNDING, K_QUOTES, K_TICKER, K_TRADES, K_VENUE } from '../kit/channel-kind.js';
import { FieldReader } from '../kit/fields.js';
import { parseObjectFrame } from '../kit/frame.js';
import { dec, isObj, type Obj, preview, previewValue } from '../kit/json-fields.js';
import { ASKS, BIDS, LevelScratch, parsePairLevels } from '../kit/levels.js';
import { type SessionStats, sessionStats } from '../kit/session-stats.js';
import { clearTickerFields, emptyTickerFields } from '../kit/ticker-fields.js';
import { OkxBook } from './book.js';
import { channelInstId, isDerivativeInstId, type OkxBookChannel, okxCandleSec, okxChannelsOf } from './channels.js';

/** Resync timing (`minResyncIntervalMs`, `snapshotTimeoutMs`, `now` …): see kit/book-resync.ts. */
export interface OkxSessionOptions extends BookResyncTiming {
  /** `books` (default: 400 levels, sequence + checksum) or `books5` (5-level snapshots). */
  bookChannel?: OkxBookChannel;
  /** Max levels per side kept in the worker book. Default 5000. */
  maxBookLevels?: number;
  /** Max args per subscribe/unsubscribe frame. Default 100. */
  maxArgsPerRequest?: number;
}

export interface OkxSessionStats extends SessionStats {
  checksumFailures: number;
  sequenceGaps: number;
  /** Book frames ignored while waiting for a snapshot. */
  ignoredWhileSyncing: number;
  /** Book updates whose checksum was verified. */
  checksumsVerified: number;
  pongs: number;
}

/** OKX's own channels beyond the normalized kinds. */
const K_BOOK5 = K_VENUE;
const K_MARK = K_VENUE + 1;
const K_INDEX = K_VENUE + 2;

interface BookSync {
  readonly book: OkxBook;
  /** Last applied seqId (NaN when unknown). */
  lastSeq: number;
  readonly state: BookSyncState;
}

interface StreamState {
  readonly kind: number;
  readonly channel: string;
  readonly instId: string;
  readonly deriv: boolean;
  readonly intervalSec: number;
  symbol: string;
  symbolId: number;
  /** Dedupe: last trade id / seqId / event time emitted. */
  last: number;
  /** Candles: open time and volume of the last emitted update. */
  lastOpen: number;
  lastVol: number;
  lastClosed: boolean;
  readonly sync: BookSync | undefined;
  removed: boolean;
}

function specKey(spec: StreamSpec): string {
  return `${spec.channel}|${spec.native}|${spec.interval ?? ''}`;
}

export class OkxSession implements VenueSession {
  readonly stats: OkxSessionStats = sessionStats('checksumFailures', 'sequenceGaps', 'ignoredWhileSyncing', 'checksumsVerified', 'pongs');

  /** OKX channel → instId → state (nested so that routing a frame allocates nothing). */
  private readonly byChannel = new Map<string, Map<string, StreamState>>();
  private readonly bySpec = new Map<string, StreamState[]>();
  /** The spec of each `bySpec` key (what a refusal is reported for). */
  private readonly specs = new Map<string, StreamSpec>();
  private readonly ticker: TickerFields = emptyTickerFields();
  /** Level counts of the last `readTop`. */
  private topBids = 0;
  private topAsks = 0;
  private readonly levels = new LevelScratch();
  private readonly fields = new FieldReader<StreamState>((st) => `okx: malformed ${st.channel} frame for ${st.instId}`);

  private readonly bookChannel: OkxBookChannel;
  private readonly maxBookLevels: number;
  private readonly maxArgs: number;
  private readonly bookSync: BookResync;

  constructor(
    private readonly ctx: SessionContext,
    options: OkxSessionOptions = {},
  ) {
    this.bookChannel = options.bookChannel ?? 'books';
    this.maxBookLevels = options.maxBookLevels ?? ctx.limits.maxBookLevels;
    this.maxArgs = options.maxArgsPerRequest ?? 100;
    this.bookSync = new BookResync('okx', ctx, options);
  }

  /** The worker-side book of a symbol (undefined when no book stream). */
  book(symbolId: number): OkxBook | undefined {
    for (const list of this.bySpec.values()) {
      for (const st of list) if (st.sync !== undefined && st.symbolId === symbolId) return st.sync.book;
    }
    return undefined;
  }

  isSynced(symbolId: number): boolean {
    for (const list of this.bySpec.values()) {
      for (const st of list) {
        if (st.sync !== undefined && st.symbolId === symbolId) return st.sync.state.synced;
      }
    }
    return false;
  }

  // ─── control frames ──────────────────────────────────────────────────────────────────────

  openMessages(streams: readonly StreamSpec[]): string[] {
    return this.requests('subscribe', streams);
  }

  subscribeMessages(streams: readonly StreamSpec[]): string[] {
    return this.requests('subscribe', streams);
  }

  unsubscribeMessages(streams: readonly StreamSpec[]): string[] {
    return this.requests('unsubscribe', streams);
  }

  private requests(op: string, streams: readonly StreamSpec[]): string[] {
    const args: Array<{ channel: string; instId: string }> = [];
    for (const spec of streams) {
      for (const channel of okxChannelsOf(spec, this.bookChannel)) args.push({ channel, instId: channelInstId(channel, spec.native) });
    }
    const out: string[] = [];
    for (let i = 0; i < args.length; i += this.maxArgs) {
      out.push(JSON.stringify({ op, args: args.slice(i, i + this.maxArgs) }));
    }
    return out;
  }

  private onEvent(m: Obj, text: string): void {
    switch (m.event) {
      case 'subscribe':
      case 'unsubscribe':
        this.stats.acks++;
        return;
      case 'error':
        this.stats.errorAcks++;
        this.ctx.log.warn('okx: request rejected', { code: m.code, msg: m.msg, connId: m.connId });
        this.retryRefusedBookAsk(m);
        this.rejectNamed(m);
        return;
      case 'notice':
        // e.g. 64008: the connection will be closed soon for a service upgrade.
        this.ctx.log.warn('okx: notice', { code: m.code, msg: m.msg });
        return;
      default:
        this.ctx.log.debug('okx: event ignored', { frame: preview(text) });
    }
  }

  /** A book resubscription the venue refused brings no snapshot: ask again (rate-limited). */
  private retryRefusedBookAsk(m: Obj): void {
    const msg = typeof m.msg === 'string' ? m.msg : '';
    const instId = /instId:([A-Za-z0-9-]+)/.exec(msg)?.[1];
    if (instId === undefined) return;
    const st = this.byChannel.get(this.bookChannel)?.get(instId);
    if (st?.sync !== undefined) this.bookSync.askRejected(st.sync.state);
  }

  /**
   * OKX answers each refused `{channel, instId}` of a subscribe with its own error event whose
   * `msg` names both (`channel:trades,instId:FOO-BAR doesn't exist`, code 60018). The streams
   * carried by that OKX channel for that instrument are rejected; an error naming no
   * instrument we carry (a malformed request) only logs.
   */
  private rejectNamed(m: Obj): void {
    const msg = typeof m.msg === 'string' ? m.msg : '';
    const instId = /instId:([A-Za-z0-9-]+)/.exec(msg)?.[1];
    if (instId === undefined) return;
    const channel = /channel:([A-Za-z0-9-]+)/.exec(msg)?.[1];
    const streams = [...this.specs.values()].filter(
      (s) =>
        okxChannelsOf(s, this.bookChannel).some((c) => (channel === undefined || c === channel) && channelInstId(c, s.native) === instId),
    );
    if (streams.length === 0) return;
    const code = String(m.code) === '60018' ? 'ERR_BAD_SYMBOL' : 'ERR_SUBSCRIPTION_REJECTED';
    const what = [...new Set(streams.map((s) => `${s.symbol} ${s.channel}`))].join(', ');
    this.ctx.reject?.(streams, code, `okx: ${what} refused by the venue (${String(m.code)}): ${msg}`);
  }

  // ─── stream bookkeeping ──────────────────────────────────────────────────────────────────

  addStreams(streams: readonly StreamSpec[]): void {
    for (const spec of streams) {
      const key = specKey(spec);
      this.specs.set(key, spec);
      const existing = this.bySpec.get(key);
      if (existing !== undefined) {
        for (const st of existing) {
          st.symbol = spec.symbol;
          st.symbolId = spec.symbolId;
        }
        continue;
      }
      const channels = okxChannelsOf(spec, this.bookChannel);
      if (channels.length === 0) {
        this.ctx.log.warn('okx: channel not available for this instrument; ignored', {
          channel: spec.channel,
          symbol: spec.symbol,
        });
      }
      const list: StreamState[] = [];
      for (const channel of channels) {
        const st = this.newState(spec, channel);
        let inner = this.byChannel.get(channel);
        if (inner === undefined) {
          inner = new Map();
          this.byChannel.set(channel, inner);
        }
        inner.set(st.instId, st);
        list.push(st);
      }
      this.bySpec.set(key, list);
    }
  }

  private newState(spec: StreamSpec, channel: string): StreamState {
    let kind: number;
    if (channel === 'trades') kind = K_TRADES;
    else if (channel === 'tickers') kind = K_TICKER;
    else if (channel === 'bbo-tbt') kind = K_QUOTES;
    else if (channel === 'books') kind = K_BOOK;
    else if (channel === 'books5') kind = K_BOOK5;
    else if (channel === 'funding-rate') kind = K_FUNDING;
    else if (channel === 'mark-price') kind = K_MARK;
    else if (channel === 'index-tickers') kind = K_INDEX;
    else kind = K_CANDLES;
    return {
      kind,
      channel,
      instId: channelInstId(channel, spec.native),
      deriv: isDerivativeInstId(spec.native),
      intervalSec: kind === K_CANDLES ? (okxCandleSec(channel) ?? Number.NaN) : Number.NaN,
      symbol: spec.symbol,
      symbolId: spec.symbolId,
      last: Number.NEGATIVE_INFINITY,
      lastOpen: Number.NaN,
      lastVol: Number.NaN,
      lastClosed: false,
      removed: false,
      sync:
        kind === K_BOOK || kind === K_BOOK5
          ? {
              book: new OkxBook(this.maxBookLevels),
              lastSeq: Number.NaN,
              state: new BookSyncState(`${channel}:${spec.native}`, () => {
                const args = [{ channel, instId: spec.native }];
                this.ctx.send(JSON.stringify({ op: 'unsubscribe', args }));
                this.ctx.send(JSON.stringify({ op: 'subscribe', args }));
              }),
            }
          : undefined,
    };
  }

  removeStreams(streams: readonly StreamSpec[]): void {
    for (const spec of streams) {
      const key = specKey(spec);
      const list = this.bySpec.get(key);
      if (list === undefined) continue;
      this.bySpec.delete(key);
      this.specs.delete(key);
      for (const st of list) {
        st.removed = true;
        if (st.sync !== undefined) {
          this.resetSync(st.sync);
          this.bookSync.remove(st.sync.state);
        }
        this.byChannel.get(st.channel)?.delete(st.instId);
      }
    }
  }

  onDisconnect(): void {
    for (const list of this.bySpec.values()) {
      for (const st of list) if (st.sync !== undefined) this.resetSync(st.sync);
    }
  }

  private resetSync(sync: BookSync): void {
    this.bookSync.reset(sync.state);
    sync.book.clear();
    sync.lastSeq = Number.NaN;
  }

  // ─── frames ──────────────────────────────────────────────────────────────────────────────

  onMessage(text: string): void {
    if (text === 'pong') {
      this.stats.pongs++;
      return;
    }
    const msg = parseObjectFrame('okx', text);
    if (typeof msg.event === 'string') {
      this.onEvent(msg, text);
      return;
    }
    const arg = msg.arg;
    const data = msg.data;
    if (!isObj(arg) || typeof arg.channel !== 'string' || typeof arg.instId !== 'string') {
      throw new Error(`okx: frame without a {channel, instId} arg: ${preview(text)}`);
    }
    const st = this.byChannel.get(arg.channel)?.get(arg.instId);
    if (st === undefined) {
      this.stats.unknownStream++;
      return;
    }
    if (!Array.isArray(data)) throw this.malformed(st, 'missing "data" array');
    // A frame with several items is checked whole first (`check` = validate only): a bad item
    // rejects the frame before any item of it is written.
    for (let pass = data.length > 1 ? 2 : 1; pass > 0; pass--) {
      const check = pass > 1;
      switch (st.kind) {
        case K_TRADES:
          for (let i = 0; i < data.length; i++) this.onTrade(st, this.item(st, data, i), check);
          break;
        case K_TICKER:
          for (let i = 0; i < data.length; i++) this.onTicker(st, this.item(st, data, i), check);
          break;
        case K_QUOTES:
          for (let i = 0; i < data.length; i++) this.onBbo(st, this.item(st, data, i), check);
          break;
        case K_BOOK:
        case K_BOOK5:
          this.onBookFrame(st, msg.action, data, check);
          break;
        case K_CANDLES:
          for (let i = 0; i < data.length; i++) this.onCandle(st, data[i], check);
          break;
        case K_FUNDING:
          for (let i = 0; i < data.length; i++) this.onFunding(st, this.item(st, data, i), check);
          break;
        case K_MARK:
          for (let i = 0; i < data.length; i++) this.onPrice(st, this.item(st, data, i), check, 'markPx', 'markPrice');
          break;
        case K_INDEX:
          for (let i = 0; i < data.length; i++) this.onPrice(st, this.item(st, data, i), check, 'idxPx', 'indexPrice');
          break;
      }
    }
  }

  /**
   * Nothing of a rejected book frame was applied (checked whole first); the book it concerns can
   * no longer be trusted (a synced one may have missed a real update; one waiting for a snapshot
   * would wait for good), so it resyncs.
   */
  private onBookFrame(st: StreamState, action: unknown, data: unknown[], check: boolean): void {
    try {
      for (let i = 0; i < data.length; i++) {
        if (st.kind === K_BOOK) this.onBooks(st, action, this.item(st, data, i), check);
        else this.onBooks5(st, this.item(st, data, i), check);
      }
    } catch (err) {
      const sync = st.sync!;
      // Every books5 frame is a snapshot.
      if (sync.state.resyncsAfterRejected(action === 'snapshot' || st.kind === K_BOOK5)) this.resync(st, sync, ResyncReason.sequenceGap);
      throw err;
    }
  }

  private malformed(st: StreamState, what: string): Error {
    return new Error(`okx: malformed ${st.channel} frame for ${st.instId}: ${what}`);
  }

  private item(st: StreamState, data: unknown[], i: number): Obj {
    const d = data[i];
    if (!isObj(d)) throw this.malformed(st, `data[${i}] is not an object`);
    return d;
  }

  private onTrade(st: StreamState, d: Obj, check = false): void {
    const id = this.fields.decimal(st, d, 'tradeId');
    const ts = this.fields.decimal(st, d, 'ts');
    const price = this.fields.size(st, d, 'px');
    const amount = this.fields.size(st, d, 'sz');
    const side = d.side;
    if (side !== 'buy' && side !== 'sell') throw this.malformed(st, `field "side" is ${previewValue(side)}`);
    if (check) return;
    if (id <= st.last) {
      this.stats.duplicates++;
      return;
    }
    st.last = id;
    this.ctx.sink.trade(st.symbolId, ts, id, side === 'buy' ? Side.buy : Side.sell, price, amount);
  }

  private onTicker(st: StreamState, d: Obj, check = false): void {
    const ts = this.fields.decimal(st, d, 'ts');
    const last = this.fields.decimal(st, d, 'last');
    if (check) return;
    const f = clearTickerFields(this.ticker);
    f.last = last;
    f.open = dec(d.open24h);
    f.high = dec(d.high24h);
    f.low = dec(d.low24h);
    // Spot: vol24h is base, volCcy24h quote. Swaps: vol24h is contracts, volCcy24h base.
    // (ccxt reports the contracts as baseVolume for swaps; we keep base-currency units.)
    f.baseVolume = st.deriv ? dec(d.volCcy24h) : dec(d.vol24h);
    f.quoteVolume = st.deriv ? Number.NaN : dec(d.volCcy24h);
    f.bidPrice = dec(d.bidPx);
    f.askPrice = dec(d.askPx);
    this.emitTicker(st, ts);
  }

  private onFunding(st: StreamState, d: Obj, check = false): void {
    const rate = this.fields.decimal(st, d, 'fundingRate');
    const fundingTime = this.fields.decimal(st, d, 'fundingTime');
    if (check) return;
    const ts = dec(d.ts);
    const f = clearTickerFields(this.ticker);
    f.fundingRate = rate;
    // fundingTime is the upcoming settlement the rate applies to (Binance's `T`).
    f.nextFundingTs = fundingTime;
    if (!Number.isNaN(ts)) {
      this.emitTicker(st, ts);
      return;
    }
    // No time on the frame: a repeat of the same settlement and rate is the duplicate.
    const key = fundingTime + rate;
    if (key === st.last) {
      this.stats.duplicates++;
      return;
    }
    st.last = key;
    this.ctx.sink.ticker(st.symbolId, ts, Number.NaN, f);
  }

  /** `mark-price` and `index-tickers`: one price per record (`field`), every other field NaN. */
  private onPrice(st: StreamState, d: Obj, check: boolean, venueKey: 'markPx' | 'idxPx', field: 'markPrice' | 'indexPrice'): void {
    const ts = this.fields.decimal(st, d, 'ts');
    const price = this.fields.decimal(st, d, venueKey);
    if (check) return;
    clearTickerFields(this.ticker)[field] = price;
    this.emitTicker(st, ts);
  }

  /** Writes the session's ticker fields unless `ts` is not newer than the stream's last (a duplicate). */
  private emitTicker(st: StreamState, ts: number): void {
    if (ts <= st.last) {
      this.stats.duplicates++;
      return;
    }
    st.last = ts;
    this.ctx.sink.ticker(st.symbolId, ts, Number.NaN, this.ticker);
  }

  /**
   * A top-of-book frame (`bbo-tbt`, `books5`): its levels into the scratch (counts in `topBids` /
   * `topAsks`); false when only checking, or when the frame is not newer than the stream's last
   * (by `seqId`, else `ts`: a duplicate, counted).
   */
  private readTop(st: StreamState, d: Obj, ts: number, check: boolean): boolean {
    const bids = d.bids;
    const asks = d.asks;
    if (!Array.isArray(bids) || !Array.isArray(asks)) throw this.malformed(st, 'bids/asks are not arrays');
    this.topBids = parsePairLevels('okx', st.channel, st.instId, BIDS, bids, this.levels, true);
    this.topAsks = parsePairLevels('okx', st.channel, st.instId, ASKS, asks, this.levels, true);
    if (check) return false;
    const key = typeof d.seqId === 'number' ? d.seqId : ts;
    if (key <= st.last) {
      this.stats.duplicates++;
      return false;
    }
    st.last = key;
    return true;
  }

  private onBbo(st: StreamState, d: Obj, check = false): void {
    const ts = this.fields.decimal(st, d, 'ts');
    if (!this.readTop(st, d, ts, check)) return;
    const seqId = typeof d.seqId === 'number' ? d.seqId : Number.NaN;
    const nb = this.topBids;
    const na = this.topAsks;
    this.ctx.sink.quote(
      st.symbolId,
      ts,
      seqId,
      nb > 0 ? this.levels.bids[0] : Number.NaN,
      nb > 0 ? this.levels.bids[1] : Number.NaN,
      na > 0 ? this.levels.asks[0] : Number.NaN,
      na > 0 ? this.levels.asks[1] : Number.NaN,
    );
  }

  private onCandle(st: StreamState, row: unknown, check = false): void {
    if (!Array.isArray(row) || row.length < 9) throw this.malformed(st, 'candle is not a 9-element array');
    const openTs = dec(row[0]);
    const open = dec(row[1]);
    const high = dec(row[2]);
    const low = dec(row[3]);
    const close = dec(row[4]);
    // Spot: vol is base. Swaps: vol is contracts, volCcy base (ccxt reports the same).
    const volume = dec(st.deriv ? row[6] : row[5]);
    const closed = row[8] === '1';
    if (
      Number.isNaN(openTs) ||
      Number.isNaN(open) ||
      Number.isNaN(high) ||
      Number.isNaN(low) ||
      Number.isNaN(close) ||
      Number.isNaN(volume)
    ) {
      throw this.malformed(st, `candle has a non-numeric field: ${previewValue(row)}`);
    }
    if (check) return;
    // OKX candles carry no event time or sequence: an older candle, or an identical repeat of the
    // last update (second socket during rotation), is dropped.
    if (
      openTs < st.lastOpen ||
      (openTs === st.lastOpen && volume === st.lastVol && closed === st.lastClosed)
    ) {
      this.stats.duplicates++;
      return;
    }
    st.lastOpen = openTs;
    st.lastVol = volume;
    st.lastClosed = closed;
    this.ctx.sink.candle(st.symbolId, Number.NaN, Number.NaN, st.intervalSec, openTs, open, high, low, close, volume, closed);
  }

  // ─── books ───────────────────────────────────────────────────────────────────────────────

  /** Apply parsed levels (scratch) with their strings (`raw`) to the book. */
  private applyLevels(book: OkxBook, bids: unknown[], nb: number, asks: unknown[], na: number): void {
    const b = this.levels.bids;
    const a = this.levels.asks;
    for (let i = 0; i < nb; i++) {
      const lv = bids[i] as string[];
      book.setBid(b[2 * i], b[2 * i + 1], lv[0], lv[1]);
    }
    for (let i = 0; i < na; i++) {
      const lv = asks[i] as string[];
      book.setAsk(a[2 * i], a[2 * i + 1], lv[0], lv[1]);
    }
    book.settle();
  }

  private onBooks(st: StreamState, action: unknown, d: Obj, check = false): void {
    const sync = st.sync!;
    const bids = d.bids;
    const asks = d.asks;
    if (!Array.isArray(bids) || !Array.isArray(asks)) throw this.malformed(st, 'bids/asks are not arrays');
    if (action !== 'snapshot' && action !== 'update') {
      throw this.malformed(st, `"action" is ${previewValue(action)}, expected snapshot or update`);
    }
    const ts = this.fields.decimal(st, d, 'ts');
    const nb = parsePairLevels('okx', st.channel, st.instId, BIDS, bids, this.levels, true);
    const na = parsePairLevels('okx', st.channel, st.instId, ASKS, asks, this.levels, true);
    if (check) return;
    const seqId = typeof d.seqId === 'number' ? d.seqId : Number.NaN;
    const prevSeqId = typeof d.prevSeqId === 'number' ? d.prevSeqId : Number.NaN;
    const checksum = typeof d.checksum === 'number' ? d.checksum : 0;
    const book = sync.book;

    if (action === 'snapshot') {
      if (sync.state.synced && seqId <= sync.lastSeq) {
        this.stats.duplicates++;
        return;
      }
      book.clear();
      this.applyLevels(book, bids, nb, asks, na);
      if (this.desynced(st, sync, checksum)) return;
      const newlySynced = this.bookSync.snapshotApplied(sync.state);
      sync.lastSeq = seqId;
      this.ctx.sink.book(st.symbolId, ts, Number.NaN, seqId, true, this.levels.bids, nb, this.levels.asks, na);
      if (newlySynced) this.ctx.sink.status(st.symbolId, StatusCode.synced, Number.isNaN(seqId) ? 0 : seqId);
      return;
    }

    if (!sync.state.synced) {
      this.stats.ignoredWhileSyncing++;
      return;
    }
    if (!Number.isNaN(seqId) && !Number.isNaN(prevSeqId) && !Number.isNaN(sync.lastSeq) && prevSeqId !== sync.lastSeq) {
      if (seqId <= sync.lastSeq) {
        this.stats.duplicates++;
        return;
      }
      this.stats.sequenceGaps++;
      this.ctx.log.warn('okx: book sequence gap', {
        instId: st.instId,
        lastSeqId: sync.lastSeq,
        prevSeqId,
        seqId,
      });
      this.resync(st, sync, ResyncReason.sequenceGap);
      return;
    }
    this.applyLevels(book, bids, nb, asks, na);
    if (this.desynced(st, sync, checksum)) return;
    sync.lastSeq = seqId;
    if (nb + na === 0) return; // no-change update (prevSeqId == seqId): nothing to emit
    this.ctx.sink.book(st.symbolId, ts, prevSeqId + 1, seqId, false, this.levels.bids, nb, this.levels.asks, na);
  }

  /** Crossed-book and checksum checks after applying a frame; resyncs and returns true on failure. */
  private desynced(st: StreamState, sync: BookSync, checksum: number): boolean {
    const book = sync.book;
    if (book.book.isCrossed()) {
      this.ctx.log.warn('okx: crossed book', {
        instId: st.instId,
        bestBid: book.book.bestBid(),
        bestAsk: book.book.bestAsk(),
      });
      this.resync(st, sync, ResyncReason.crossedBook);
      return true;
    }
    if (checksum !== 0) {
      const ours = book.checksum();
      if (ours !== checksum) {
        this.stats.checksumFailures++;
        this.ctx.log.warn('okx: book checksum mismatch', { instId: st.instId, expected: checksum, computed: ours });
        this.resync(st, sync, ResyncReason.checksum);
        return true;
      }
      this.stats.checksumsVerified++;
    }
    return false;
  }

  private resync(st: StreamState, sync: BookSync, reason: number): void {
    this.stats.resyncs++;
    sync.book.clear();
    sync.lastSeq = Number.NaN;
    this.bookSync.desync(sync.state, st.symbolId, reason);
  }

  private onBooks5(st: StreamState, d: Obj, check = false): void {
    const ts = this.fields.decimal(st, d, 'ts');
    if (!this.readTop(st, d, ts, check)) return;
    const seqId = typeof d.seqId === 'number' ? d.seqId : Number.NaN;
    const nb = this.topBids;
    const na = this.topAsks;
    const sync = st.sync!;
    if (nb > 0 && na > 0 && this.levels.bids[0] >= this.levels.asks[0]) {
      this.ctx.log.warn('okx: crossed books5 frame dropped', { instId: st.instId, seqId });
      return;
    }
    sync.book.book.applySnapshot(this.levels.bids, nb, this.levels.asks, na);
    sync.lastSeq = seqId;
    this.ctx.sink.book(st.symbolId, ts, Number.NaN, seqId, true, this.levels.bids, nb, this.levels.asks, na);
    if (this.bookSync.snapshotApplied(sync.state)) {
      this.ctx.sink.status(st.symbolId, StatusCode.synced, Number.isNaN(seqId) ? 0 : seqId);
    }
  }
}

export function createOkxSession(ctx: SessionContext, options?: OkxSessionOptions): OkxSession {
  return new OkxSession(ctx, options);
}
