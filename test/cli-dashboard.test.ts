import { describe, expect, it } from 'vitest';
import { type DashboardStats, FALLBACK_SIZE, renderDashboard, summaryLine, terminalSize } from '../src/cli/dashboard.js';
import type { ConnectionStats, StreamStats } from '../src/engine/engine.js';
import type { LatencySummary } from '../src/metrics/latency.js';

const CHANNELS = ['trades', 'quotes', 'book', 'candles'] as const;

function latency(base: number): LatencySummary {
  return { count: 1000, p50: base, p95: base * 4, p99: base * 17, p999: base * 50, max: base * 108 };
}

/** Engine stats with `streams` streams on `connections` connections; every counter wide. */
function stats(streams: number, connections = 1, messagesEach = 123_456): DashboardStats {
  const perStream: StreamStats[] = Array.from({ length: streams }, (_, i) => ({
    exchange: 'binance-usdm',
    channel: CHANNELS[i % CHANNELS.length]!,
    symbol: `SYM${Math.floor(i / CHANNELS.length)}/USDT:USDT`,
    messages: messagesEach + i,
  }));
  const conns: ConnectionStats[] = Array.from({ length: connections }, (_, i) => ({
    id: i + 1,
    exchange: 'binance-usdm',
    state: 'reconnecting',
    policy: 'conflate',
    streams: Math.ceil(streams / connections),
    frames: 0,
    bytes: 0,
    records: 0,
    dropped: 0,
    conflated: 0,
    badMessages: 0,
    resyncs: 0,
    reconnects: 0,
    pauses: 0,
  }));
  return {
    uptimeMs: 123_456_789,
    streams,
    messages: perStream.reduce((n, s) => n + s.messages, 0),
    latencyUs: { recvToConsume: latency(134), exchangeToConsume: latency(2_345) },
    drops: 1_234_567,
    gaps: 12_345,
    resyncs: 1_234,
    reconnects: 123,
    badMessages: 12,
    connections: conns,
    perStream,
  };
}

function width(line: string): number {
  return [...line].length;
}

function expectFits(text: string, size: { columns: number; rows: number }): string[] {
  const lines = text.split('\n');
  expect(lines.length).toBeLessThanOrEqual(size.rows);
  for (const line of lines) expect(width(line), line).toBeLessThanOrEqual(size.columns);
  return lines;
}

/** Every figure of the title, totals and latency lines, as it must appear somewhere in the view. */
function headerFigures(s: DashboardStats): string[] {
  const r = s.latencyUs.recvToConsume;
  const x = s.latencyUs.exchangeToConsume;
  return [
    'ringfeed',
    `${s.streams} streams`,
    `${s.connections.length} connections`,
    `${s.messages} msgs`,
    `drops ${s.drops}`,
    `gaps ${s.gaps}`,
    `resyncs ${s.resyncs}`,
    `reconnects ${s.reconnects}`,
    `bad ${s.badMessages}`,
    `recv→consume p50 ${r.p50}  p95 ${r.p95}  p99 ${r.p99}  max ${r.max}`,
    `exchange→consume p50 ${x.p50}  p99 ${x.p99}`,
  ];
}

describe('renderDashboard', () => {
  it('80×24 with 24 streams: title, totals and latency stay, no line is wider than 80, the rest is "+N more"', () => {
    const size = { columns: 80, rows: 24 };
    const s = stats(24, 3);
    const lines = expectFits(renderDashboard(s, undefined, 1000, size), size);
    expect(lines).toHaveLength(24);
    expect(lines[0]).toMatch(/^ringfeed — /);
    const text = lines.join('\n');
    for (const figure of headerFigures(s)) expect(text).toContain(figure);
    const streamRows = lines.filter((l) => l.startsWith('binance-usdm '));
    const more = lines.at(-1)!;
    expect(more).toMatch(/^\+\d+ more streams$/);
    expect(streamRows.length + Number(/\d+/.exec(more)![0])).toBe(24);
    // The header comes before any stream row.
    expect(lines.findIndex((l) => l.includes('exchange→consume'))).toBeLessThan(lines.indexOf(streamRows[0]!));
  });

  it('many connections stay on one line, the others counted', () => {
    const size = { columns: 80, rows: 24 };
    const lines = expectFits(renderDashboard(stats(24, 12), undefined, 1000, size), size);
    const connections = lines.filter((l) => l.startsWith('connections'));
    expect(connections).toHaveLength(1);
    expect(connections[0]).toMatch(/#1 binance-usdm reconnecting \(conflate\).*\+\d+ more$/);
  });

  it('a larger terminal shows every stream and the header on single lines', () => {
    const size = { columns: 200, rows: 60 };
    const s = stats(40, 2);
    const lines = expectFits(renderDashboard(s, undefined, 1000, size), size);
    expect(lines.filter((l) => l.startsWith('binance-usdm '))).toHaveLength(40);
    expect(lines.some((l) => l.includes('more'))).toBe(false);
    expect(lines[1]).toMatch(/^total .*bad 12$/);
    expect(lines[2]).toMatch(/^latency µs .*exchange→consume/);
  });

  it('per-stream rate is the change since the previous stats', () => {
    const size = { columns: 120, rows: 40 };
    const before = stats(4, 1, 1000);
    const after = stats(4, 1, 1500);
    const row = renderDashboard(after, before, 2000, size)
      .split('\n')
      .find((l) => l.startsWith('binance-usdm trades SYM0/USDT:USDT'))!;
    expect(row.split(/\s+/).slice(-2)).toEqual(['250', '1500']);
  });

  it.each([
    { columns: 40, rows: 10 },
    { columns: 20, rows: 4 },
    { columns: 1, rows: 1 },
  ])('a tiny terminal ($columns×$rows) still gets no overflowing line', (size) => {
    const lines = expectFits(renderDashboard(stats(24, 3), undefined, 1000, size), size);
    expect(lines[0]).toMatch(/^ringfeed|^…|^r/);
  });

  it('defaults to 80×24', () => {
    expect(FALLBACK_SIZE).toEqual({ columns: 80, rows: 24 });
    expectFits(renderDashboard(stats(30, 2), undefined, 1000), FALLBACK_SIZE);
  });
});

describe('terminalSize', () => {
  it('uses the TTY size, else 80×24', () => {
    expect(terminalSize({ isTTY: true, columns: 132, rows: 43 })).toEqual({ columns: 132, rows: 43 });
    expect(terminalSize({ isTTY: false, columns: 132, rows: 43 })).toEqual(FALLBACK_SIZE);
    expect(terminalSize({})).toEqual(FALLBACK_SIZE);
    expect(terminalSize({ isTTY: true, columns: 0, rows: 43 })).toEqual(FALLBACK_SIZE);
  });
});

describe('summaryLine', () => {
  it('names both latencies; latencyUs is the recv→consume one', () => {
    const s = stats(8, 1, 100);
    const summary = JSON.parse(summaryLine(s, 2));
    const r = s.latencyUs.recvToConsume;
    const x = s.latencyUs.exchangeToConsume;
    expect(summary.recvToConsumeUs).toEqual({ p50: r.p50, p95: r.p95, p99: r.p99, max: r.max });
    expect(summary.exchangeToConsumeUs).toEqual({ p50: x.p50, p95: x.p95, p99: x.p99, max: x.max });
    expect(summary.latencyUs).toEqual(summary.recvToConsumeUs);
    expect(summary).toMatchObject({ streams: 8, messages: s.messages, msgsPerSec: Math.round(s.messages / 2), drops: s.drops, gaps: s.gaps, reconnects: s.reconnects });
  });
});
