import { Counter, exponentialBuckets, Gauge, Histogram, Registry } from 'prom-client';
import { nowMs } from '../clock.js';
import type { RecordConsumer } from '../engine/consumer-api.js';
import { RecordType } from '../records/types.js';
import type { RecordView } from '../records/view.js';

/** Latency buckets, seconds: 25 µs doubling to ~1.6 s (17 classic buckets; prom-client has no native histograms). */
export const LATENCY_BUCKETS_SECONDS = exponentialBuckets(0.000025, 2, 17);

const CONNECTION_STATES = ['connecting', 'connected', 'stale', 'reconnecting', 'failed', 'closed'] as const;

/** A source that can say how full each connection's ring is (a remote feed; an engine once it exposes it). */
export interface RingFillSource {
  /** 0 to 1, or undefined when the connection has no ring. */
  ringFill(connectionId: number): number | undefined;
}

function hasRingFill(source: RecordConsumer): source is RecordConsumer & RingFillSource {
  return typeof (source as Partial<RingFillSource>).ringFill === 'function';
}

/**
 * A Prometheus registry of its own (never prom-client's global one) over an engine or a remote
 * feed: counters and gauges are read from `stats()` at scrape time; the latency histograms are
 * fed per record by a view handler (one observe per record, ~0.1-0.3 µs).
 */
export class RingfeedMetrics {
  readonly registry = new Registry();
  private readonly stopObserving: () => void;

  constructor(source: RecordConsumer) {
    const r = this.registry;
    const recvLatency = new Histogram({
      name: 'ringfeed_recv_to_consume_seconds',
      help: 'Local (publisher) receive time to consumption, seconds',
      labelNames: ['type'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [r],
    });
    const exchangeLatency = new Histogram({
      name: 'ringfeed_exchange_to_consume_seconds',
      help: 'Exchange event time to consumption (includes network and clock offset), seconds',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [r],
    });
    const byType = new Map<number, Histogram.Internal<'type'>>();
    this.stopObserving = source.onView((v: RecordView) => {
      const type = v.typeCode;
      if (type === RecordType.status) return;
      const now = nowMs();
      let h = byType.get(type);
      if (h === undefined) {
        h = recvLatency.labels(v.type);
        byType.set(type, h);
      }
      h.observe((now - v.recvTs) / 1000);
      const ex = v.exchangeTs;
      if (!Number.isNaN(ex)) exchangeLatency.observe((now - ex) / 1000);
    });

    const perConnection = (name: string, help: string, pick: (c: ReturnType<RecordConsumer['stats']>['connections'][number]) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['connection', 'exchange'],
        registers: [r],
        collect() {
          this.reset();
          for (const c of source.stats().connections) this.labels(String(c.id), c.exchange).inc(pick(c));
        },
      });
    perConnection('ringfeed_connection_frames_total', 'Frames (NATS messages for a feed) received per connection', (c) => c.frames);
    perConnection('ringfeed_connection_records_total', 'Records written per connection', (c) => c.records);
    perConnection('ringfeed_connection_drops_total', 'Records dropped per connection (drop policy)', (c) => c.dropped);
    perConnection('ringfeed_connection_resyncs_total', 'Book resyncs per connection', (c) => c.resyncs);
    perConnection('ringfeed_connection_reconnects_total', 'Reconnects per connection', (c) => c.reconnects);
    perConnection('ringfeed_connection_bad_messages_total', 'Frames rejected per connection', (c) => c.badMessages);
    new Gauge({
      name: 'ringfeed_connection_state',
      help: '1 for the state each connection is in, 0 for the others',
      labelNames: ['connection', 'exchange', 'state'],
      registers: [r],
      collect() {
        this.reset();
        for (const c of source.stats().connections) {
          for (const s of CONNECTION_STATES) this.labels(String(c.id), c.exchange, s).set(c.state === s ? 1 : 0);
        }
      },
    });
    if (hasRingFill(source)) {
      new Gauge({
        name: 'ringfeed_connection_ring_fill_ratio',
        help: 'Share of the connection ring in use (0-1): records written and not yet consumed; near 1 the producer waits or drops',
        labelNames: ['connection', 'exchange'],
        registers: [r],
        collect() {
          this.reset();
          for (const c of source.stats().connections) {
            const fill = source.ringFill(c.id);
            if (fill !== undefined) this.labels(String(c.id), c.exchange).set(fill);
          }
        },
      });
    }
    const totals: [string, string, (s: ReturnType<RecordConsumer['stats']>) => number][] = [
      ['ringfeed_messages_total', 'Data records consumed', (s) => s.messages],
      ['ringfeed_drops_total', 'Records lost (dropped, or missing upstream for a feed)', (s) => s.drops],
      ['ringfeed_gaps_total', 'Sequence gaps seen', (s) => s.gaps],
      ['ringfeed_resyncs_total', 'Book resyncs', (s) => s.resyncs],
      ['ringfeed_reconnects_total', 'Reconnects', (s) => s.reconnects],
      ['ringfeed_bad_messages_total', 'Bad messages', (s) => s.badMessages],
      ['ringfeed_integrity_errors_total', 'Records out of stream order (must stay 0)', (s) => s.integrityErrors],
      ['ringfeed_handler_errors_total', 'Exceptions thrown by record handlers', (s) => s.handlerErrors],
    ];
    for (const [name, help, pick] of totals) {
      new Counter({
        name,
        help,
        registers: [r],
        collect() {
          this.reset();
          this.inc(pick(source.stats()));
        },
      });
    }
    new Gauge({
      name: 'ringfeed_iterators_holding',
      help: 'records() iterators that are full and hold the consumer',
      registers: [r],
      collect() {
        this.set(source.stats().iterators.holding);
      },
    });
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.stopObserving();
  }
}
