import type { RingWriter } from '../ring/ring.js';
import {
  BOOK_ASK_COUNT,
  BOOK_BID_COUNT,
  BOOK_FIRST_SEQ,
  BOOK_LEVELS,
  bookRecordSize,
  CANDLE_CLOSE,
  CANDLE_HIGH,
  CANDLE_INTERVAL_SEC,
  CANDLE_LOW,
  CANDLE_OPEN,
  CANDLE_OPEN_TS,
  CANDLE_SIZE,
  CANDLE_VOLUME,
  FLAG_CLOSED,
  FLAG_SIDE_MASK,
  FLAG_SNAPSHOT,
  FLAG_TRADE_ID,
  MAX_TRADE_ID_LENGTH,
  OFF_EXCHANGE,
  OFF_EXCHANGE_TS,
  OFF_FLAGS,
  OFF_RECV_TS,
  OFF_SEQ,
  OFF_STREAM_SEQ,
  OFF_SYMBOL_ID,
  OFF_TYPE,
  QUOTE_ASK_AMOUNT,
  QUOTE_ASK_PRICE,
  QUOTE_BID_AMOUNT,
  QUOTE_BID_PRICE,
  QUOTE_SIZE,
  STATUS_CODE,
  STATUS_DETAIL,
  STATUS_SIZE,
  TICKER_ASK_PRICE,
  TICKER_BASE_VOLUME,
  TICKER_BID_PRICE,
  TICKER_FUNDING_RATE,
  TICKER_HIGH,
  TICKER_INDEX_PRICE,
  TICKER_LAST,
  TICKER_LOW,
  TICKER_MARK_PRICE,
  TICKER_NEXT_FUNDING_TS,
  TICKER_OPEN,
  TICKER_QUOTE_VOLUME,
  TICKER_SIZE,
  TRADE_AMOUNT,
  TRADE_ID,
  TRADE_ID_LENGTH,
  TRADE_PRICE,
  tradeRecordSize,
} from './layout.js';
import { statusName } from './names.js';
import type { RecordSink, TickerFields } from './sink.js';
import { RecordType } from './types.js';

/** Venue times before 2009 are placeholders (Coinbase sends year-1 dates), not times. */
const EARLIEST_VENUE_TS = Date.UTC(2009, 0, 1);
/** A venue time more than this after the local receive time is not a time either. */
const MAX_VENUE_AHEAD_MS = 86_400_000;

/** `ts` when it can be a venue's time of an event received at `recvTs`, else NaN (also when `ts` is NaN). */
export function venueTime(ts: number, recvTs: number): number {
  return ts >= EARLIEST_VENUE_TS && !(ts > recvTs + MAX_VENUE_AHEAD_MS) ? ts : Number.NaN;
}

/**
 * Writes records straight into a ring (no allocation). Every method returns false when the
 * ring has no room: then nothing was written and the stream counter did not advance, so the
 * caller can apply its backpressure policy and retry or drop.
 *
 * `streamSeq` of a record is the number of records this encoder wrote before it (0-based,
 * modulo 2^32), so a consumer detects loss or reordering by checking it increments by one.
 */
export class RecordEncoder implements RecordSink {
  /** Local receive time stamped into every record; the connection task sets it per socket read. */
  recvTs = Number.NaN;
  private streamSeq = 0;
  private readonly writer: RingWriter;
  private readonly exchangeCode: number;
  private readonly u8: Uint8Array;
  private readonly u32: Uint32Array;
  private readonly f64: Float64Array;

  /**
   * @param firstStreamSeq streamSeq of the first record (default 0); pass the previous
   *   encoder's `recordsWritten` to continue one connection's stream across tasks.
   */
  constructor(writer: RingWriter, exchangeCode: number, firstStreamSeq = 0) {
    if (!Number.isInteger(exchangeCode) || exchangeCode < 1 || exchangeCode > 255) {
      throw new RangeError(`exchangeCode must be an integer 1..255, got ${exchangeCode}`);
    }
    this.writer = writer;
    this.streamSeq = firstStreamSeq >>> 0;
    this.exchangeCode = exchangeCode;
    this.u8 = writer.u8;
    this.u32 = writer.u32;
    this.f64 = writer.f64;
  }

