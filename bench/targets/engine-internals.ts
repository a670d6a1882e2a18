/** The engine's consumer histograms, reached by the bench targets so a window can start after warm-up. */
import type { Engine } from '../../src/index.js';
import type { LatencyHistogram } from '../../src/metrics/latency.js';

export interface ConsumerInternals {
  recvToConsume: LatencyHistogram;
  exchangeToConsume: LatencyHistogram;
}

export function internals(engine: Engine): ConsumerInternals | undefined {
  const consumer = (engine as unknown as { consumer?: Partial<ConsumerInternals> }).consumer;
  if (consumer?.recvToConsume && consumer.exchangeToConsume) return consumer as ConsumerInternals;
  return undefined;
}
