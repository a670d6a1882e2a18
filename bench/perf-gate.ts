/**
 * `node dist/bench/perf-gate.js <current.json> [baseline.json]`: compares a bench report with the
 * committed baseline (perf-reports/baseline.json) and exits 1 when the gate fails (see gate.ts).
 */
import { readFileSync } from 'node:fs';
import { formatGate, gate } from './gate.js';
import { validateReport } from './report.js';
import type { Report } from './types.js';

function load(path: string): Report {
  const value = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  const problems = validateReport(value);
  if (problems.length > 0) throw new Error(`${path} is not a bench report: ${problems.slice(0, 5).join('; ')}`);
  return value as Report;
}

const [currentPath, baselinePath = new URL('../../perf-reports/baseline.json', import.meta.url).pathname] = process.argv.slice(2);
if (!currentPath) {
  process.stderr.write('usage: perf-gate <current.json> [baseline.json]\n');
  process.exit(2);
}
const result = gate(load(baselinePath), load(currentPath));
process.stdout.write(`${formatGate(result)}\n`);
process.exit(result.ok ? 0 : 1);
