/**
 * Parser micro-benchmark for the hottest Binance frames: ns per message for `JSON.parse`,
 * `simdjson` (`parse`, and `lazyParse` + `valueForKeyPath` for the fields we need), the
 * schema-specific scanner (`src/parse/binance-scan.ts`), and the whole `BinanceSession.onMessage`
 * (normalization included, no-op sink) on each path. Each variant extracts the same fields and
 * turns decimal strings into numbers, so the figures compare like for like.
 *
 *   npx tsx bench/parsers.ts            prints a table
 *   import { runParserBench } from …    returns the rows
 *
 * Per message type it cycles through 256 distinct frames (ids, prices vary), runs each variant
 * `runs` times (interleaved) and reports the median ns/message.
 */

import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import simdjson from 'simdjson';
import { DEFAULT_LIMITS } from '../src/engine/options.js';
import { BinanceScanner, S_A, S_a, S_B, S_b, S_m, S_p, S_q, S_T, S_t, S_U, S_u } from '../src/parse/binance-scan.js';
import { createBinanceSession } from '../src/venues/binance/session.js';
import type { RecordSink, SessionContext } from '../src/venues/contract.js';

export interface ParserBenchRow {
  message: string;
  bytes: number;
  /** Median ns per message for each variant. */
  ns: Record<string, number>;
}

export interface ParserBenchOptions {
  runs?: number;
  /** Target wall time per run and variant (ms). */
  runMs?: number;
}

type Kind = 'trade' | 'aggTrade' | 'bookTicker' | 'depth20';
const KINDS: readonly Kind[] = ['trade', 'aggTrade', 'bookTicker', 'depth20'];

function frames(kind: Kind): string[] {
  const out: string[] = [];
  for (let i = 0; i < 256; i++) {
    const E = 1_700_000_000_000 + i * 7;
    const px = (64_000 + i * 0.1).toFixed(8);
    const qty = (0.001 * (i + 1)).toFixed(8);
    switch (kind) {
      case 'trade':
        out.push(
          `{"stream":"btcusdt@trade","data":{"e":"trade","E":${E},"s":"BTCUSDT","t":${3_000_000_000 + i},"p":"${px}","q":"${qty}","T":${E},"m":${i % 2 === 0},"M":true}}`,
        );
        break;
      case 'aggTrade':
        out.push(
          `{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":${E},"s":"BTCUSDT","a":${1_500_000_000 + i},"p":"${px}","q":"${qty}","f":${3_000_000_000 + 2 * i},"l":${3_000_000_001 + 2 * i},"T":${E},"m":${i % 2 === 0},"M":true}}`,
        );
        break;
      case 'bookTicker':
        out.push(
          `{"stream":"btcusdt@bookTicker","data":{"u":${40_000_000_000 + i},"s":"BTCUSDT","b":"${px}","B":"${qty}","a":"${(64_000.01 + i * 0.1).toFixed(8)}","A":"${qty}"}}`,
        );
        break;
      case 'depth20': {
        const lv = (side: number): string => {
          const a: string[] = [];
          // Bids below 63 026, asks above 64 999: replaying them never crosses the book.
          const mid = side < 0 ? 63_000 : 65_000;
          for (let k = 0; k < 10; k++) a.push(`["${(mid + side * (k + 1) * 0.01 + i * 0.1).toFixed(8)}","${(0.01 * (k + i + 1)).toFixed(8)}"]`);
          return `[${a.join(',')}]`;
        };
        const U = 40_000_000_000 + i * 10;
        out.push(
          `{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":${E},"s":"BTCUSDT","U":${U},"u":${U + 9},"b":${lv(-1)},"a":${lv(1)}}}`,
        );
        break;
      }
    }
  }
  return out.map(flat);
}

/**
 * Frames off a socket are flat strings (decoded from a Buffer); template literals build cons
 * strings, on which `charCodeAt` is much slower. Round-trip through a Buffer like `ws` does.
 */
