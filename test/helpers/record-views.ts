import { RecordEncoder } from '../../src/records/encoder.js';
import { SymbolTable } from '../../src/records/symbols.js';
import { RecordView } from '../../src/records/view.js';
import { createRing, RingReader, RingWriter } from '../../src/ring/ring.js';
import { getVenue } from '../../src/venues/registry.js';

/**
 * Writes records with a real RecordEncoder into a ring and hands each, as the engine's consumer
 * would, as a bound RecordView to a handler (e.g. a Publisher's): deterministic records without
 * a venue.
 */
export class ViewSource {
  readonly symbols = new SymbolTable();
  readonly encoder: RecordEncoder;
  private readonly reader: RingReader;
  private readonly view: RecordView;

  constructor(
    readonly exchange = 'binance',
    private readonly handler: (v: RecordView) => void = () => {},
  ) {
    const code = getVenue(exchange).exchangeCode;
    this.symbols.registerExchange(code, exchange);
    const ring = createRing(1 << 20);
    this.encoder = new RecordEncoder(new RingWriter(ring), code);
    this.reader = new RingReader(ring);
    this.view = new RecordView(this.symbols);
  }

  symbolId(symbol: string): number {
    return this.symbols.intern(this.exchange, symbol);
  }

  /** A trade whose venue seq is `seq` (recvTs: now). */
  trade(symbol: string, seq: number, price = 100): void {
    this.encoder.recvTs = performance.timeOrigin + performance.now();
    this.encoder.trade(this.symbolId(symbol), Date.now(), seq, 1, price, 1);
    this.deliver();
  }

  book(symbol: string, seq: number, snapshot: boolean, bids: number[], asks: number[]): void {
    this.encoder.recvTs = performance.timeOrigin + performance.now();
    this.encoder.book(this.symbolId(symbol), Date.now(), seq, seq, snapshot, bids, bids.length / 2, asks, asks.length / 2);
    this.deliver();
  }

  private deliver(): void {
    this.encoder.publish();
    for (let o = this.reader.next(); o >= 0; o = this.reader.next()) {
      this.handler(this.view.bind(this.reader, o));
      this.reader.advance();
    }
    this.reader.release();
  }
}
