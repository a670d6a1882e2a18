/**
 * Coverage-less mutation fuzzer over the venue parsers (every venue in test/kit/venue-cases.ts) and
 * the record encoder → ring → reader path. Not coverage-guided: see scripts/README.md. WebSocket
 * venues mutate recorded text frames; TCP venues (Futu, IB) frames captured from their simulators
 * at start (test/kit/captured-frames.ts), reframed after the mutation or with the framing broken.
 *
 *   npx tsx scripts/fuzz.ts --seconds 60 [--seed 1]
 *
 * A crash is: an exception other than a plain Error naming the venue, a non-finite price or
 * amount written as a valid record, or a record that does not read back intact. Each crash is
 * written to /tmp/ringfeed-fuzz-<venue>-<n>.txt (the exact input, one frame per line; binary
 * frames in hex, after the captured session they follow).
 */

import { writeFileSync } from 'node:fs';
import { PolicySink } from '../src/backpressure/policy-sink.js';
import { RecordEncoder } from '../src/records/encoder.js';
import { SymbolTable } from '../src/records/symbols.js';
import { RecordView } from '../src/records/view.js';
import { createRing, RingReader, RingWriter } from '../src/ring/ring.js';
import { mulberry32 } from '../src/simulator/kit/rng.js';
import type { RecordSink, SessionContext, StreamSpec } from '../src/venues/contract.js';
import { capturedSession, captureFrames, mutateCaptured } from '../test/kit/captured-frames.js';
import { quietContext } from '../test/kit/recording-context.js';
import { CAPTURED_CASES, RECORDED_CASES, recordedSession } from '../test/kit/venue-cases.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const seconds = arg('seconds', 30);
const seed0 = arg('seed', Date.now() % 1e9) >>> 0;
const rnd = mulberry32(seed0);
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
const int = (n: number) => Math.floor(rnd() * n);

const NUMBERS = ['1e999', '-1e999', 'Infinity', '"Infinity"', '"NaN"', '1e308', '-0', '9007199254740993', '"0x10"', '"1e-400"', '""', 'null', '"-5"'];

function mutate(frames: readonly string[]): string {
  let s = pick(frames);
  const ops = 1 + int(3);
  for (let k = 0; k < ops; k++) {
    switch (int(8)) {
      case 0: {
        // byte flips
        const b = Buffer.from(s);
        for (let i = 0, n = 1 + int(4); i < n; i++) b[int(b.length)] = int(256);
        s = b.toString('utf8');
        break;
      }
      case 1:
        s = s.slice(0, int(s.length + 1));
        break;
      case 2: {
        const o = pick(frames);
        s = s.slice(0, int(s.length + 1)) + o.slice(int(o.length + 1));
        break;
      }
      case 3: {
        const d = 1 + int(20_000);
        s = `${'['.repeat(d)}${s}${']'.repeat(d)}`;
        break;
      }
      case 4: // a number or a quoted decimal replaced by something extreme
        s = s.replace(/-?\d+(\.\d+)?|"-?\d+(\.\d+)?"/g, (m) => (rnd() < 0.15 ? pick(NUMBERS) : m));
        break;
      case 5: // a long string
        s = s.replace(/"[^"]*"/, `"${'A'.repeat(1 + int(1_000_000))}"`);
        break;
      case 6: // hostile keys
        s = s.replace('{', pick(['{"__proto__":{"polluted":1},', '{"constructor":{"prototype":{"polluted":1}},', '{"toString":1,']));
        break;
      default: // duplicate a key with another value
        s = s.replace(/"(\w)":/, (_m, k) => `"${k}":${pick(NUMBERS)},"${k}":`);
    }
  }
  return s;
}

interface Crash {
  venue: string;
  problem: string;
  input: string[];
}
const crashes: Crash[] = [];
let execs = 0;
const deadline = Date.now() + seconds * 1000;
const quiet = () => {};

/** One venue to fuzz: its streams, a session on a sink, the next mutated frame. */
interface Target {
  readonly id: string;
  readonly exchangeCode: number;
  readonly streams: readonly StreamSpec[];
  /** Frames each session is fed first (TCP: the captured session). */
  readonly warm: readonly Buffer[];
  open(ctx: SessionContext): { feed(frame: string | Buffer): void; close(): void };
  mutate(): string | Buffer;
}

const targets: Target[] = RECORDED_CASES.map((v) => ({
  id: v.id,
  exchangeCode: v.adapter.exchangeCode,
  streams: v.recorded.streams,
  warm: [],
  open(ctx) {
    const s = recordedSession(v, ctx);
    s.addStreams(v.recorded.streams);
    return { feed: (f) => s.onMessage(f as string), close: () => s.onDisconnect() };
  },
  mutate: () => mutate(v.recorded.frames),
}));
for (const v of CAPTURED_CASES) {
  const frames = await captureFrames(v);
  targets.push({
    id: v.id,
    exchangeCode: v.adapter.exchangeCode,
    streams: v.captured.streams,
    warm: frames,
    open(ctx) {
      const s = capturedSession(v, ctx.sink);
      return { feed: (f) => s.onFrame(f as Buffer), close: () => s.onDisconnect() };
    },
    mutate: () => mutateCaptured(v.captured, frames, rnd),
  });
}

