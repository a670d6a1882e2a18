/**
 * The bad-input corpus: every row is a bad input (options, subscribe requests, handler
 * arguments, call sequences, CLI arguments, hostile venue frames, unknown symbols, garbage
 * environment variables) and the outcome it must have. For every row the test checks that
 * outcome, that the process saw no uncaught exception or unhandled rejection, and that the
 * shared engine's canary subscription kept delivering. New failure modes become new rows in
 * `test/bad-input/<group>.rows.ts`; the table is printed at the end.
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/engine.js';
import type { MarketRecord } from '../src/records/types.js';
import { type Simulator, startSimulator } from '../src/simulator/index.js';
import type { BadInputRow, RowContext } from './bad-input/row.js';
import { engineFor } from './helpers/engine.js';
import { waitFor } from './helpers/wait.js';

const dir = new URL('./bad-input/', import.meta.url);
const modules: Array<{ file: string; rows: BadInputRow[]; closers: Array<() => unknown> }> = [];
for (const file of readdirSync(dir).filter((f) => f.endsWith('.rows.ts')).sort()) {
  const mod = (await import(new URL(file, dir).href)) as Record<string, unknown>;
  const closers = Object.entries(mod)
    .filter(([name, v]) => name.startsWith('close') && typeof v === 'function')
    .map(([, v]) => v as () => unknown);
  modules.push({ file, rows: mod.rows as BadInputRow[], closers });
}
const allRows = modules.flatMap((m) => m.rows);

let sim: Simulator;
let engine: Engine;
let canary: MarketRecord[];
let ctx: RowContext;
const faults: string[] = [];
const onUncaught = (err: unknown) => faults.push(`uncaughtException: ${(err as Error)?.message ?? String(err)}`);
const onUnhandled = (err: unknown) => faults.push(`unhandledRejection: ${(err as Error)?.message ?? String(err)}`);
const results: Array<{ group: string; input: string; expect: string; passed: boolean }> = [];

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUnhandled);
  sim = await startSimulator({ port: 0, seed: 7 });
  const h = engineFor(sim, { iteratorHighWaterMark: 50 });
  engine = h.engine;
  canary = h.records;
  engine.subscribe({ exchange: 'binance', channels: ['trades', 'quotes'], symbols: ['BTC/USDT', 'ETH/USDT'] });
  ctx = { engine, wsUrl: sim.wsUrl, restUrl: sim.restUrl };
  await waitFor(() => canary.some((r) => r.type === 'trade'), 'canary trades before the corpus', 15_000);
}, 30_000);

afterAll(async () => {
  for (const m of modules) for (const close of m.closers) await close();
  await engine?.close();
  await sim?.close();
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUnhandled);
  const passed = results.filter((r) => r.passed).length;
  const width = Math.max(...results.map((r) => r.input.length), 10);
  const lines = results.map(
    (r) => `${r.passed ? 'pass' : 'FAIL'}  ${r.group.padEnd(9)} ${r.input.padEnd(width)}  → ${r.expect}`,
  );
  console.log(`bad-input corpus: ${results.length} rows, ${passed} passed\n${lines.join('\n')}`);
});

it('has at least 60 rows, each naming its input and outcome', () => {
  expect(allRows.length).toBeGreaterThanOrEqual(60);
  for (const r of allRows) {
    expect(r.input.length).toBeGreaterThan(0);
    expect(r.expect.length).toBeGreaterThan(0);
  }
});

for (const m of modules) {
  describe(m.file, () => {
    for (const row of m.rows) {
      it(`${row.group}: ${row.input}`, async () => {
        const mark = canary.length;
        let passed = false;
        try {
          await row.run(ctx);
          expect(faults, 'no uncaught exception or unhandled rejection').toEqual([]);
          // The shared engine's other subscriptions kept delivering.
          await waitFor(
            () => canary.slice(mark).some((r) => r.type === 'trade' || r.type === 'quote'),
            'the canary subscription to deliver after the row',
            10_000,
          );
          passed = true;
        } finally {
          results.push({ group: row.group, input: row.input, expect: row.expect, passed });
        }
      }, 60_000);
    }
  });
}
