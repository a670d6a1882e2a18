/**
 * Property tests over every venue in `test/kit/venue-cases.ts` (one table entry per venue):
 * random and mutated real messages through the venue session with a recording sink, and through
 * the real encoder + ring (every record read back). Case counts are printed at the end.
 * Mutations include non-finite numbers ("Infinity", 1e999): they must be rejected, never written.
 * WebSocket venues use recorded text frames; TCP venues (Futu, IB) binary frames captured from
 * their simulators (test/kit/captured-frames.ts), mutated inside and outside their framing.
 */

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { PolicySink } from '../src/backpressure/policy-sink.js';
import { RecordEncoder } from '../src/records/encoder.js';
import { SymbolTable } from '../src/records/symbols.js';
import { type MarketRecord, StatusCode } from '../src/records/types.js';
import { RecordView } from '../src/records/view.js';
import { createRing, RingReader, RingWriter } from '../src/ring/ring.js';
import { mulberry32 } from '../src/simulator/kit/rng.js';
import type { RecordSink, StreamSpec } from '../src/venues/contract.js';
import { type CapturedVenueCase, capturedSession, captureFrames, mutateCaptured } from './kit/captured-frames.js';
import { quietContext } from './kit/recording-context.js';
import { CAPTURED_CASES, RECORDED_CASES, type RecordedVenueCase, recordedSession } from './kit/venue-cases.js';

const RUNS = Number(process.env.RINGFEED_PROPERTY_RUNS ?? 2000);
const casesRun = new Map<string, number>();
afterAll(() => {
  const lines = ['property cases run:'];
  for (const [name, n] of casesRun) lines.push(`  ${name}: ${n}`);
  console.log(lines.join('\n'));
});
function counted(name: string, n: number): void {
  casesRun.set(name, (casesRun.get(name) ?? 0) + n);
}

/** Numbers a recording sink saw: every argument of every call. */
interface Recorded {
  calls: Array<{ kind: string; args: unknown[] }>;
}

function recordingSink(rec: Recorded): RecordSink {
  const push = (kind: string) => (...args: unknown[]) => {
    const copy = args.map((a) => (ArrayBuffer.isView(a) || Array.isArray(a) ? Array.from(a as ArrayLike<number>) : typeof a === 'object' && a ? { ...a } : a));
    rec.calls.push({ kind, args: copy });
  };
  return {
    trade: push('trade'),
    quote: push('quote'),
    ticker: push('ticker'),
    book: push('book'),
    candle: push('candle'),
    status: push('status'),
  };
}

/** What a property run needs of a venue: real frames, mutations of them, a session on a sink. */
interface PropertyCase<F extends string | Buffer> {
  readonly id: string;
  readonly exchangeCode: number;
  readonly streams: readonly StreamSpec[];
  readonly frames: readonly F[];
  /** Frames every session is fed first (TCP: the captured session, handshake and books). */
  readonly warm: readonly F[];
  readonly minSinkCalls: number;
  /** Session sequences to try (captured sessions are longer to replay). */
  readonly runs: number;
  readonly arb: fc.Arbitrary<F>;
  open(sink: RecordSink): { feed(frame: F): void; close(): void };
}

function recordedCase(v: RecordedVenueCase): PropertyCase<string> {
  return {
    id: v.id,
    exchangeCode: v.adapter.exchangeCode,
    streams: v.recorded.streams,
    frames: v.recorded.frames,
    warm: [],
    minSinkCalls: v.recorded.minSinkCalls ?? 50,
    runs: RUNS,
    arb: frameArb(v),
    open(sink) {
      const s = recordedSession(v, quietContext(sink));
      s.addStreams(v.recorded.streams);
      return { feed: (f) => s.onMessage(f), close: () => s.onDisconnect() };
    },
  };
}

function capturedCase(v: CapturedVenueCase, frames: readonly Buffer[]): PropertyCase<Buffer> {
  return {
    id: v.id,
    exchangeCode: v.adapter.exchangeCode,
    streams: v.captured.streams,
    frames,
    warm: frames,
    minSinkCalls: v.captured.minSinkCalls,
    runs: Math.max(200, RUNS / 4),
    arb: fc.oneof(
      { arbitrary: fc.constantFrom(...frames), weight: 1 },
      { arbitrary: fc.nat().map((seed) => mutateCaptured(v.captured, frames, mulberry32(seed))), weight: 6 },
    ),
    open(sink) {
      const s = capturedSession(v, sink);
      return { feed: (f) => s.onFrame(f), close: () => s.onDisconnect() };
    },
  };
}


// ─── mutations ────────────────────────────────────────────────────────────────────────────

const WEIRD: unknown[] = [
  null,
  '',
  'abc',
  '-1',
  -1,
  0,
  '0',
  1e308,
  '1e308',
  -0,
  Number.MAX_SAFE_INTEGER + 2,
  [],
  {},
  true,
  'x'.repeat(10_000),
  [['1', '2', '3']],
  [[null, null]],
];

