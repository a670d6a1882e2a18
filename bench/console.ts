/** Console output of the bench: one table row per measured phase, a progress bar while one runs. */
import type { Measurement } from './types.js';

const COLUMNS: Array<[string, number]> = [
  ['scenario', 16],
  ['target', 9],
  ['offered/s', 10],
  ['deliv/s', 10],
  ['cpu µs/msg', 10],
  ['p50 µs', 9],
  ['p99 µs', 9],
  ['p999 µs', 9],
  ['max µs', 9],
  ['rss MB', 7],
  ['drops', 7],
  ['gaps', 5],
  ['', 0],
];

function cell(text: string, width: number): string {
  return width === 0 ? text : text.length >= width ? `${text} ` : text.padEnd(width);
}

export function fmt(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '-';
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(digits);
}

export function tableHeader(): string {
  return COLUMNS.map(([name, w]) => cell(name, w)).join('');
}

export function tableRow(scenario: string, target: string, m: Measurement, note = ''): string {
  const values = [
    scenario,
    target,
    fmt(m.offeredMsgsPerSec),
    fmt(m.deliveredMsgsPerSec),
    fmt(m.cpuUsPerMsg, 2),
    fmt(m.latencyUs?.p50),
    fmt(m.latencyUs?.p99),
    fmt(m.latencyUs?.p999),
    fmt(m.latencyUs?.max),
    fmt(m.rssMb),
    fmt(m.drops),
    fmt(m.gaps),
    note,
  ];
  return values.map((v, i) => cell(v, COLUMNS[i]![1])).join('');
}

/** A progress bar on stderr while `ms` elapse (only on a terminal; silent otherwise). */
export async function progress(label: string, ms: number): Promise<void> {
  const tty = process.stderr.isTTY === true;
  const started = Date.now();
  const width = 30;
  const draw = (): void => {
    const f = Math.min(1, (Date.now() - started) / ms);
    const done = Math.round(f * width);
    const secs = ((Date.now() - started) / 1000).toFixed(0);
    process.stderr.write(`\r  [${'#'.repeat(done)}${'.'.repeat(width - done)}] ${label} ${secs}/${(ms / 1000).toFixed(0)} s `);
  };
  const timer = tty && ms >= 3000 ? setInterval(draw, 500) : undefined;
  await new Promise((r) => setTimeout(r, ms));
  if (timer) {
    clearInterval(timer);
    process.stderr.write(`\r${' '.repeat(width + label.length + 20)}\r`);
  }
}

export function log(line: string): void {
  process.stdout.write(`${line}\n`);
}