const show = (f: string | Buffer) => (typeof f === 'string' ? f : f.toString('hex'));

for (const v of targets) {
  const symbols = new SymbolTable();
  symbols.registerExchange(v.exchangeCode, v.id);
  for (const st of v.streams) symbols.intern(v.id, st.symbol);
  const view = new RecordView(symbols);
  const budgetEnd = Date.now() + (deadline - Date.now()) / (targets.length - targets.indexOf(v));
  const seen = new Set<string>();
  while (Date.now() < budgetEnd) {
    const sab = createRing(1 << (12 + int(5)));
    const writer = new RingWriter(sab);
    const reader = new RingReader(sab);
    const encoder = new RecordEncoder(writer, v.exchangeCode);
    const policy = new PolicySink(encoder, 'block');
    let badNumber: string | undefined;
    const check = (kind: string, nums: number[]) => {
      for (const x of nums) if (typeof x === 'number' && !Number.isNaN(x) && !Number.isFinite(x)) badNumber ??= `${kind} with ${x}`;
    };
    // A checking sink in front of the real one.
    const sink: RecordSink = {
      trade: (...a) => (check('trade', a.slice(1) as number[]), policy.trade(...a)),
      quote: (...a) => (check('quote', a.slice(1) as number[]), policy.quote(...a)),
      ticker: (...a) => policy.ticker(...a),
      book: (...a) => {
        const [, , , , , bids, bc, asks, ac] = a;
        check('book', [...Array.from(bids).slice(0, 2 * bc), ...Array.from(asks).slice(0, 2 * ac)]);
        return policy.book(...a);
      },
      candle: (...a) => (check('candle', a.slice(5, 10) as number[]), policy.candle(...a)),
      status: (...a) => policy.status(...a),
    };
    const ctx = quietContext(sink);
    const session = v.open(ctx);
    const input: string[] = [];
    let expected = 0;
    let read = 0;
    const drain = () => {
      writer.publish();
      for (let off = reader.next(); off >= 0; off = reader.next()) {
        const r = view.bind(reader, off).toObject();
        if (r.streamSeq !== read) throw new Error(`ring: streamSeq ${r.streamSeq} where ${read} was expected`);
        read++;
        reader.advance();
      }
      reader.release();
    };
    for (const f of v.warm) {
      session.feed(f);
      while (!policy.flush()) drain();
      drain();
    }
    for (let i = 0; i < 16; i++) {
      const frame = v.mutate();
      input.push(show(frame));
      execs++;
      let problem: string | undefined;
      try {
        session.feed(frame);
      } catch (err) {
        // A record larger than half of a deliberately small ring (4–64 KiB here, 4 MiB by default)
        // is the configuration error the engine logs ("raise ringBytes"), not a parser bug.
        const tooBigForRing = err instanceof RangeError && err.message.includes('raise ringBytes');
        const ok =
          tooBigForRing ||
          (err instanceof Error && Object.getPrototypeOf(err) === Error.prototype && new RegExp(v.id, 'i').test(err.message));
        if (!ok) problem = `threw ${(err as Error)?.constructor?.name}: ${String((err as Error)?.message).slice(0, 200)}`;
      }
      if (!problem && badNumber) problem = `non-finite number written: ${badNumber}`;
      try {
        while (!policy.flush()) drain();
        drain();
        expected = encoder.recordsWritten;
        if (read !== expected) problem ??= `ring: read ${read} of ${expected} records`;
      } catch (err) {
        problem ??= (err as Error).message;
      }
      if (problem) {
        const key = problem.replace(/[\d.e+-]+/g, '#').slice(0, 80);
        if (!seen.has(key)) {
          seen.add(key);
          crashes.push({ venue: v.id, problem, input: [...input] });
        }
        break;
      }
    }
    session.close();
  }
}

const elapsed = seconds;
console.log(`fuzz: seed ${seed0}, ${execs} executions in ${elapsed} s (${Math.round(execs / elapsed)}/s), ${crashes.length} distinct crash kinds`);
crashes.forEach((c, i) => {
  const file = `/tmp/ringfeed-fuzz-${c.venue}-${i + 1}.txt`;
  writeFileSync(file, `${c.input.map((l) => (l.length > 100_000 ? `${l.slice(0, 100_000)}…(truncated)` : l)).join('\n')}\n`);
  console.log(`  [${c.venue}] ${c.problem}\n    reproducer: ${file} (feed the lines in order to a fresh session)`);
});
process.exitCode = crashes.length > 0 ? 1 : 0;
