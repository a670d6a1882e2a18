/**
 * ccxt's unified structures → our records, one normalizer per stream. ccxt hands back cached,
 * mutable structures (trade arrays, a whole order book), so each normalizer keeps just enough
 * state to emit only what is new: trades are deduplicated, books become a snapshot followed by
 * deltas computed against the last emitted book, candles are closed when the next one opens.
 */
import { ResyncReason, Side, StatusCode } from '../../records/types.js';
import type { RecordSink, TickerFields } from '../contract.js';
import { isTradeId, tradeIdSeq, tradeIdText } from '../kit/trade-id.js';
import type { CcxtOhlcv, CcxtOrderBook, CcxtTicker, CcxtTrade } from './types.js';

const UNIT_SEC: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, M: 2_592_000, y: 31_536_000 };

/** ccxt timeframe (`1m`, `4h`, `1M` …) → seconds; throws naming the interval otherwise. */
export function timeframeSeconds(timeframe: string): number {
  const m = /^([1-9][0-9]*)([smhdwMy])$/.exec(timeframe);
  if (m === null) throw new Error(`invalid candle interval ${JSON.stringify(timeframe)} (expected e.g. 1m, 5m, 1h, 1d)`);
  return Number(m[1]) * UNIT_SEC[m[2]!]!;
}

function num(v: number | null | undefined): number {
  return typeof v === 'number' ? v : Number.NaN;
}

/** A venue id as a record sequence when it is an exact integer, NaN otherwise. */
export function idSeq(id: string | null | undefined): number {
  return typeof id === 'string' ? tradeIdSeq(id) : Number.NaN;
}

const RECENT_TRADES = 4096;

/**
 * Emits trades not emitted before. ccxt (with `newUpdates`) already returns only new trades,
 * but a cache can be handed back again (resubscribe, two resolutions): ids seen recently are
 * kept in a bounded set. Trades without an id (BingX swap) are keyed by time, price, amount
 * and side.
 */
export class TradeNormalizer {
  private readonly seen = new Set<string>();
  private readonly order: string[] = [];
  private head = 0;

  constructor(
    private readonly sink: RecordSink,
    private readonly symbolId: number,
  ) {}

  /** Returns the number of trades emitted. */
  apply(trades: readonly CcxtTrade[]): number {
    let emitted = 0;
    for (const t of trades) {
      const ts = num(t.timestamp);
      const price = num(t.price);
      const amount = num(t.amount);
      const key = typeof t.id === 'string' && t.id !== '' ? t.id : `${ts}|${price}|${amount}|${t.side}`;
      if (this.seen.has(key)) continue;
      this.remember(key);
      const side = t.side === 'buy' ? Side.buy : t.side === 'sell' ? Side.sell : Side.unknown;
      this.sink.trade(this.symbolId, ts, idSeq(t.id), side, price, amount, isTradeId(t.id) ? tradeIdText(t.id) : '');
      emitted++;
    }
    return emitted;
  }

  private remember(key: string): void {
    if (this.order.length < RECENT_TRADES) {
      this.order.push(key);
    } else {
      this.seen.delete(this.order[this.head]!);
      this.order[this.head] = key;
      this.head = (this.head + 1) % RECENT_TRADES;
    }
    this.seen.add(key);
  }
}

/** What happened to a book update. */
export type BookOutcome = 'snapshot' | 'delta' | 'unchanged' | 'crossed';

/**
 * Book records from ccxt's maintained book: the first update (and the first after a resync)
 * is emitted as a snapshot, later ones as deltas (changed levels, amount 0 = removed) computed
 * by a merge walk against the last emitted book. A crossed book (best bid >= best ask) is never
 * emitted: it counts as a desync (`resync` status, reason crossedBook) and the next uncrossed
 * book is emitted as a snapshot followed by a `synced` status.
 */
export class BookNormalizer {
  private prevBids: number[] = [];
  private prevAsks: number[] = [];
  private prevBidCount = 0;
  private prevAskCount = 0;
  private needSnapshot = true;
  private resyncing = false;
  /** Scratch levels of the record being written (reused). */
  private readonly outBids: number[] = [];
  private readonly outAsks: number[] = [];

  constructor(
    private readonly sink: RecordSink,
    private readonly symbolId: number,
    private readonly onResync: (reason: number) => void,
  ) {}

  /** Forget the emitted book (reconnect, unsubscribe): the next update is a snapshot. */
  reset(): void {
    this.needSnapshot = true;
    this.prevBidCount = 0;
    this.prevAskCount = 0;
  }

