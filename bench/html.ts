/**
 * latest.html: one self-contained page (no scripts, no network) with a table and, per scenario,
 * an inline-SVG HDR-style latency plot: x = percentile on a log scale of 1/(1−p), y = µs (log).
 * Pure: report in, string out.
 */
import { fmt } from './console.js';
import type { Distribution, Measurement, Report, ScenarioReport } from './types.js';

const W = 640;
const H = 300;
const PAD = { l: 64, r: 110, t: 20, b: 40 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
/** The plot ends at 99.999 %; the maximum is drawn at the right edge. */
const X_MAX = 5;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** log10(1/(1−p)) for p in percent; 100 % maps to the right edge. */
export function percentileX(p: number): number {
  if (p >= 100) return X_MAX;
  return Math.min(X_MAX, Math.log10(1 / (1 - p / 100)));
}

interface Series {
  readonly name: string;
  readonly points: Distribution;
}

export function latencySvg(title: string, series: readonly Series[]): string {
  const all = series.flatMap((s) => s.points.map(([, v]) => v)).filter((v) => v > 0);
  const lo = Math.max(1, 10 ** Math.floor(Math.log10(Math.min(...all, 10))));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...all, lo * 10)));
  const px = (x: number): number => PAD.l + (x / X_MAX) * (W - PAD.l - PAD.r);
  const py = (v: number): number => {
    const f = (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo));
    return H - PAD.b - f * (H - PAD.t - PAD.b);
  };
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  for (let d = 0; d <= X_MAX; d++) {
    const label = d === 0 ? '0%' : `${(100 - 100 / 10 ** d).toFixed(Math.max(0, d - 2))}%`;
    parts.push(`<line x1="${px(d)}" y1="${PAD.t}" x2="${px(d)}" y2="${H - PAD.b}" stroke="#ddd"/>`);
    parts.push(`<text x="${px(d)}" y="${H - PAD.b + 16}" font-size="11" text-anchor="middle">${label}</text>`);
  }
  for (let e = Math.log10(lo); e <= Math.log10(hi); e++) {
    const v = 10 ** e;
    const label = v >= 1e6 ? `${v / 1e6} s` : v >= 1e3 ? `${v / 1e3} ms` : `${v} µs`;
    parts.push(`<line x1="${PAD.l}" y1="${py(v)}" x2="${W - PAD.r}" y2="${py(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${PAD.l - 6}" y="${py(v) + 4}" font-size="11" text-anchor="end">${label}</text>`);
  }
  parts.push(`<text x="${(PAD.l + W - PAD.r) / 2}" y="${H - 6}" font-size="11" text-anchor="middle">percentile (log scale of 1/(1−p)); right edge = max</text>`);
  parts.push(`<text x="${PAD.l}" y="${PAD.t - 6}" font-size="12" font-weight="bold">${esc(title)}</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const pts = s.points.map(([p, v]) => `${px(percentileX(p)).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
    if (pts) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts}"/>`);
    const ly = PAD.t + 14 + i * 16;
    parts.push(`<line x1="${W - PAD.r + 10}" y1="${ly - 4}" x2="${W - PAD.r + 28}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${W - PAD.r + 32}" y="${ly}" font-size="11">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Bars of ns/message per parser variant and message type (the parsers scenario). */
export function barsSvg(title: string, rows: ReadonlyArray<{ message: string; ns: Record<string, number> }>): string {
  const variants = [...new Set(rows.flatMap((r) => Object.keys(r.ns)))];
  const max = Math.max(1, ...rows.flatMap((r) => Object.values(r.ns)));
  const rowH = variants.length * 12 + 14;
  const h = PAD.t + rows.length * rowH + 30;
  const x0 = 120;
  const scale = (W - x0 - 60) / max;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" role="img" aria-label="${esc(title)}">`];
  parts.push(`<rect x="0" y="0" width="${W}" height="${h}" fill="#fff"/>`);
  parts.push(`<text x="4" y="14" font-size="12" font-weight="bold">${esc(title)}</text>`);
  rows.forEach((r, i) => {
    const y0 = PAD.t + i * rowH + 6;
    parts.push(`<text x="4" y="${y0 + 10}" font-size="11">${esc(r.message)}</text>`);
    variants.forEach((v, j) => {
      const ns = r.ns[v] ?? 0;
      const y = y0 + j * 12;
      parts.push(`<rect x="${x0}" y="${y}" width="${(ns * scale).toFixed(1)}" height="10" fill="${COLORS[j % COLORS.length]}"/>`);
      parts.push(`<text x="${x0 + ns * scale + 4}" y="${y + 9}" font-size="9">${ns} ns</text>`);
    });
  });
  let lx = 4;
  variants.forEach((v, j) => {
    parts.push(`<rect x="${lx}" y="${h - 16}" width="10" height="10" fill="${COLORS[j % COLORS.length]}"/>`);
    parts.push(`<text x="${lx + 13}" y="${h - 7}" font-size="9">${esc(v)}</text>`);
    lx += 20 + v.length * 5.5;
  });
  parts.push('</svg>');
  return parts.join('');
}

function ratio(n: number | null): string {
  return n === null ? '-' : `${n.toFixed(2)}`;
}

