/**
 * The fanout scenario's listener: another process consuming the published stream through
 * `connectFeed` (from the stream's start, so that it must end with every record the publisher
 * stored). Latency is the publisher's receive time (the record's `recvTs`, same machine clock)
 * to this process's handler: the engine's hop, batching, JetStream and the feed together.
 */
import { connectFeed, type RecordView, type RemoteFeed } from '../../src/index.js';
import { LatencyHistogram } from '../../src/metrics/latency.js';
import { nowMs, summaryOf, until, Window } from '../measure.js';
import type { FanoutListenerDrain, FanoutListenerSpec, FanoutListenerWindow } from '../types.js';
import type { Target } from './target.js';

export function fanoutListenerTarget(): Target<FanoutListenerSpec, FanoutListenerWindow> & { drain(expected: number): Promise<FanoutListenerDrain> } {
  let feed: RemoteFeed | undefined;
  const window = new Window();
  const latency = new LatencyHistogram();
  let total = 0;
  let inWindow = 0;
  let measuring = false;

  const onView = (v: RecordView): void => {
    total++;
    if (!measuring) return;
    inWindow++;
    latency.record((nowMs() - v.recvTs) * 1000);
  };

  return {
    async start(spec) {
      feed = await connectFeed({ servers: spec.servers, stream: spec.stream, prefix: spec.prefix, from: 'all' });
      feed.onView(onView);
      if (!(await until(() => total > 0, 20_000))) throw new Error('fanout listener: no record after 20 s');
    },
    mark() {
      latency.reset();
      inWindow = 0;
      measuring = true;
      window.mark();
    },
    /** Ends the window (the feed keeps delivering: `drain` counts the rest). */
    async finish() {
      if (!feed) throw new Error('fanout listener: finish before start');
      measuring = false;
      const w = window.read();
      return { seconds: w.seconds, cpuUs: w.cpuUs, rssMb: w.rssMb, recordsInWindow: inWindow, latencyUs: summaryOf(latency) };
    },
    /** Waits (up to 15 s) until this listener has `expected` records in all, then closes the feed. */
    async drain(expected: number) {
      if (!feed) throw new Error('fanout listener: drain before start');
      await until(() => total >= expected, 15_000);
      const gaps = feed.stats().gaps;
      await feed.close();
      feed = undefined;
      return { recordsTotal: total, gaps };
    },
  };
}