  apply(book: CcxtOrderBook): BookOutcome {
    const { bids, asks } = book;
    if (bids.length > 0 && asks.length > 0 && bids[0]![0]! >= asks[0]![0]!) {
      if (!this.resyncing) {
        this.resyncing = true;
        this.reset();
        this.sink.status(this.symbolId, StatusCode.resync, ResyncReason.crossedBook);
        this.onResync(ResyncReason.crossedBook);
      }
      return 'crossed';
    }
    const ts = num(book.timestamp);
    const seq = num(book.nonce);
    if (this.needSnapshot) {
      const nb = copyLevels(bids, this.outBids);
      const na = copyLevels(asks, this.outAsks);
      this.sink.book(this.symbolId, ts, Number.NaN, seq, true, this.outBids, nb, this.outAsks, na);
      this.remember(bids, asks);
      this.needSnapshot = false;
      if (this.resyncing) {
        this.resyncing = false;
      }
      this.sink.status(this.symbolId, StatusCode.synced, Number.isFinite(seq) ? seq : 0);
      return 'snapshot';
    }
    const nb = diffSide(this.prevBids, this.prevBidCount, bids, true, this.outBids);
    const na = diffSide(this.prevAsks, this.prevAskCount, asks, false, this.outAsks);
    if (nb === 0 && na === 0) return 'unchanged';
    this.sink.book(this.symbolId, ts, Number.NaN, seq, false, this.outBids, nb, this.outAsks, na);
    this.remember(bids, asks);
    return 'delta';
  }

  private remember(bids: CcxtOrderBook['bids'], asks: CcxtOrderBook['asks']): void {
    this.prevBidCount = copyLevels(bids, this.prevBids);
    this.prevAskCount = copyLevels(asks, this.prevAsks);
  }
}

/** Flattens `[[p, a], …]` into `out`; returns the level count. */
function copyLevels(levels: ArrayLike<ArrayLike<number>>, out: number[]): number {
  const n = levels.length;
  for (let i = 0; i < n; i++) {
    const l = levels[i]!;
    out[2 * i] = l[0]!;
    out[2 * i + 1] = l[1]!;
  }
  return n;
}

/**
 * Changed levels between the previous side (flat, `prevCount` levels) and the current one,
 * both sorted best first (bids descending, asks ascending). Writes flat levels into `out` and
 * returns their count.
 */
export function diffSide(
  prev: readonly number[],
  prevCount: number,
  cur: ArrayLike<ArrayLike<number>>,
  descending: boolean,
  out: number[],
): number {
  let i = 0;
  let j = 0;
  let n = 0;
  const curCount = cur.length;
  while (i < prevCount || j < curCount) {
    const pp = i < prevCount ? prev[2 * i]! : Number.NaN;
    const level = j < curCount ? cur[j]! : undefined;
    const cp = level === undefined ? Number.NaN : level[0]!;
    if (pp === cp) {
      if (prev[2 * i + 1] !== level![1]) {
        out[2 * n] = cp;
        out[2 * n + 1] = level![1]!;
        n++;
      }
      i++;
      j++;
    } else if (level === undefined || (i < prevCount && (descending ? pp > cp : pp < cp))) {
      out[2 * n] = pp;
      out[2 * n + 1] = 0;
      n++;
      i++;
    } else {
      out[2 * n] = cp;
      out[2 * n + 1] = level[1]!;
      n++;
      j++;
    }
  }
  return n;
}

/**
 * Candles: ccxt returns the updated candle(s), never says one is final. When a candle with a
 * later open time arrives, the previous one is emitted once more with `closed = true`.
 */
export class CandleNormalizer {
  private lastOpen = Number.NaN;
  private readonly last = [0, 0, 0, 0, 0];

  constructor(
    private readonly sink: RecordSink,
    private readonly symbolId: number,
    private readonly intervalSec: number,
  ) {}

  apply(candles: readonly CcxtOhlcv[]): void {
    for (const c of candles) {
      const openTs = c[0]!;
      if (openTs < this.lastOpen) continue;
      if (openTs > this.lastOpen) this.closePrevious();
      const l = this.last;
      l[0] = c[1]!;
      l[1] = c[2]!;
      l[2] = c[3]!;
      l[3] = c[4]!;
      l[4] = c[5]!;
      this.lastOpen = openTs;
      this.sink.candle(this.symbolId, Number.NaN, Number.NaN, this.intervalSec, openTs, l[0], l[1], l[2], l[3], l[4], false);
    }
  }

  private closePrevious(): void {
    if (Number.isNaN(this.lastOpen)) return;
    const l = this.last;
    this.sink.candle(this.symbolId, Number.NaN, Number.NaN, this.intervalSec, this.lastOpen, l[0]!, l[1]!, l[2]!, l[3]!, l[4]!, true);
  }
}

/** Fills the reusable `fields` from a ccxt ticker and writes a ticker record. */
export function writeTicker(sink: RecordSink, symbolId: number, t: CcxtTicker, fields: TickerFields): void {
  fields.last = num(t.last);
  fields.open = num(t.open);
  fields.high = num(t.high);
  fields.low = num(t.low);
  fields.baseVolume = num(t.baseVolume);
  fields.quoteVolume = num(t.quoteVolume);
  fields.bidPrice = num(t.bid);
  fields.askPrice = num(t.ask);
  fields.markPrice = num(t.markPrice);
  fields.indexPrice = num(t.indexPrice);
  fields.fundingRate = Number.NaN;
  fields.nextFundingTs = Number.NaN;
  sink.ticker(symbolId, num(t.timestamp), Number.NaN, fields);
}

/** A quote record from ccxt's bids/asks ticker. */
export function writeQuote(sink: RecordSink, symbolId: number, t: CcxtTicker): void {
  sink.quote(symbolId, num(t.timestamp), Number.NaN, num(t.bid), num(t.bidVolume), num(t.ask), num(t.askVolume));
}

export { emptyTickerFields } from '../kit/ticker-fields.js';
