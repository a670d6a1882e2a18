import type { L2Book } from '../book/book-keeper.js';
import type { MarketRecord } from '../records/types.js';
import type { RecordView } from '../records/view.js';
import type { RecordFilter } from './checks.js';
import type { EngineStats } from './engine.js';

/**
 * What bot code consumes, whether the records come from this process's engine (`createEngine`)
 * or from NATS (`connectFeed`): code written against this moves between them unchanged.
 */
export interface RecordConsumer {
  onView(handler: (view: RecordView) => void): () => void;
  onRecord(handler: (record: MarketRecord) => void, filter?: RecordFilter): () => void;
  records(filter?: RecordFilter): AsyncIterableIterator<MarketRecord>;
  book(exchange: string, symbol: string): L2Book | undefined;
  stats(): EngineStats;
  close(): Promise<void>;
}
