/**
 * The consumer API's delivery methods over one consumer, book keeper and symbol table: what
 * `createEngine`'s engine and a NATS feed (`connectFeed`) hand to bot code, written once.
 */
import type { Logger } from 'pino';
import type { BookKeeper, L2Book } from '../book/book-keeper.js';
import type { Consumer } from '../consumer/consumer.js';
import type { SymbolTable } from '../records/symbols.js';
import type { MarketRecord } from '../records/types.js';
import type { RecordView } from '../records/view.js';
import { checkFilter, checkHandler, type RecordFilter } from './checks.js';
import { RingfeedError } from './errors.js';
import { describe } from './options.js';
import { createRecordIterator, IteratorGauge } from './record-iterator.js';

export interface RecordDeliveryOptions {
  readonly consumer: Consumer;
  readonly books: BookKeeper;
  readonly symbols: SymbolTable;
  readonly iteratorHighWaterMark: number;
  readonly log: Logger;
  /** A `records()` iterator paused (true) or released (false) the consumer. */
  onPause(paused: boolean, buffered: number): void;
  /** Registers the function that ends iterators when the owner closes; returns its removal. */
  onClosed(end: () => void): () => void;
}

export class RecordDelivery {
  /** `records()` iterators: a full one holds every handler back until it is read. */
  readonly iterators = new IteratorGauge();

  constructor(private readonly o: RecordDeliveryOptions) {}

  onView(handler: (view: RecordView) => void): () => void {
    return this.o.consumer.addHandler(checkHandler(handler, 'onView'));
  }

  onRecord(handler: (record: MarketRecord) => void, filter?: RecordFilter): () => void {
    checkHandler(handler, 'onRecord');
    const wanted = checkFilter(filter, 'onRecord');
    return this.o.consumer.addHandler((view) => {
      if (wanted === undefined || wanted.has(view.typeCode)) handler(view.toObject());
    });
  }

  records(filter?: RecordFilter): AsyncIterableIterator<MarketRecord> {
    const o = this.o;
    return createRecordIterator({
      consumer: o.consumer,
      wanted: checkFilter(filter, 'records'),
      highWaterMark: o.iteratorHighWaterMark,
      gauge: this.iterators,
      log: o.log,
      onPause: (paused, buffered) => o.onPause(paused, buffered),
      onEngineClosed: (end) => o.onClosed(end),
    });
  }

  book(exchange: string, symbol: string): L2Book | undefined {
    if (typeof exchange !== 'string' || typeof symbol !== 'string') {
      throw new RingfeedError('ERR_BAD_OPTION', `book(exchange, symbol) takes two strings; got ${describe(exchange)}, ${describe(symbol)}`);
    }
    const id = this.o.symbols.lookup(exchange, symbol);
    return id === undefined ? undefined : this.o.books.get(id);
  }
}
