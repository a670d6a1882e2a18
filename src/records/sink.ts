/**
 * The contract between whatever normalizes a venue's messages (a venue session in a worker
 * thread) and the record encoder behind it (through the backpressure policy).
 */

/**
 * Where an adapter writes normalized records. Arguments are plain numbers so that the hot path
 * allocates nothing; the implementation encodes straight into the ring. The receive timestamp
 * is set by the connection task once per socket read, not by the adapter.
 */
export interface RecordSink {
  /**
   * `tradeId`: the venue's trade id where it is not an exact integer (a UUID, or digits beyond
   * 2^53), printable ASCII, at most 64 characters; otherwise the id is `seq` and this is omitted.
   */
  trade(
    symbolId: number,
    exchangeTs: number,
    seq: number,
    side: number,
    price: number,
    amount: number,
    tradeId?: string,
  ): void;
  quote(
    symbolId: number,
    exchangeTs: number,
    seq: number,
    bidPrice: number,
    bidAmount: number,
    askPrice: number,
    askAmount: number,
  ): void;
  /** `fields` is a reusable object owned by the caller; the sink copies what it needs. */
  ticker(symbolId: number, exchangeTs: number, seq: number, fields: TickerFields): void;
  /**
   * Levels are flat `[price0, amount0, price1, amount1, …]`; only the first `bidCount` /
   * `askCount` levels are read (so callers can reuse one scratch array).
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
  ): void;
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
  ): void;
  /** A status record (see `StatusCode`); symbolId 0 = the whole connection. */
  status(symbolId: number, code: number, detail: number): void;
}

/** Ticker fields; every field present, NaN when the venue does not provide it. */
export interface TickerFields {
  last: number;
  open: number;
  high: number;
  low: number;
  baseVolume: number;
  quoteVolume: number;
  bidPrice: number;
  askPrice: number;
  markPrice: number;
  indexPrice: number;
  fundingRate: number;
  nextFundingTs: number;
}

