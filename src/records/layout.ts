/**
 * Binary layout of records in a ring. All offsets are bytes from the record start; records are
 * 8-byte aligned so every f64 field is aligned. Multi-byte fields use the platform byte order
 * (rings never leave the process).
 *
 *   0  u32 totalLength (multiple of 8)     4 u8 type (RecordType; 0 = padding)
 *   5  u8 exchangeCode                     6 u16 flags
 *   8  u32 symbolId                       12 u32 streamSeq
 *  16  f64 exchangeTs    24 f64 recvTs    32 f64 seq
 *  40  body (per type, see below)
 */

export const OFF_LENGTH = 0;
export const OFF_TYPE = 4;
export const OFF_EXCHANGE = 5;
export const OFF_FLAGS = 6;
export const OFF_SYMBOL_ID = 8;
export const OFF_STREAM_SEQ = 12;
export const OFF_EXCHANGE_TS = 16;
export const OFF_RECV_TS = 24;
export const OFF_SEQ = 32;
/** Size of the common record header; bodies start here. */
export const HEADER_SIZE = 40;
export const OFF_BODY = HEADER_SIZE;

/** Flag bits. */
export const FLAG_SIDE_MASK = 0b11;
export const FLAG_SNAPSHOT = 1 << 2;
export const FLAG_CLOSED = 1 << 3;
/** A trade carries its venue trade id as text (the id is not an exact integer for `seq`). */
export const FLAG_TRADE_ID = 1 << 4;

// trade; with FLAG_TRADE_ID: u8 id length at 56, the id's bytes (ASCII) from 57
export const TRADE_PRICE = 40;
export const TRADE_AMOUNT = 48;
export const TRADE_SIZE = 56;
export const TRADE_ID_LENGTH = 56;
export const TRADE_ID = 57;
/** Longest trade id a record carries (sessions refuse longer ones). */
export const MAX_TRADE_ID_LENGTH = 64;

/** Size of a trade record carrying an id of `length` bytes (0: none). */
export function tradeRecordSize(length: number): number {
  return length === 0 ? TRADE_SIZE : (TRADE_ID + length + 7) & ~7;
}

// quote
export const QUOTE_BID_PRICE = 40;
export const QUOTE_BID_AMOUNT = 48;
export const QUOTE_ASK_PRICE = 56;
export const QUOTE_ASK_AMOUNT = 64;
export const QUOTE_SIZE = 72;

// ticker: 12 f64 in TickerFields order
export const TICKER_LAST = 40;
export const TICKER_OPEN = 48;
export const TICKER_HIGH = 56;
export const TICKER_LOW = 64;
export const TICKER_BASE_VOLUME = 72;
export const TICKER_QUOTE_VOLUME = 80;
export const TICKER_BID_PRICE = 88;
export const TICKER_ASK_PRICE = 96;
export const TICKER_MARK_PRICE = 104;
export const TICKER_INDEX_PRICE = 112;
export const TICKER_FUNDING_RATE = 120;
export const TICKER_NEXT_FUNDING_TS = 128;
export const TICKER_SIZE = 136;

// book: bid levels then ask levels, each (price f64, amount f64)
export const BOOK_FIRST_SEQ = 40;
export const BOOK_BID_COUNT = 48;
export const BOOK_ASK_COUNT = 52;
export const BOOK_LEVELS = 56;
export const BOOK_LEVEL_SIZE = 16;

/** Size of a book record with `bids` + `asks` levels. */
export function bookRecordSize(bids: number, asks: number): number {
  return BOOK_LEVELS + BOOK_LEVEL_SIZE * (bids + asks);
}

// candle
export const CANDLE_INTERVAL_SEC = 40;
export const CANDLE_OPEN_TS = 48;
export const CANDLE_OPEN = 56;
export const CANDLE_HIGH = 64;
export const CANDLE_LOW = 72;
export const CANDLE_CLOSE = 80;
export const CANDLE_VOLUME = 88;
export const CANDLE_SIZE = 96;

// status
export const STATUS_CODE = 40;
export const STATUS_DETAIL = 48;
export const STATUS_SIZE = 56;
