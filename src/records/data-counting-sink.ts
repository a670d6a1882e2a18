/**
 * A RecordSink in front of another that counts the data records (trade, quote, ticker, book,
 * candle) a venue session writes. The connection task uses the count to tell a frame that
 * carried data from a heartbeat, a pong or an ack, so that a feed sending only those still goes
 * `stale`. Status records are forwarded without counting.
 */
import type { RecordSink, TickerFields } from './sink.js';

export class DataCountingSink implements RecordSink {
  /** Data records written so far. */
  count = 0;

  constructor(private readonly out: RecordSink) {}

  trade(symbolId: number, exchangeTs: number, seq: number, side: number, price: number, amount: number): void {
    this.count++;
    this.out.trade(symbolId, exchangeTs, seq, side, price, amount);
  }

  quote(
    symbolId: number,
    exchangeTs: number,
    seq: number,
    bidPrice: number,
    bidAmount: number,
    askPrice: number,
    askAmount: number,
  ): void {
    this.count++;
    this.out.quote(symbolId, exchangeTs, seq, bidPrice, bidAmount, askPrice, askAmount);
  }

  ticker(symbolId: number, exchangeTs: number, seq: number, fields: TickerFields): void {
    this.count++;
    this.out.ticker(symbolId, exchangeTs, seq, fields);
  }

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
  ): void {
    this.count++;
    this.out.book(symbolId, exchangeTs, firstSeq, seq, snapshot, bids, bidCount, asks, askCount);
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
  ): void {
    this.count++;
    this.out.candle(symbolId, exchangeTs, seq, intervalSec, openTs, open, high, low, close, volume, closed);
  }

  status(symbolId: number, code: number, detail: number): void {
    this.out.status(symbolId, code, detail);
  }
}
