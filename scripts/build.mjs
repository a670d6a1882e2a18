#!/usr/bin/env node
/**
 * `npm run build`: the package build (`tsc -p tsconfig.build.json`: src/ and workers/ → dist/),
 * made cheap to repeat so that `npm start` does not pay a full compile every time.
 *
 * - Skip: when every source has its dist/ output and nothing under src/, workers/ or the configs
 *   changed since the last successful build (dist/.build-stamp), tsc is not started at all
 *   (a no-op incremental tsc still takes seconds: it re-reads every declaration file, ccxt's included).
 * - Otherwise tsc runs incrementally (its buildinfo is dist/.tsbuildinfo, inside dist/ so that
 *   deleting dist/ also deletes it; a buildinfo that outlives its outputs makes tsc emit nothing).
 * - A missing output (a deleted dist/ file) drops the buildinfo first, so tsc emits everything again.
 * - `--clean` removes dist/ first (used by `prepack`, so a tarball never carries stale files).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const stamp = join(dist, '.build-stamp');
const buildInfo = join(dist, '.tsbuildinfo');
const SOURCE_DIRS = ['src', 'workers'];
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];
/** Sources that tsconfig.build.json excludes: inputs of nothing, so no output is expected. */
const NOT_EMITTED = new Set(['src/venues/ccxt/catalog-generate.ts']);

/** Every .ts source (not .d.ts) under dir, and the newest mtime of those files and of the directories. */
function scan(dir, out) {
  out.newest = Math.max(out.newest, statSync(dir).mtimeMs);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) scan(path, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      out.sources.push(path);
      out.newest = Math.max(out.newest, statSync(path).mtimeMs);
    }
  }
  return out;
}

function missingOutputs(sources) {
  return sources.filter((file) => {
    const rel = relative(root, file);
    if (NOT_EMITTED.has(rel.split('\\').join('/'))) return false;
    const base = join(dist, rel.slice(0, -'.ts'.length));
    return !existsSync(`${base}.js`) || !existsSync(`${base}.d.ts`);
  });
}

if (process.argv.includes('--clean')) rmSync(dist, { recursive: true, force: true });

const inputs = { sources: [], newest: 0 };
for (const dir of SOURCE_DIRS) scan(join(root, dir), inputs);
for (const file of CONFIG_FILES) {
  const path = join(root, file);
  if (existsSync(path)) inputs.newest = Math.max(inputs.newest, statSync(path).mtimeMs);
}

const missing = missingOutputs(inputs.sources);
const upToDate = missing.length === 0 && existsSync(stamp) && statSync(stamp).mtimeMs >= inputs.newest;
if (!upToDate) {
  if (missing.length > 0) rmSync(buildInfo, { force: true });
  rmSync(stamp, { force: true });
  // Sources saved while tsc runs must count as changed next time: the stamp gets the start time.
  const startedAt = new Date();
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  writeFileSync(stamp, '');
  utimesSync(stamp, startedAt, startedAt);
}