function row(scenario: string, name: string, m: Measurement, sustainable: number | null, ratios?: string): string {
  const l = m.latencyUs;
  const cells = [
    scenario,
    name,
    fmt(m.streams),
    fmt(m.offeredMsgsPerSec),
    fmt(m.deliveredMsgsPerSec),
    fmt(sustainable),
    fmt(m.cpuUsPerMsg, 2),
    fmt(l?.p50),
    fmt(l?.p99),
    fmt(l?.p999),
    fmt(l?.max),
    fmt(m.recvToConsumeUs?.p99),
    fmt(m.rssMb),
    fmt(m.drops),
    fmt(m.gaps),
    ratios ?? '',
  ];
  return `<tr>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
}

/** Per-venue rows of a scenario holding several venues (`details.venues`, the mixed-venues scenario). */
interface VenueRow {
  readonly venue: string;
  readonly streams: number;
  readonly offeredMsgsPerSec: number | null;
  readonly deliveredMsgsPerSec: number;
  readonly recvToConsumeUs: { p50: number; p99: number } | null;
  readonly exchangeToConsumeUs: { p50: number; p99: number } | null;
  readonly workerCpuUsPerMsg: number | null;
  readonly workerBusyUsPerMsg: number | null;
  readonly simCpuPct: number;
  readonly dropped: number;
  readonly tradeIdHoles: number;
  readonly recvDistribution: Distribution;
}

export function venueTable(rows: readonly VenueRow[]): string {
  const head = ['venue', 'streams', 'offered/s', 'delivered/s', 'recv→consume p50 / p99 µs', 'venue time→consume p50 / p99 µs', 'worker CPU µs/msg', 'worker busy µs/msg', 'simulator CPU %', 'drops', 'trade-id holes'];
  const pair = (l: { p50: number; p99: number } | null) => (l ? `${fmt(l.p50)} / ${fmt(l.p99)}` : '-');
  const body = rows.map((r) =>
    [r.venue, fmt(r.streams), fmt(r.offeredMsgsPerSec), fmt(r.deliveredMsgsPerSec), pair(r.recvToConsumeUs), pair(r.exchangeToConsumeUs), fmt(r.workerCpuUsPerMsg, 2), fmt(r.workerBusyUsPerMsg, 2), fmt(r.simCpuPct), fmt(r.dropped), fmt(r.tradeIdHoles)],
  );
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${body
    .map((cells) => `<tr>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function scenarioSection(s: ScenarioReport): string {
  const rows = s.details.parserRows as Array<{ message: string; ns: Record<string, number> }> | undefined;
  const venues = s.details.venues as VenueRow[] | undefined;
  if (venues && venues.length > 0) {
    const svg = latencySvg(`${s.name}: recv → consume latency per venue`, venues.map((v) => ({ name: v.venue, points: v.recvDistribution })));
    return `<section><h2>${esc(s.name)}</h2><p>${esc(s.description)}</p>${venueTable(venues)}${svg}</section>`;
  }
  const svg =
    rows && rows.length > 0
      ? barsSvg(`${s.name}: ns per message`, rows)
      : latencySvg(`${s.name}: exchange → consume latency`, [
          { name: 'ringfeed', points: s.distribution },
          ...s.peers.map((p) => ({ name: p.name, points: p.distribution })),
        ]);
  return `<section><h2>${esc(s.name)}</h2><p>${esc(s.description)}</p>${svg}</section>`;
}

export function buildHtml(report: Report): string {
  const head = [
    'scenario',
    'target',
    'streams',
    'offered/s',
    'delivered/s',
    'sustainable/s',
    'CPU µs/msg',
    'p50 µs',
    'p99 µs',
    'p99.9 µs',
    'max µs',
    'recv→consume p99 µs',
    'RSS MB',
    'drops',
    'gaps',
    'ringfeed÷peer (CPU / rate / P99)',
  ];
  const body: string[] = [];
  for (const s of report.scenarios) {
    body.push(row(s.name, 'ringfeed', s, s.sustainableMsgsPerSec));
    for (const p of s.peers) {
      const r = p.ratioVsRingfeed;
      body.push(row(s.name, p.name, p, p.sustainableMsgsPerSec, `${ratio(r.cpuUsPerMsg)} / ${ratio(r.sustainableRate)} / ${ratio(r.p99)}`));
    }
  }
  const notes = report.notes.map((n) => `<li>${esc(n)}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ringfeed bench ${esc(report.commit)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
td:first-child,td:nth-child(2),th{text-align:left}th{background:#f3f3f3}
section{display:inline-block;vertical-align:top;margin:16px 16px 0 0;max-width:660px}h2{font-size:16px;margin:0 0 4px}
section p{font-size:12px;color:#555;margin:0 0 6px}
</style></head><body>
<h1>ringfeed bench</h1>
<p>commit <b>${esc(report.commit)}</b>${report.commitDirty ? ' (uncommitted changes)' : ''} · ${esc(report.createdAt)} · node ${esc(report.node)} · ${report.cpus} CPUs (${esc(report.cpuModel)}) · ${report.quick ? 'quick' : 'full'} run</p>
<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${body.join('')}</tbody></table>
<p style="font-size:12px">Latency = exchange event time → consumption (same definition for every target). Ratios are ringfeed ÷ peer: below 1 is better for CPU and P99, above 1 is better for the sustainable rate.</p>
${notes ? `<ul style="font-size:12px">${notes}</ul>` : ''}
${report.scenarios.map(scenarioSection).join('\n')}
</body></html>
`;
}