function flat(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

let sinkHole = 0;
const dec = (v: unknown): number => (typeof v === 'string' ? +v : Number.NaN);

/** What each variant extracts (so that no variant gets away with doing less). */
function viaObject(kind: Kind, m: { data: Record<string, unknown> }): number {
  const d = m.data;
  switch (kind) {
    case 'trade':
      return (d.t as number) + (d.T as number) + dec(d.p) + dec(d.q) + (d.m ? 1 : 0);
    case 'aggTrade':
      return (d.a as number) + (d.T as number) + dec(d.p) + dec(d.q) + (d.m ? 1 : 0);
    case 'bookTicker':
      return (d.u as number) + dec(d.b) + dec(d.B) + dec(d.a) + dec(d.A);
    case 'depth20': {
      let s = (d.U as number) + (d.u as number);
      for (const side of [d.b, d.a] as [string, string][][]) for (const l of side) s += +l[0] + +l[1];
      return s;
    }
  }
}

function viaLazy(kind: Kind, t: simdjson.JSONTape): number {
  switch (kind) {
    case 'trade':
      return t.valueForKeyPath('data.t') + t.valueForKeyPath('data.T') + +t.valueForKeyPath('data.p') + +t.valueForKeyPath('data.q') + (t.valueForKeyPath('data.m') ? 1 : 0);
    case 'aggTrade':
      return t.valueForKeyPath('data.a') + t.valueForKeyPath('data.T') + +t.valueForKeyPath('data.p') + +t.valueForKeyPath('data.q') + (t.valueForKeyPath('data.m') ? 1 : 0);
    case 'bookTicker':
      return t.valueForKeyPath('data.u') + +t.valueForKeyPath('data.b') + +t.valueForKeyPath('data.B') + +t.valueForKeyPath('data.a') + +t.valueForKeyPath('data.A');
    case 'depth20': {
      let s = t.valueForKeyPath('data.U') + t.valueForKeyPath('data.u');
      for (const side of [t.valueForKeyPath('data.b'), t.valueForKeyPath('data.a')] as [string, string][][]) for (const l of side) s += +l[0] + +l[1];
      return s;
    }
  }
}

const scanner = new BinanceScanner();
function viaScanner(kind: Kind, text: string): number {
  if (!scanner.scan(text)) throw new Error('scanner fell back on a benchmark frame');
  const v = scanner.val;
  switch (kind) {
    case 'trade':
      return v[S_t] + v[S_T] + v[S_p] + v[S_q] + (scanner.type[S_m] === 4 ? 1 : 0);
    case 'aggTrade':
      return v[S_a] + v[S_T] + v[S_p] + v[S_q] + (scanner.type[S_m] === 4 ? 1 : 0);
    case 'bookTicker':
      return v[S_u] + v[S_b] + v[S_B] + v[S_a] + v[S_A];
    case 'depth20': {
      let s = v[S_U] + v[S_u];
      for (let i = 0; i < 2 * scanner.bidCount; i++) s += scanner.bids[i];
      for (let i = 0; i < 2 * scanner.askCount; i++) s += scanner.asks[i];
      return s;
    }
  }
}

function nullSink(): RecordSink {
  return {
    trade: (_a, _b, c) => {
      sinkHole += c;
    },
    quote: (_a, _b, c) => {
      sinkHole += c;
    },
    ticker: () => {},
    book: (_a, _b, _c, d) => {
      sinkHole += d;
    },
    candle: () => {},
    status: () => {},
  };
}

/** A fresh session; for depth its book is synced at lastUpdateId 1 once the returned promise settles. */
async function sessionFor(kind: Kind, parser: 'fast' | 'json') {
  const ctx: SessionContext = {
    limits: DEFAULT_LIMITS,
    sink: nullSink(),
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    restUrl: 'http://bench',
    fetchJson: () => Promise.resolve({ lastUpdateId: 1, bids: [], asks: [] }),
    send: () => {},
    onResync: () => {},
  };
  const s = createBinanceSession(ctx, { parser });
  const channel = kind === 'trade' ? 'trades' : kind === 'aggTrade' ? 'aggTrades' : kind === 'bookTicker' ? 'quotes' : 'book';
  s.addStreams([{ channel, symbol: 'BTC/USDT', symbolId: 1, native: 'BTCUSDT' }]);
  await new Promise((r) => setImmediate(r));
  if (kind === 'depth20' && !s.isSynced(1)) throw new Error('bench session did not sync');
  return s;
}

/**
 * Session frames must keep advancing ids or they would be dropped as duplicates: ids are
 * rewritten per lap of the 256 variants; depth frames form one contiguous U/u chain from 2.
 */
function sessionFrames(kind: Kind, n: number): string[] {
  const base = frames(kind);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const f = base[i % base.length];
    const lap = Math.floor(i / base.length);
    const bump = (s: string, key: string, by: number) =>
      s.replace(new RegExp(`"${key}":(\\d+)`), (_m, d: string) => `"${key}":${Number(d) + by}`);
    if (kind === 'trade') out.push(flat(bump(f, 't', lap * 256)));
    else if (kind === 'aggTrade') out.push(flat(bump(f, 'a', lap * 256)));
    else if (kind === 'bookTicker') out.push(flat(bump(f, 'u', lap * 256)));
    else {
      // Frame i covers [10i+2, 10i+11].
      out.push(flat(f.replace(/"U":\d+,"u":\d+/, `"U":${10 * i + 2},"u":${10 * i + 11}`)));
    }
  }
  return out;
}

