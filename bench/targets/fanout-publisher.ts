/**
 * The fanout scenario's publisher: a ringfeed engine on the Binance simulator publishing every
 * record it consumes to NATS JetStream (`engine.publish`). Its process CPU per record is the
 * publisher's cost (engine and publishing together, as a user runs it).
 */
import { pino } from 'pino';
import type { Publisher } from '../../src/fanout/publisher.js';
import { createEngine, type Engine } from '../../src/index.js';
import { until, Window } from '../measure.js';
import type { FanoutPublisherResult, FanoutPublisherSpec } from '../types.js';
import type { Target } from './target.js';

export function fanoutPublisherTarget(): Target<FanoutPublisherSpec, FanoutPublisherResult> {
  let engine: Engine | undefined;
  let publisher: Publisher | undefined;
  const window = new Window();
  let base = { consumed: 0, acked: 0 };

  return {
    async start(spec) {
      engine = createEngine({
        policy: spec.policy,
        logger: pino({ level: 'warn' }, pino.destination({ dest: 2, sync: false })),
        venues: { binance: { wsUrl: spec.wsUrl, restUrl: spec.restUrl } },
      });
      publisher = await engine.publish({ servers: spec.servers, stream: spec.stream, prefix: spec.prefix });
      engine.subscribe({ exchange: 'binance', channels: spec.channels, symbols: spec.symbols });
      const p = publisher;
      if (!(await until(() => p.stats().recordsAcked > 0, 20_000))) throw new Error('fanout publisher: nothing acknowledged by JetStream after 20 s');
    },
    mark() {
      if (!engine || !publisher) throw new Error('fanout publisher: mark before start');
      base = { consumed: engine.stats().messages, acked: publisher.stats().recordsAcked };
      window.mark();
    },
    async finish() {
      if (!engine || !publisher) throw new Error('fanout publisher: finish before mark');
      const w = window.read();
      const consumed = engine.stats().messages - base.consumed;
      const inWindow = publisher.stats().recordsAcked - base.acked;
      // Closing flushes the publisher: every record handed to it is acknowledged or counted dropped.
      await engine.close();
      const s = publisher.stats();
      engine = undefined;
      publisher = undefined;
      return {
        seconds: w.seconds,
        cpuUs: w.cpuUs,
        rssMb: w.rssMb,
        consumed,
        ackedInWindow: inWindow,
        recordsTotal: s.records,
        ackedTotal: s.recordsAcked,
        dropped: s.dropped,
        batches: s.batches,
        recordsPerBatch: s.recordsPerBatch,
      };
    },
  };
}
