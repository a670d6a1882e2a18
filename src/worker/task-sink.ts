/**
 * The RecordSink a connection task hands to its venue code (session, normalizers) and uses for
 * its own status records. In front of the backpressure policy it does two things:
 *
 * - counts the data records (trade, quote, ticker, book, candle), so that the task tells a
 *   frame that carried data from a heartbeat, a pong or an ack (the stale watchdog);
 * - stamps the receive time of records written outside a socket read: while `reading` is false
 *   (a REST answer, a timer, a control message, the task's own lifecycle) every record is
 *   preceded by `outsideRead()`, which stamps `recvTs` and schedules a publish. Inside a read the
 *   task has stamped the read's time once; the check is one branch per record.
 */
import type { RecordSink, TickerFields } from '../records/sink.js';

export class TaskSink implements RecordSink {
  /** Data records written so far. */
  count = 0;
  /** True while the task runs a socket read's handler (its receive time is stamped). */
  reading = false;

  constructor(
    private readonly out: RecordSink,
    private readonly outsideRead: () => void,
  ) {}

  trade(symbolId: number, exchangeTs: number, seq: number, side: number, price: number, amount: number, tradeId?: string): void {
    this.count++;
    if (!this.reading) this.outsideRead();
    this.out.trade(symbolId, exchangeTs, seq, side, price, amount, tradeId);
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
    if (!this.reading) this.outsideRead();
    this.out.quote(symbolId, exchangeTs, seq, bidPrice, bidAmount, askPrice, askAmount);
  }

  ticker(symbolId: number, exchangeTs: number, seq: number, fields: TickerFields): void {
    this.count++;
    if (!this.reading) this.outsideRead();
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
    if (!this.reading) this.outsideRead();
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
    if (!this.reading) this.outsideRead();
    this.out.candle(symbolId, exchangeTs, seq, intervalSec, openTs, open, high, low, close, volume, closed);
  }

  /** Status records are not data: forwarded (and stamped outside a read) without counting. */
  status(symbolId: number, code: number, detail: number): void {
    if (!this.reading) this.outsideRead();
    this.out.status(symbolId, code, detail);
  }
}