function timeLoop(n: number, body: (i: number) => void): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) body(i);
  return ((performance.now() - t0) * 1e6) / n;
}

function record(results: Record<string, number[]>, name: string, ns: number): void {
  if (results[name] === undefined) results[name] = [];
  results[name].push(ns);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function runParserBench(opts: ParserBenchOptions = {}): Promise<ParserBenchRow[]> {
  const runs = opts.runs ?? 7;
  const runMs = opts.runMs ?? 150;
  const rows: ParserBenchRow[] = [];
  // Warm every code path on every message type first, so the first row is not measured cold.
  for (const kind of KINDS) {
    const fs = frames(kind);
    for (let i = 0; i < 20_000; i++) {
      const f = fs[i & 255];
      sinkHole += viaObject(kind, JSON.parse(f)) + viaScanner(kind, f);
      if (i < 2000) sinkHole += viaObject(kind, simdjson.parse(f)) + viaLazy(kind, simdjson.lazyParse(f));
    }
  }
  for (const kind of KINDS) {
    const fs = frames(kind);
    const variants: Record<string, (i: number) => void> = {
      'JSON.parse': (i) => {
        sinkHole += viaObject(kind, JSON.parse(fs[i & 255]));
      },
      'simdjson.parse': (i) => {
        sinkHole += viaObject(kind, simdjson.parse(fs[i & 255]));
      },
      'simdjson.lazyParse': (i) => {
        sinkHole += viaLazy(kind, simdjson.lazyParse(fs[i & 255]));
      },
      scanner: (i) => {
        sinkHole += viaScanner(kind, fs[i & 255]);
      },
    };
    // Calibrate iterations per variant to ~runMs, with a short warm-up.
    const iters: Record<string, number> = {};
    for (const [name, fn] of Object.entries(variants)) {
      timeLoop(2000, fn);
      const ns = timeLoop(2000, fn);
      iters[name] = Math.max(1000, Math.round((runMs * 1e6) / ns));
    }
    // Session end to end: each run starts a fresh session over the same frames.
    const sessIters = Math.min(iters['JSON.parse'], kind === 'depth20' ? 40_000 : 200_000);
    const sframes = sessionFrames(kind, sessIters);
    const results: Record<string, number[]> = {};
    for (let r = 0; r < runs; r++) {
      for (const [name, fn] of Object.entries(variants)) record(results, name, timeLoop(iters[name], fn));
      for (const parser of ['json', 'fast'] as const) {
        const s = await sessionFor(kind, parser);
        const ns = timeLoop(sessIters, (i) => s.onMessage(sframes[i]));
        if (s.stats.duplicates > 0 || s.stats.resyncs > 0) throw new Error('bench frames were not all applied');
        record(results, parser === 'json' ? 'session (JSON.parse)' : 'session (scanner)', ns);
      }
    }
    const ns: Record<string, number> = {};
    for (const [name, xs] of Object.entries(results)) ns[name] = Math.round(median(xs));
    rows.push({ message: kind, bytes: Math.round(fs.reduce((a, f) => a + f.length, 0) / fs.length), ns });
  }
  if (sinkHole === 42) console.log(''); // keep results observable
  return rows;
}

export function formatParserTable(rows: ParserBenchRow[]): string {
  const cols = Object.keys(rows[0].ns);
  const head = ['message', 'bytes', ...cols.map((c) => `${c} ns`), 'JSON.parse/scanner'];
  const lines = rows.map((r) => [
    r.message,
    String(r.bytes),
    ...cols.map((c) => String(r.ns[c])),
    (r.ns['JSON.parse'] / r.ns.scanner).toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (l: string[]) => l.map((x, i) => x.padStart(widths[i])).join('  ');
  return [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await runParserBench();
  console.log(`node ${process.version}, median of 7 runs, ns per message (lower is better)\n`);
  console.log(formatParserTable(rows));
}
