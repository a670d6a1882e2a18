/**
 * Child-process entry for one bench target: `node dist/bench/target-host.js <ringfeed|naive|ccxt|ringfeed-mixed>`.
 * Answers `start(spec)`, `mark()` and `finish()` over IPC (see ipc.ts); each phase reconnects.
 * Only the chosen target's module is loaded, so no target pays for another's code in its RSS.
 */
import { serve } from './ipc.js';
import type { Target } from './targets/target.js';
import type { TargetKind } from './types.js';

/** `ringfeed-mixed`: one engine on several venues at once (the mixed-venues scenario's spec and result). */
const LOADERS: Record<TargetKind | 'ringfeed-mixed', () => Promise<Target<never, unknown>>> = {
  ringfeed: async () => (await import('./targets/ringfeed.js')).ringfeedTarget(),
  naive: async () => (await import('./peers/naive.js')).naiveTarget(),
  ccxt: async () => (await import('./peers/ccxt.js')).ccxtTarget(),
  'ringfeed-mixed': async () => (await import('./targets/ringfeed-mixed.js')).ringfeedMixedTarget(),
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
});
