import type { RecordViews } from '../ring/ring.js';
import {
  BOOK_ASK_COUNT,
  BOOK_BID_COUNT,
  BOOK_FIRST_SEQ,
  BOOK_LEVELS,
  CANDLE_CLOSE,
  CANDLE_HIGH,
  CANDLE_INTERVAL_SEC,
  CANDLE_LOW,
  CANDLE_OPEN,
  CANDLE_OPEN_TS,
  CANDLE_VOLUME,
  FLAG_CLOSED,
  FLAG_SIDE_MASK,
  FLAG_SNAPSHOT,
  FLAG_TRADE_ID,
  OFF_EXCHANGE,
  OFF_EXCHANGE_TS,
  OFF_FLAGS,
  OFF_LENGTH,
  OFF_RECV_TS,
  OFF_SEQ,
  OFF_STREAM_SEQ,
  OFF_SYMBOL_ID,
  OFF_TYPE,
  QUOTE_ASK_AMOUNT,
  QUOTE_ASK_PRICE,
  QUOTE_BID_AMOUNT,
  QUOTE_BID_PRICE,
  STATUS_CODE,
  STATUS_DETAIL,
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
  TRADE_AMOUNT,
  TRADE_ID,
  TRADE_ID_LENGTH,
  TRADE_PRICE,
} from './layout.js';
import { RECORD_TYPE_NAMES, SIDE_NAMES, statusName } from './names.js';
import type { SymbolTable } from './symbols.js';
import {
  type Level,
  type MarketRecord,
  RecordType,
  type RecordTypeName,
  type SideName,
  type StatusName,
} from './types.js';

const EMPTY_LEVELS: readonly Level[] = Object.freeze([]);

/**
 * Flyweight over one record in place (typically in a ring's data region): `bind()` it to a
 * record, read fields through getters, bind it to the next. Nothing is allocated per record
 * except by `toObject()`. Getters for fields of another record type return meaningless numbers;
 * check `type` first. A view is valid only until the ring space is released.
 */
export class RecordView {
  private readonly symbols: SymbolTable;
  private u8: Uint8Array = new Uint8Array(0);
  private u32: Uint32Array = new Uint32Array(0);
  private f64: Float64Array = new Float64Array(0);
  /** Byte offset of the bound record. */
  private o = 0;

  constructor(symbols: SymbolTable) {
    this.symbols = symbols;
  }

  /** Point the view at the record at byte `offset` of `src` (a RingReader or its views). */
  bind(src: RecordViews, offset: number): this {
    this.u8 = src.u8;
    this.u32 = src.u32;
    this.f64 = src.f64;
    this.o = offset;
    return this;
  }

  /** Byte offset of the bound record. */
  get offset(): number {
    return this.o;
  }

  private d(byteOff: number): number {
    return this.f64[(this.o + byteOff) >>> 3];
  }

  /** Total record length in bytes. */
  get length(): number {
    return this.u32[(this.o + OFF_LENGTH) >>> 2];
  }

  /**
   * The bound record's bytes in the engine's layout (a view into the ring, no copy): valid only
   * until the view is bound again or the ring slot is released. For forwarding records as they
   * are (the NATS publisher).
   */
  bytes(): Uint8Array {
    return this.u8.subarray(this.o, this.o + this.length);
  }

  /** Raw RecordType byte. */
  get typeCode(): number {
    return this.u8[this.o + OFF_TYPE];
  }

  get type(): RecordTypeName {
    const t = this.u8[this.o + OFF_TYPE];
    const name = RECORD_TYPE_NAMES[t];
    if (name === undefined) throw new Error(`unknown record type byte ${t} at offset ${this.o}`);
    return name;
  }

  get exchangeCode(): number {
    return this.u8[this.o + OFF_EXCHANGE];
  }

  get exchange(): string {
    return this.symbols.exchangeName(this.u8[this.o + OFF_EXCHANGE]);
  }

  get flags(): number {
    return this.u8[this.o + OFF_FLAGS] | (this.u8[this.o + OFF_FLAGS + 1] << 8);
  }

  get symbolId(): number {
    return this.u32[(this.o + OFF_SYMBOL_ID) >>> 2];
  }

  get symbol(): string {
    return this.symbols.symbol(this.symbolId);
  }

  get streamSeq(): number {
    return this.u32[(this.o + OFF_STREAM_SEQ) >>> 2];
  }

  get exchangeTs(): number {
    return this.d(OFF_EXCHANGE_TS);
  }

  get recvTs(): number {
    return this.d(OFF_RECV_TS);
  }

  get seq(): number {
    return this.d(OFF_SEQ);
  }

  private isTicker(): boolean {
    return this.u8[this.o + OFF_TYPE] === RecordType.ticker;
  }

  // trade
  get side(): SideName {
    return SIDE_NAMES[this.u8[this.o + OFF_FLAGS] & FLAG_SIDE_MASK];
  }
  get price(): number {
    return this.d(TRADE_PRICE);
  }
  get amount(): number {
    return this.d(TRADE_AMOUNT);
  }
  /** The venue's trade id as text, '' where it is `seq` (see `TradeRecord.tradeId`); allocates only when present. */
  get tradeId(): string {
    const o = this.o;
    if ((this.u8[o + OFF_FLAGS] & FLAG_TRADE_ID) === 0) return '';
    return String.fromCharCode(...this.u8.subarray(o + TRADE_ID, o + TRADE_ID + this.u8[o + TRADE_ID_LENGTH]));
  }

  // quote (bidPrice / askPrice also for tickers)
  get bidPrice(): number {
    return this.d(this.isTicker() ? TICKER_BID_PRICE : QUOTE_BID_PRICE);
  }
  get bidAmount(): number {
    return this.d(QUOTE_BID_AMOUNT);
  }
  get askPrice(): number {
    return this.d(this.isTicker() ? TICKER_ASK_PRICE : QUOTE_ASK_PRICE);
  }
  get askAmount(): number {
    return this.d(QUOTE_ASK_AMOUNT);
  }

