import type { EngineStats } from '../engine/engine.js';
import type { LatencySummary } from '../metrics/latency.js';

/** What the view and the summary read of the engine's stats. */
export type DashboardStats = Pick<
  EngineStats,
  'uptimeMs' | 'streams' | 'messages' | 'latencyUs' | 'drops' | 'gaps' | 'resyncs' | 'reconnects' | 'badMessages' | 'connections' | 'perStream'
>;

function percentiles(l: LatencySummary) {
  return { p50: l.p50, p95: l.p95, p99: l.p99, max: l.max };
}

/**
 * The one-line JSON summary printed by `run --json` (a stable shape: scripts parse it).
 * `latencyUs` is an alias of `recvToConsumeUs`, kept for readers written before both existed.
 */
export function summaryLine(stats: DashboardStats, seconds: number): string {
  const recvToConsumeUs = percentiles(stats.latencyUs.recvToConsume);
  return JSON.stringify({
    streams: stats.streams,
    messages: stats.messages,
    msgsPerSec: Math.round(stats.messages / Math.max(seconds, 1e-9)),
    recvToConsumeUs,
    exchangeToConsumeUs: percentiles(stats.latencyUs.exchangeToConsume),
    latencyUs: recvToConsumeUs,
    drops: stats.drops,
    gaps: stats.gaps,
    reconnects: stats.reconnects,
  });
}

export interface TerminalSize {
  readonly columns: number;
  readonly rows: number;
}

/** What the view assumes when stdout is not a terminal (or does not say its size). */
export const FALLBACK_SIZE: TerminalSize = { columns: 80, rows: 24 };

export function terminalSize(out: { isTTY?: boolean; columns?: number; rows?: number }): TerminalSize {
  const usable = (n: number | undefined): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0;
  return out.isTTY && usable(out.columns) && usable(out.rows) ? { columns: out.columns, rows: out.rows } : FALLBACK_SIZE;
}

/** Terminal columns of a string (the view only uses single-width characters). */
function width(text: string): number {
  return [...text].length;
}

function clip(text: string, columns: number): string {
  const chars = [...text];
  return chars.length <= columns ? text : `${chars.slice(0, Math.max(columns - 1, 0)).join('')}…`;
}

/** Lays fields out after `prefix`, as many per line as fit, continuing lines indented under the first field. */
function pack(prefix: string, fields: string[], columns: number, gap = '   '): string[] {
  const indent = ' '.repeat(width(prefix));
  const lines: string[] = [];
  let line = prefix;
  let empty = true;
  for (const field of fields) {
    const next = empty ? line + field : line + gap + field;
    if (!empty && width(next) > columns) {
      lines.push(line);
      line = indent + field;
    } else line = next;
    empty = false;
  }
  lines.push(line);
  return lines.map((l) => clip(l, columns));
}

/** Fields on one line; those that do not fit are counted in a trailing `+N more`. */
function oneLine(prefix: string, fields: string[], columns: number, gap = '   '): string {
  let line = prefix;
  for (let i = 0; i < fields.length; i++) {
    const candidate = i === 0 ? line + fields[i] : line + gap + fields[i];
    const rest = fields.length - i - 1;
    const suffix = rest > 0 ? `${gap}+${rest} more` : '';
    if (width(candidate + suffix) > columns) return clip(`${line}${i === 0 ? '' : gap}+${fields.length - i} more`, columns);
    line = candidate;
  }
  return line;
}

function pad(value: string | number, w: number): string {
  return String(value).padStart(w);
}

/** The lines that always lead the view: title, totals and latency, packed to `columns`. */
export function dashboardHeader(stats: DashboardStats, previous: DashboardStats | undefined, dtMs: number, columns: number): string[] {
  const dt = Math.max(dtMs, 1) / 1000;
  const rate = stats.messages - (previous?.messages ?? 0);
  const r = stats.latencyUs.recvToConsume;
  const x = stats.latencyUs.exchangeToConsume;
  return [
    ...pack('ringfeed — ', [`up ${(stats.uptimeMs / 1000).toFixed(0)} s`, `${stats.streams} streams`, `${stats.connections.length} connections`], columns, ', '),
    ...pack(
      'total ',
      [
        `${pad(Math.round(rate / dt), 8)} msg/s`,
        `${stats.messages} msgs`,
        `drops ${stats.drops}`,
        `gaps ${stats.gaps}`,
        `resyncs ${stats.resyncs}`,
        `reconnects ${stats.reconnects}`,
        `bad ${stats.badMessages}`,
      ],
      columns,
    ),
    ...pack(
      'latency µs   ',
      [`recv→consume p50 ${r.p50}  p95 ${r.p95}  p99 ${r.p99}  max ${r.max}`, `exchange→consume p50 ${x.p50}  p99 ${x.p99}`],
      columns,
    ),
  ];
}

/**
 * A terminal view of the engine: totals, latency, and per-stream rates since `previous`. It
 * fits `size`: no line is wider than its columns (nothing wraps), and it has at most its rows
 * lines; the title, totals and latency always come first, stream rows that do not fit are
 * replaced by a `+N more streams` line.
 */
export function renderDashboard(
  stats: DashboardStats,
  previous: DashboardStats | undefined,
  dtMs: number,
  size: TerminalSize = FALLBACK_SIZE,
): string {
  const { columns, rows } = size;
  const dt = Math.max(dtMs, 1) / 1000;
  const before = new Map(previous?.perStream.map((s) => [`${s.exchange} ${s.channel} ${s.symbol}`, s.messages]));
  const keys = stats.perStream.map((s) => `${s.exchange} ${s.channel} ${s.symbol}`);
  // Wide enough for the longest stream name, unless that would push the figures off screen.
  const keyWidth = Math.max(34, Math.min(Math.max(0, ...keys.map(width)) + 2, columns - 18));
  const optional = [
    oneLine('connections  ', stats.connections.map((c) => `#${c.id} ${c.exchange} ${c.state} (${c.policy})`), columns),
    '',
    clip(`${'stream'.padEnd(keyWidth)}${pad('msg/s', 8)}${pad('total', 10)}`, columns),
  ];
  const lines = dashboardHeader(stats, previous, dtMs, columns).slice(0, rows);
  const room = rows - lines.length;
  if (room < optional.length + 1) return lines.join('\n');
  lines.push(...optional);
  const streams = stats.perStream.map((s, i) => {
    const key = keys[i]!;
    const perSec = (s.messages - (before.get(key) ?? 0)) / dt;
    const name = width(key) > keyWidth - 1 ? `${clip(key, keyWidth - 1)} ` : key.padEnd(keyWidth);
    return clip(`${name}${pad(perSec.toFixed(0), 8)}${pad(s.messages, 10)}`, columns);
  });
  const streamRows = room - optional.length;
  if (streams.length <= streamRows) lines.push(...streams);
  else {
    const shown = streamRows - 1;
    lines.push(...streams.slice(0, shown), clip(`+${streams.length - shown} more streams`, columns));
  }
  return lines.join('\n');
}
