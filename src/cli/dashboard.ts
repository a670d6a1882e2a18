import type { EngineStats } from '../engine.js';

/** The one-line JSON summary printed by `run --json` (a stable shape: scripts parse it). */
export function summaryLine(stats: EngineStats, seconds: number): string {
  const l = stats.latencyUs.recvToConsume;
  return JSON.stringify({
    streams: stats.streams,
    messages: stats.messages,
    msgsPerSec: Math.round(stats.messages / Math.max(seconds, 1e-9)),
    latencyUs: { p50: l.p50, p95: l.p95, p99: l.p99, max: l.max },
    drops: stats.drops,
    gaps: stats.gaps,
    reconnects: stats.reconnects,
  });
}

function pad(value: string | number, width: number): string {
  return String(value).padStart(width);
}

/** A terminal view of the engine: totals, latency, and per-stream rates since `previous`. */
export function renderDashboard(stats: EngineStats, previous: EngineStats | undefined, dtMs: number): string {
  const dt = Math.max(dtMs, 1) / 1000;
  const before = new Map(previous?.perStream.map((s) => [`${s.exchange} ${s.channel} ${s.symbol}`, s.messages]));
  const rate = stats.messages - (previous?.messages ?? 0);
  const r = stats.latencyUs.recvToConsume;
  const x = stats.latencyUs.exchangeToConsume;
  const lines = [
    `ringfeed — up ${(stats.uptimeMs / 1000).toFixed(0)} s, ${stats.streams} streams, ${stats.connections.length} connections`,
    `total ${pad(Math.round(rate / dt), 8)} msg/s   ${stats.messages} msgs   drops ${stats.drops}   gaps ${stats.gaps}   resyncs ${stats.resyncs}   reconnects ${stats.reconnects}   bad ${stats.badMessages}`,
    `latency µs   recv→consume p50 ${r.p50}  p95 ${r.p95}  p99 ${r.p99}  max ${r.max}   exchange→consume p50 ${x.p50}  p99 ${x.p99}`,
    `connections  ${stats.connections.map((c) => `#${c.id} ${c.exchange} ${c.state} (${c.policy})`).join('   ')}`,
    '',
    `${'stream'.padEnd(34)}${pad('msg/s', 8)}${pad('total', 10)}`,
  ];
  for (const s of stats.perStream) {
    const key = `${s.exchange} ${s.channel} ${s.symbol}`;
    const perSec = (s.messages - (before.get(key) ?? 0)) / dt;
    lines.push(`${key.padEnd(34)}${pad(perSec.toFixed(0), 8)}${pad(s.messages, 10)}`);
  }
  return lines.join('\n');
}
