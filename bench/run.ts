/**
 * `npm run bench [-- --quick] [-- --out DIR] [-- --only steady,ramp,heavy-books,parsers,mixed-venues,fanout] [-- --no-ccxt]`
 *
 * Starts the simulator in its own process, runs ringfeed and the peers (each in its own process)
 * on the same loads, prints a table as it goes, and writes `<out>/<UTC date>-<sha>.json`,
 * `<out>/latest.json` and `<out>/latest.html` (out defaults to perf-reports/).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { log, tableHeader } from './console.js';
import { fanout } from './fanout.js';
import { buildHtml } from './html.js';
import { Lab } from './lab.js';
import { mixedVenues } from './mixed-venues.js';
import { buildReport, reportFileName } from './report.js';
import { benchConfig, heavyBooks, parsers, ramp, steady } from './scenarios.js';
import type { ScenarioReport } from './types.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const SCENARIOS = ['steady', 'ramp', 'heavy-books', 'mixed-venues', 'fanout', 'parsers'] as const;

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string', default: join(REPO, 'perf-reports') },
      only: { type: 'string' },
      'no-ccxt': { type: 'boolean', default: false },
    },
  });
  const only = values.only ? values.only.split(',') : [...SCENARIOS];
  for (const s of only) {
    if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`--only: unknown scenario ${s}; expected ${SCENARIOS.join(', ')}`);
  }
  const base = benchConfig(values.quick!);
  const cfg = values['no-ccxt'] ? { ...base, peers: base.peers.filter((p) => p !== 'ccxt') } : base;
  const started = Date.now();
  const createdAt = new Date();
  const commit = git(['rev-parse', '--short', 'HEAD']) ?? 'unknown';
  const dirty = (git(['status', '--porcelain']) ?? '') !== '';
  const notes: string[] = [];
  log(`ringfeed bench (${cfg.quick ? 'quick' : 'full'}) · commit ${commit}${dirty ? '+dirty' : ''} · node ${process.version} · ${cpus().length} CPUs`);
  log(tableHeader());

  const lab = new Lab();
  const scenarios: ScenarioReport[] = [];
  const add = (s: ScenarioReport | undefined): void => {
    if (s) scenarios.push(s);
  };
  try {
    if (only.includes('steady')) add(await steady(lab, cfg, notes));
    if (only.includes('ramp')) add(await ramp(lab, cfg, notes));
    if (only.includes('heavy-books')) add(await heavyBooks(lab, cfg, notes));
    if (only.includes('mixed-venues')) add(await mixedVenues(cfg.mixed, notes));
    if (only.includes('fanout')) add(await fanout(cfg.fanout, notes));
  } finally {
    await lab.close();
  }
  if (only.includes('parsers')) add(await parsers(cfg, notes));

  const report = buildReport(
    {
      createdAt,
      commit,
      commitDirty: dirty,
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      quick: cfg.quick,
      notes,
    },
    scenarios,
  );
  const out = resolve(values.out!);
  mkdirSync(out, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(join(out, reportFileName(createdAt, commit)), json);
  writeFileSync(join(out, 'latest.json'), json);
  writeFileSync(join(out, 'latest.html'), buildHtml(report));
  for (const n of notes) log(`note: ${n}`);
  log(`wrote ${join(out, 'latest.json')}, latest.html, ${reportFileName(createdAt, commit)} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
