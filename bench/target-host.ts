/**
 * Child-process entry for one bench target: `node dist/bench/target-host.js <ringfeed|naive|ccxt>`.
 * Answers `start(spec)`, `mark()` and `finish()` over IPC (see ipc.ts); each phase reconnects.
 * Only the chosen target's module is loaded, so no target pays for another's code in its RSS.
 */
import { serve } from './ipc.js';
import type { Target } from './targets/target.js';
import type { PhaseSpec, TargetKind } from './types.js';

const LOADERS: Record<TargetKind, () => Promise<Target>> = {
  ringfeed: async () => (await import('./targets/ringfeed.js')).ringfeedTarget(),
  naive: async () => (await import('./peers/naive.js')).naiveTarget(),
  ccxt: async () => (await import('./peers/ccxt.js')).ccxtTarget(),
};

const kind = process.argv[2] as TargetKind;
const load = LOADERS[kind];
if (!load) {
  process.stderr.write(`target-host: unknown target ${String(kind)}; expected ${Object.keys(LOADERS).join(', ')}\n`);
  process.exit(2);
}
const target = await load();

serve({
  start: (spec) => target.start(spec as PhaseSpec),
  mark: () => target.mark(),
  finish: () => target.finish(),
});
