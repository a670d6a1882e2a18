/**
 * Per-tick parse CPU of the TWS API text protocol: ringfeed's `ib` session (framed bytes →
 * record sink, no allocation per field) against `@stoqey/ib`'s decoder (the same bytes → utf8
 * text → split on NUL → its Decoder → events), both on the same tick-by-tick trade messages.
 * Run: `npx tsx scripts/ib-parse-cpu.ts [ticks]`. Nothing is written to a ring: parse cost only.
 */
import { createRequire } from 'node:module';
import type { RecordSink, TcpSessionContext } from '../src/venues/contract.js';
import { createIbSession } from '../src/venues/ib/session.js';
import { twsMessage } from '../src/worker/framing.js';

const N = Number(process.argv[2] ?? 300_000);
const frames = Array.from({ length: 1000 }, (_, i) => twsMessage([99, 2, 2, 1700000000 + i, (190 + (i % 100) / 100).toFixed(2), 100 + i, 0, 'NASDAQ', '']));

function ours(): number {
  let sum = 0;
  const sink: RecordSink = {
    trade: (_id, _ts, _seq, _side, price) => {
      sum += price;
    },
    quote: () => {},
    ticker: () => {},
    book: () => {},
    candle: () => {},
    status: () => {},
  };
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  const ctx: TcpSessionContext = { sink, log, send: () => {}, onResync: () => {}, reject: () => {}, limits: { maxBookLevels: 1000, maxBufferedUpdates: 1000 } };
  const s = createIbSession(ctx);
  s.openMessages([]);
  s.addStreams([{ channel: 'trades', symbol: 'AAPL', symbolId: 1, native: 'STK:AAPL@SMART/USD' }]);
  s.onFrame(twsMessage([193, 't']));
  s.onFrame(twsMessage([9, 1, 1]));
  s.onFrame(twsMessage([10, 1, 'AAPL', 'STK', '', '', 0, '', 'SMART', 'USD', 'AAPL', 'NMS', 'NMS', 265598, 0.01, '']));
  s.onFrame(twsMessage([52, 1, 1])); // the trades request gets reqId 2
  const t0 = process.cpuUsage();
  for (let i = 0; i < N; i++) s.onFrame(frames[i % 1000]!);
  const t = process.cpuUsage(t0);
  if (!(sum > 0)) throw new Error('no trades parsed');
  s.onDisconnect();
  return ((t.user + t.system) * 1000) / N;
}

function stoqey(): number {
  const dist = createRequire(import.meta.url).resolve('@stoqey/ib').replace(/index\.js$/, '');
  const { Decoder } = createRequire(import.meta.url)(`${dist}core/io/decoder.js`);
  let count = 0;
  const decoder = new Decoder({
    serverVersion: 193,
    emitEvent: () => {
      count++;
    },
    emitError: () => {},
    emitInfo: () => {},
  });
  const t0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const f = frames[i % 1000]!;
    // What @stoqey/ib's socket does with one framed message before its decoder sees it.
    const tokens = f.subarray(4).toString('utf8').split('\0').slice(0, -1);
    decoder.enqueueMessage(tokens);
    decoder.process();
  }
  const t = process.cpuUsage(t0);
  if (count < N) throw new Error(`@stoqey/ib emitted ${count} events for ${N} ticks`);
  return ((t.user + t.system) * 1000) / N;
}

for (let round = 0; round < 3; round++) {
  const a = ours();
  const b = stoqey();
  process.stdout.write(`round ${round + 1}: ours ${a.toFixed(0)} ns/tick, @stoqey/ib ${b.toFixed(0)} ns/tick (${(b / a).toFixed(1)}x)\n`);
}