  // ticker (open / high / low also for candles)
  get last(): number {
    return this.d(TICKER_LAST);
  }
  get open(): number {
    return this.d(this.isTicker() ? TICKER_OPEN : CANDLE_OPEN);
  }
  get high(): number {
    return this.d(this.isTicker() ? TICKER_HIGH : CANDLE_HIGH);
  }
  get low(): number {
    return this.d(this.isTicker() ? TICKER_LOW : CANDLE_LOW);
  }
  get baseVolume(): number {
    return this.d(TICKER_BASE_VOLUME);
  }
  get quoteVolume(): number {
    return this.d(TICKER_QUOTE_VOLUME);
  }
  get markPrice(): number {
    return this.d(TICKER_MARK_PRICE);
  }
  get indexPrice(): number {
    return this.d(TICKER_INDEX_PRICE);
  }
  get fundingRate(): number {
    return this.d(TICKER_FUNDING_RATE);
  }
  get nextFundingTs(): number {
    return this.d(TICKER_NEXT_FUNDING_TS);
  }

  // candle
  get intervalSec(): number {
    return this.d(CANDLE_INTERVAL_SEC);
  }
  get openTs(): number {
    return this.d(CANDLE_OPEN_TS);
  }
  get close(): number {
    return this.d(CANDLE_CLOSE);
  }
  get volume(): number {
    return this.d(CANDLE_VOLUME);
  }
  get closed(): boolean {
    return (this.u8[this.o + OFF_FLAGS] & FLAG_CLOSED) !== 0;
  }

  // book
  get snapshot(): boolean {
    return (this.u8[this.o + OFF_FLAGS] & FLAG_SNAPSHOT) !== 0;
  }
  get firstSeq(): number {
    return this.d(BOOK_FIRST_SEQ);
  }
  get bidCount(): number {
    return this.u32[(this.o + BOOK_BID_COUNT) >>> 2];
  }
  get askCount(): number {
    return this.u32[(this.o + BOOK_ASK_COUNT) >>> 2];
  }
  bidPriceAt(i: number): number {
    return this.f64[((this.o + BOOK_LEVELS) >>> 3) + 2 * i];
  }
  bidAmountAt(i: number): number {
    return this.f64[((this.o + BOOK_LEVELS) >>> 3) + 2 * i + 1];
  }
  askPriceAt(i: number): number {
    return this.f64[((this.o + BOOK_LEVELS) >>> 3) + 2 * (this.bidCount + i)];
  }
  askAmountAt(i: number): number {
    return this.f64[((this.o + BOOK_LEVELS) >>> 3) + 2 * (this.bidCount + i) + 1];
  }

  // status
  get statusCode(): number {
    return this.u32[(this.o + STATUS_CODE) >>> 2];
  }
  get status(): StatusName {
    const code = this.statusCode;
    const name = statusName(code);
    if (name === undefined) throw new Error(`unknown status code ${code} at offset ${this.o}`);
    return name;
  }
  get detail(): number {
    return this.d(STATUS_DETAIL);
  }

  private levels(first: number, count: number): readonly Level[] {
    if (count === 0) return EMPTY_LEVELS;
    const f64 = this.f64;
    let f = ((this.o + BOOK_LEVELS) >>> 3) + 2 * first;
    const out = new Array<Level>(count);
    for (let i = 0; i < count; i++, f += 2) out[i] = Object.freeze([f64[f], f64[f + 1]] as const);
    return Object.freeze(out);
  }

  /** Copy the bound record into a plain frozen MarketRecord (allocates; off the hot path). */
  toObject(): MarketRecord {
    const base = {
      exchange: this.exchange,
      symbol: this.symbol,
      exchangeTs: this.exchangeTs,
      recvTs: this.recvTs,
      seq: this.seq,
      streamSeq: this.streamSeq,
    };
    switch (this.type) {
      case 'trade':
        return Object.freeze({
          type: 'trade',
          ...base,
          side: this.side,
          price: this.price,
          amount: this.amount,
          tradeId: this.tradeId,
        });
      case 'quote':
        return Object.freeze({
          type: 'quote',
          ...base,
          bidPrice: this.bidPrice,
          bidAmount: this.bidAmount,
          askPrice: this.askPrice,
          askAmount: this.askAmount,
        });
      case 'ticker':
        return Object.freeze({
          type: 'ticker',
          ...base,
          last: this.last,
          open: this.open,
          high: this.high,
          low: this.low,
          baseVolume: this.baseVolume,
          quoteVolume: this.quoteVolume,
          bidPrice: this.bidPrice,
          askPrice: this.askPrice,
          markPrice: this.markPrice,
          indexPrice: this.indexPrice,
          fundingRate: this.fundingRate,
          nextFundingTs: this.nextFundingTs,
        });
      case 'book': {
        const bids = this.bidCount;
        return Object.freeze({
          type: 'book',
          ...base,
          snapshot: this.snapshot,
          firstSeq: this.firstSeq,
          bids: this.levels(0, bids),
          asks: this.levels(bids, this.askCount),
        });
      }
      case 'candle':
        return Object.freeze({
          type: 'candle',
          ...base,
          intervalSec: this.intervalSec,
          openTs: this.openTs,
          open: this.open,
          high: this.high,
          low: this.low,
          close: this.close,
          volume: this.volume,
          closed: this.closed,
        });
      case 'status':
        return Object.freeze({
          type: 'status',
          ...base,
          status: this.status,
          detail: this.detail,
        });
    }
  }
}