const replacement = fc.oneof(
  fc.constantFrom(...WEIRD),
  fc.jsonValue({ maxDepth: 3 }).filter((x) => JSON.stringify(x) !== undefined),
  fc.double({ noNaN: true }),
  fc.double({ noNaN: true }).map(String),
  fc.constantFrom('Infinity', '-Infinity', '1e999'),
  fc.integer(),
);

/** Walks to a pseudo-random node of `root` and replaces or deletes it. */
function mutateAt(root: unknown, pick: number, value: unknown, del: boolean): unknown {
  const nodes: Array<{ parent: Record<string, unknown> | unknown[]; key: string | number }> = [];
  const walk = (x: unknown) => {
    if (Array.isArray(x)) {
      for (let i = 0; i < x.length; i++) {
        nodes.push({ parent: x, key: i });
        walk(x[i]);
      }
    } else if (x && typeof x === 'object') {
      for (const [k, v] of Object.entries(x)) {
        nodes.push({ parent: x as Record<string, unknown>, key: k });
        walk(v);
      }
    }
  };
  walk(root);
  if (nodes.length === 0) return value;
  const n = nodes[pick % nodes.length]!;
  if (del && !Array.isArray(n.parent)) delete (n.parent as Record<string, unknown>)[n.key as string];
  else (n.parent as Record<string | number, unknown>)[n.key] = value;
  return root;
}

function frameArb(v: RecordedVenueCase): fc.Arbitrary<string> {
  const real = fc.constantFrom(...v.recorded.frames);
  const structural = fc
    .tuple(real, fc.nat(), replacement, fc.boolean(), fc.integer({ min: 1, max: 3 }))
    .map(([f, pick, value, del, times]) => {
      let root: unknown = JSON.parse(f);
      for (let i = 0; i < times; i++) root = mutateAt(root, pick * (i + 7), structuredClone(value), del && i === 0);
      return JSON.stringify(root);
    });
  const bytes = fc.tuple(real, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 32, max: 126 })), { maxLength: 8 })).map(([f, flips]) => {
    const chars = [...f];
    for (const [at, c] of flips) chars[at % chars.length] = String.fromCharCode(c);
    return chars.join('');
  });
  const truncated = fc.tuple(real, fc.nat()).map(([f, n]) => f.slice(0, n % (f.length + 1)));
  const spliced = fc.tuple(real, real, fc.nat(), fc.nat()).map(([a, b, i, j]) => a.slice(0, i % (a.length + 1)) + b.slice(j % (b.length + 1)));
  const deep = fc.integer({ min: 1, max: 5000 }).map((d) => `${'['.repeat(d)}${']'.repeat(d)}`);
  const random = fc.json({ maxDepth: 4 });
  return fc.oneof(
    { arbitrary: real, weight: 2 },
    { arbitrary: structural, weight: 6 },
    { arbitrary: bytes, weight: 3 },
    { arbitrary: truncated, weight: 2 },
    { arbitrary: spliced, weight: 2 },
    { arbitrary: deep, weight: 1 },
    { arbitrary: random, weight: 1 },
  );
}

/** Numeric fields that must be finite in a record written as valid (NaN means "not provided"). */
function nonFinite(call: { kind: string; args: unknown[] }): string | undefined {
  const bad = (x: unknown) => typeof x === 'number' && !Number.isNaN(x) && !Number.isFinite(x);
  const { kind, args } = call;
  if (kind === 'trade' || kind === 'quote' || kind === 'candle') {
    const i = args.slice(1).findIndex(bad);
    return i >= 0 ? `${kind} argument ${i + 1} is ${String(args[i + 1])}` : undefined;
  }
  if (kind === 'book') {
    const [, , , , , bids, bidCount, asks, askCount] = args as [unknown, unknown, unknown, unknown, unknown, number[], number, number[], number];
    if ([...bids.slice(0, 2 * bidCount), ...asks.slice(0, 2 * askCount)].some(bad)) return 'book level is not finite';
  }
  return undefined;
}

const CASES: readonly PropertyCase<string | Buffer>[] = [
  ...RECORDED_CASES.map(recordedCase),
  ...(await Promise.all(CAPTURED_CASES.map(async (v) => capturedCase(v, await captureFrames(v))))),
] as readonly PropertyCase<string | Buffer>[];

