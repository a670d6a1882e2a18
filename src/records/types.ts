/** Record kinds as stored in the ring (one byte). */
export const RecordType = {
  trade: 1,
  quote: 2,
  ticker: 3,
  book: 4,
  candle: 5,
  status: 6,
} as const;
export type RecordTypeName = keyof typeof RecordType;

/** Trade aggressor side. */
export const Side = { unknown: 0, buy: 1, sell: 2 } as const;
export type SideName = keyof typeof Side;

/**
 * Status codes carried by status records. They tell the consumer, in band, what happened to
 * a stream so that nothing is lost silently.
 */
export const StatusCode = {
  /** Connection (re)established and subscriptions sent. */
  connected: 1,
  /** Connection lost; books for this connection are cleared. detail = close code. */
  disconnected: 2,
  /** A book for this symbol was found out of sync and is being rebuilt. detail = reason code. */
  resync: 3,
  /** A book for this symbol is in sync again (snapshot applied). detail = snapshot sequence. */
  synced: 4,
  /** Records were dropped under the `drop` backpressure policy. detail = number dropped. */
  dropped: 5,
  /** No data for longer than the stale timeout on a connection that still answers pings. */
  stale: 6,
  /** Planned reconnect (e.g. Binance's 24 h limit) started; no data will be missed. */
  rotating: 7,
  /** A frame could not be parsed; it was skipped. detail = number of bad frames so far. */
  badMessage: 8,
  /** Records were conflated (replaced by newer ones) under the `conflate` policy. detail = count. */
  conflated: 9,
  /**
   * The venue refused this symbol's subscription (unknown symbol, no permission …): that
   * stream is removed and not retried; the engine's `rejected` event names it and why.
   * detail = the channel's record type.
   */
  rejected: 10,
} as const;
export type StatusName = keyof typeof StatusCode;

/** Why a book was resynced (detail of a `resync` status record). */
export const ResyncReason = {
  sequenceGap: 1,
  crossedBook: 2,
  checksum: 3,
  reconnect: 4,
  snapshotFailed: 5,
} as const;

interface RecordBase {
  /** Exchange id as registered (e.g. `binance`). */
  readonly exchange: string;
  /** Normalized symbol (`BASE/QUOTE`), or '' for connection-wide status records. */
  readonly symbol: string;
  /** Exchange event time, ms since epoch (NaN when the venue does not send one). */
  readonly exchangeTs: number;
  /** Local receive time, ms since epoch with sub-ms precision (one clock for all threads). */
  readonly recvTs: number;
  /** Venue sequence number (trade id, update id …); NaN when the venue has none. */
  readonly seq: number;
  /** Position of the record in its connection's stream, for loss/reorder detection. */
  readonly streamSeq: number;
}

export interface TradeRecord extends RecordBase {
  readonly type: 'trade';
  readonly side: SideName;
  readonly price: number;
  readonly amount: number;
  /**
   * The venue's trade id where it is not an exact integer (Bybit: UUIDs on linear, 19-digit ids on
   * spot); '' where the id is `seq` (or the venue has none). Deduplicate on `tradeId || seq`.
   */
  readonly tradeId: string;
}

export interface QuoteRecord extends RecordBase {
  readonly type: 'quote';
  readonly bidPrice: number;
  readonly bidAmount: number;
  readonly askPrice: number;
  readonly askAmount: number;
}

export interface TickerRecord extends RecordBase {
  readonly type: 'ticker';
  readonly last: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly baseVolume: number;
  readonly quoteVolume: number;
  readonly bidPrice: number;
  readonly askPrice: number;
  readonly markPrice: number;
  readonly indexPrice: number;
  readonly fundingRate: number;
  readonly nextFundingTs: number;
}

/** A book level: [price, amount]. Amount 0 removes the level (deltas only). */
export type Level = readonly [price: number, amount: number];

export interface BookRecord extends RecordBase {
  readonly type: 'book';
  /** true: replaces the whole book; false: a delta to apply. */
  readonly snapshot: boolean;
  /** First venue sequence covered by this update (Binance `U`); NaN when not applicable. */
  readonly firstSeq: number;
  readonly bids: readonly Level[];
  readonly asks: readonly Level[];
}

export interface CandleRecord extends RecordBase {
  readonly type: 'candle';
  /** Interval length in seconds (60 for 1m). */
  readonly intervalSec: number;
  /** Candle open time, ms since epoch. */
  readonly openTs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  /** true when the candle is final. */
  readonly closed: boolean;
}

export interface StatusRecord extends RecordBase {
  readonly type: 'status';
  readonly status: StatusName;
  /** Code-specific number (see StatusCode). */
  readonly detail: number;
}

export type MarketRecord =
  | TradeRecord
  | QuoteRecord
  | TickerRecord
  | BookRecord
  | CandleRecord
  | StatusRecord;