  /** Records written so far (modulo 2^32) = streamSeq of the next record. */
  get recordsWritten(): number {
    return this.streamSeq;
  }

  /** Make the records written since the last publish visible to the consumer. */
  publish(): void {
    this.writer.publish();
  }

  /** Reserve and fill the common header; returns the offset or -1. */
  private begin(
    size: number,
    type: number,
    flags: number,
    symbolId: number,
    exchangeTs: number,
    seq: number,
  ): number {
    const o = this.writer.reserve(size);
    if (o < 0) return -1;
    const u8 = this.u8;
    u8[o + OFF_TYPE] = type;
    u8[o + OFF_EXCHANGE] = this.exchangeCode;
    u8[o + OFF_FLAGS] = flags & 0xff;
    u8[o + OFF_FLAGS + 1] = (flags >>> 8) & 0xff;
    this.u32[(o + OFF_SYMBOL_ID) >>> 2] = symbolId;
    this.u32[(o + OFF_STREAM_SEQ) >>> 2] = this.streamSeq;
    this.streamSeq = (this.streamSeq + 1) >>> 0;
    const f = o >>> 3;
    const f64 = this.f64;
    f64[f + (OFF_EXCHANGE_TS >>> 3)] = venueTime(exchangeTs, this.recvTs);
    f64[f + (OFF_RECV_TS >>> 3)] = this.recvTs;
    f64[f + (OFF_SEQ >>> 3)] = seq;
    return o;
  }

  trade(
    symbolId: number,
    exchangeTs: number,
    seq: number,
    side: number,
    price: number,
    amount: number,
    tradeId = '',
  ): boolean {
    const n = Math.min(tradeId.length, MAX_TRADE_ID_LENGTH);
    const flags = (side & FLAG_SIDE_MASK) | (n > 0 ? FLAG_TRADE_ID : 0);
    const o = this.begin(tradeRecordSize(n), RecordType.trade, flags, symbolId, exchangeTs, seq);
    if (o < 0) return false;
    const f = o >>> 3;
    this.f64[f + (TRADE_PRICE >>> 3)] = price;
    this.f64[f + (TRADE_AMOUNT >>> 3)] = amount;
    if (n > 0) {
      const u8 = this.u8;
      u8[o + TRADE_ID_LENGTH] = n;
      // Sessions pass printable ASCII; anything else is masked rather than mis-encoded.
      for (let i = 0; i < n; i++) u8[o + TRADE_ID + i] = tradeId.charCodeAt(i) & 0x7f;
    }
    return true;
  }

  quote(
    symbolId: number,
    exchangeTs: number,
    seq: number,
    bidPrice: number,
    bidAmount: number,
    askPrice: number,
    askAmount: number,
  ): boolean {
    const o = this.begin(QUOTE_SIZE, RecordType.quote, 0, symbolId, exchangeTs, seq);
    if (o < 0) return false;
    const f = o >>> 3;
    const f64 = this.f64;
    f64[f + (QUOTE_BID_PRICE >>> 3)] = bidPrice;
    f64[f + (QUOTE_BID_AMOUNT >>> 3)] = bidAmount;
    f64[f + (QUOTE_ASK_PRICE >>> 3)] = askPrice;
    f64[f + (QUOTE_ASK_AMOUNT >>> 3)] = askAmount;
    return true;
  }

