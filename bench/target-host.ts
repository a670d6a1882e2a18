/**
 * Child-process entry for one bench target: `node dist/bench/target-host.js <ringfeed|naive|ccxt|ringfeed-mixed>`.
 * Answers `start(spec)`, `mark()` and `finish()` over IPC (see ipc.ts); each phase reconnects.
 * Only the chosen target's module is loaded, so no target pays for another's code in its RSS.
 */
import { serve } from './ipc.js';
import type { Target } from './targets/target.js';
import type { TargetKind } from './types.js';

/**
 * `ringfeed-mixed`: one engine on several venues at once (the mixed-venues scenario's spec and
 * result); `fanout-publisher` / `fanout-listener`: the fanout scenario's processes.
 */
type HostedTarget = Target<never, unknown> & { drain?(expected: never): Promise<unknown> };
const LOADERS: Record<TargetKind | 'ringfeed-mixed' | 'fanout-publisher' | 'fanout-listener', () => Promise<HostedTarget>> = {
  ringfeed: async () => (await import('./targets/ringfeed.js')).ringfeedTarget(),
  naive: async () => (await import('./peers/naive.js')).naiveTarget(),
  ccxt: async () => (await import('./peers/ccxt.js')).ccxtTarget(),
  'ringfeed-mixed': async () => (await import('./targets/ringfeed-mixed.js')).ringfeedMixedTarget(),
  'fanout-publisher': async () => (await import('./targets/fanout-publisher.js')).fanoutPublisherTarget(),
  'fanout-listener': async () => (await import('./targets/fanout-listener.js')).fanoutListenerTarget(),
};

const kind = process.argv[2] as keyof typeof LOADERS;
const load = LOADERS[kind];
if (!load) {
  process.stderr.write(`target-host: unknown target ${String(kind)}; expected ${Object.keys(LOADERS).join(', ')}\n`);
  process.exit(2);
}
const target = await load();

serve({
  start: (spec) => target.start(spec as never),
  mark: () => target.mark(),
  finish: () => target.finish(),
  drain: (expected) => {
    if (!target.drain) throw new Error(`${kind} has no drain`);
    return target.drain(expected as never);
  },
});