describe.each(CASES)('$id session under random and mutated real frames', (v) => {
  it('real frames all parse (sanity)', () => {
    const rec: Recorded = { calls: [] };
    const s = v.open(recordingSink(rec));
    const errors: string[] = [];
    for (const f of v.frames) {
      try {
        s.feed(f);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    s.close();
    expect(errors).toEqual([]);
    expect(rec.calls.length).toBeGreaterThan(v.minSinkCalls);
    counted(`${v.id}: real frames`, v.frames.length);
  });

  it('never throws anything but a plain Error naming the venue; bad frames write nothing; numbers finite', () => {
    let cases = 0;
    let bad = 0;
    fc.assert(
      fc.property(fc.array(v.arb, { minLength: 1, maxLength: 20 }), (frames) => {
        cases++;
        const rec: Recorded = { calls: [] };
        const s = v.open(recordingSink(rec));
        for (const f of v.warm) s.feed(f);
        for (const f of frames) {
          const before = rec.calls.length;
          let threw: unknown;
          try {
            s.feed(f);
          } catch (err) {
            threw = err;
          }
          if (threw !== undefined) {
            bad++;
            expect(Object.getPrototypeOf(threw)).toBe(Error.prototype);
            expect((threw as Error).message).toMatch(new RegExp(v.id, 'i'));
            // Counted once by the caller: no data of a rejected frame reached the sink; the only
            // record it may cause is the resync status of the book it concerned.
            const written = rec.calls.slice(before);
            expect(written.filter((c) => c.kind !== 'status')).toEqual([]);
            for (const c of written) expect(c.args[1]).toBe(StatusCode.resync);
          }
          for (const c of rec.calls.slice(before)) expect(nonFinite(c)).toBeUndefined();
        }
        s.close();
      }),
      { numRuns: v.runs, seed: 42 },
    );
    counted(`${v.id}: session sequences (≤20 frames each)`, cases);
    counted(`${v.id}: rejected frames seen`, bad);
    expect(bad).toBeGreaterThan(0);
  });

  it('through the real encoder + ring: every record reads back intact', () => {
    let cases = 0;
    let records = 0;
    fc.assert(
      fc.property(fc.array(v.arb, { minLength: 1, maxLength: 40 }), fc.constantFrom(4096, 8192, 65536), (frames, cap) => {
        cases++;
        const symbols = new SymbolTable();
        symbols.registerExchange(v.exchangeCode, v.id);
        for (const st of v.streams) symbols.intern(v.id, st.symbol);
        const sab = createRing(cap);
        const writer = new RingWriter(sab);
        const reader = new RingReader(sab);
        const encoder = new RecordEncoder(writer, v.exchangeCode);
        const sink = new PolicySink(encoder, 'block');
        const s = v.open(sink);
        const view = new RecordView(symbols);
        const out: MarketRecord[] = [];
        const drain = () => {
          writer.publish();
          for (let off = reader.next(); off >= 0; off = reader.next()) {
            out.push(view.bind(reader, off).toObject());
            reader.advance();
          }
          reader.release();
        };
        for (const f of [...v.warm, ...frames]) {
          encoder.recvTs = 1;
          try {
            s.feed(f);
          } catch {
            sink.status(0, 8, 1);
          }
          while (!sink.flush()) drain();
          drain();
        }
        s.close();
        expect(out.map((r) => r.streamSeq)).toEqual(out.map((_, i) => i));
        for (const r of out) {
          expect(r.exchange).toBe(v.id);
          if (r.type !== 'status') expect(v.streams.some((st) => st.symbol === r.symbol)).toBe(true);
        }
        expect(encoder.recordsWritten).toBe(out.length);
        records += out.length;
      }),
      { numRuns: Math.max(200, v.runs / 4), seed: 43 },
    );
    counted(`${v.id}: encoder+ring sequences`, cases);
    counted(`${v.id}: records read back`, records);
  });
});

describe.each(RECORDED_CASES.map(recordedCase))('$id session under hostile JSON keys', (v) => {
  it('__proto__ / constructor / prototype keys change nothing', () => {
    let cases = 0;
    const keys = ['__proto__', 'constructor', 'prototype'];
    fc.assert(
      fc.property(fc.constantFrom(...v.frames), fc.constantFrom(...keys), fc.nat(), (frame, key, pick) => {
        cases++;
        const clean: Recorded = { calls: [] };
        const dirty: Recorded = { calls: [] };
        const a = v.open(recordingSink(clean));
        const b = v.open(recordingSink(dirty));
        const evil = `{"${key}":{"polluted":"yes","prototype":{"polluted":"yes"}},`;
        // Insert the hostile key into a pseudo-random object of the frame (as raw JSON text).
        const opens = [...frame.matchAll(/\{/g)].map((m) => m.index!);
        const at = opens[pick % opens.length]!;
        const hostile = frame.slice(0, at) + evil + frame.slice(at + 1);
        let cleanErr: string | undefined;
        let dirtyErr: string | undefined;
        try {
          a.feed(frame);
        } catch (err) {
          cleanErr = (err as Error).message;
        }
        try {
          b.feed(hostile);
        } catch (err) {
          dirtyErr = (err as Error).message;
        }
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
        expect(cleanErr).toBeUndefined();
        if (dirtyErr === undefined) expect(dirty.calls).toEqual(clean.calls);
        else expect(dirtyErr).toMatch(new RegExp(v.id, 'i'));
      }),
      { numRuns: RUNS / 2, seed: 44 },
    );
    counted(`${v.id}: prototype-pollution frames`, cases);
  });
});