  ticker(symbolId: number, exchangeTs: number, seq: number, t: TickerFields): boolean {
    const o = this.begin(TICKER_SIZE, RecordType.ticker, 0, symbolId, exchangeTs, seq);
    if (o < 0) return false;
    const f = o >>> 3;
    const f64 = this.f64;
    f64[f + (TICKER_LAST >>> 3)] = t.last;
    f64[f + (TICKER_OPEN >>> 3)] = t.open;
    f64[f + (TICKER_HIGH >>> 3)] = t.high;
    f64[f + (TICKER_LOW >>> 3)] = t.low;
    f64[f + (TICKER_BASE_VOLUME >>> 3)] = t.baseVolume;
    f64[f + (TICKER_QUOTE_VOLUME >>> 3)] = t.quoteVolume;
    f64[f + (TICKER_BID_PRICE >>> 3)] = t.bidPrice;
    f64[f + (TICKER_ASK_PRICE >>> 3)] = t.askPrice;
    f64[f + (TICKER_MARK_PRICE >>> 3)] = t.markPrice;
    f64[f + (TICKER_INDEX_PRICE >>> 3)] = t.indexPrice;
    f64[f + (TICKER_FUNDING_RATE >>> 3)] = t.fundingRate;
    // Up to 8 h ahead on every venue: a day's margin is ample.
    f64[f + (TICKER_NEXT_FUNDING_TS >>> 3)] = venueTime(t.nextFundingTs, this.recvTs);
    return true;
  }

  /**
   * Book update. Throws RangeError when the record would exceed the ring's maximum record size
   * (capacity/2) or the counts are invalid — size the ring for the deepest book you subscribe.
   */
  book(
    symbolId: number,
    exchangeTs: number,
    firstSeq: number,
    seq: number,
    snapshot: boolean,
    bids: ArrayLike<number>,
    bidCount: number,
    asks: ArrayLike<number>,
    askCount: number,
  ): boolean {
    if (
      !(bidCount >= 0 && askCount >= 0 && bidCount * 2 <= bids.length && askCount * 2 <= asks.length)
    ) {
      throw new RangeError(
        `book level counts ${bidCount}/${askCount} invalid for arrays of ${bids.length}/${asks.length}`,
      );
    }
    bidCount |= 0;
    askCount |= 0;
    const o = this.begin(
      bookRecordSize(bidCount, askCount),
      RecordType.book,
      snapshot ? FLAG_SNAPSHOT : 0,
      symbolId,
      exchangeTs,
      seq,
    );
    if (o < 0) return false;
    const f64 = this.f64;
    f64[(o + BOOK_FIRST_SEQ) >>> 3] = firstSeq;
    this.u32[(o + BOOK_BID_COUNT) >>> 2] = bidCount;
    this.u32[(o + BOOK_ASK_COUNT) >>> 2] = askCount;
    let f = (o + BOOK_LEVELS) >>> 3;
    for (let i = 0, n = bidCount * 2; i < n; i++) f64[f++] = bids[i];
    for (let i = 0, n = askCount * 2; i < n; i++) f64[f++] = asks[i];
    return true;
  }

  candle(
    symbolId: number,
    exchangeTs: number,
    seq: number,
    intervalSec: number,
    openTs: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number,
    closed: boolean,
  ): boolean {
    const o = this.begin(
      CANDLE_SIZE,
      RecordType.candle,
      closed ? FLAG_CLOSED : 0,
      symbolId,
      exchangeTs,
      seq,
    );
    if (o < 0) return false;
    const f = o >>> 3;
    const f64 = this.f64;
    f64[f + (CANDLE_INTERVAL_SEC >>> 3)] = intervalSec;
    f64[f + (CANDLE_OPEN_TS >>> 3)] = venueTime(openTs, this.recvTs);
    f64[f + (CANDLE_OPEN >>> 3)] = open;
    f64[f + (CANDLE_HIGH >>> 3)] = high;
    f64[f + (CANDLE_LOW >>> 3)] = low;
    f64[f + (CANDLE_CLOSE >>> 3)] = close;
    f64[f + (CANDLE_VOLUME >>> 3)] = volume;
    return true;
  }

  /**
   * Status record (exchangeTs and seq are NaN; recvTs is the current `recvTs`).
   * Throws RangeError for a code that is not in StatusCode.
   */
  status(symbolId: number, code: number, detail: number): boolean {
    if (statusName(code) === undefined) {
      throw new RangeError(`unknown status code ${code}`);
    }
    const o = this.begin(STATUS_SIZE, RecordType.status, 0, symbolId, Number.NaN, Number.NaN);
    if (o < 0) return false;
    this.u32[(o + STATUS_CODE) >>> 2] = code;
    this.f64[(o + STATUS_DETAIL) >>> 3] = detail;
    return true;
  }
}
