/**
 * Per-tick CPU of the Futu parse path: a Qot_UpdateTicker push (one ticker) and a
 * Qot_UpdateOrderBook push (10 levels a side) through FutuSession.onFrame (SHA-1 check, protobuf
 * decode, normalization, book delta) into a sink that counts. `npx tsx bench/futu-parse.ts`
 */

import type { RecordSink, StreamSpec } from '../src/venues/contract.js';
import { encodePacket } from '../src/venues/futu/codec.js';
import { encode, FutuMessages as M } from '../src/venues/futu/messages.js';
import { ProtoId } from '../src/venues/futu/protocol.js';
import { FutuSession } from '../src/venues/futu/session.js';

let records = 0;
const count = () => {
  records++;
};
const sink: RecordSink = { trade: count, quote: count, ticker: count, book: count, candle: count, status: count };
const session = new FutuSession({
  sink,
  log: { debug() {}, info() {}, warn() {}, error() {} },
  send() {},
  onResync() {},
  reject() {},
  limits: { maxBookLevels: 5000, maxBufferedUpdates: 10_000 },
});
const spec = (channel: StreamSpec['channel']): StreamSpec => ({ channel, symbol: 'HK.00700', symbolId: 1, native: 'HK.00700' });
session.addStreams([spec('trades'), spec('book'), spec('quotes')]);
const security = { market: 1, code: '00700' };
const N = 200_000;
const tickers = Array.from({ length: N }, (_, i) =>
  encodePacket(ProtoId.QotUpdateTicker, 0, encode(M.QotUpdateTicker, {
    retType: 0,
    s2c: { security, tickerList: [{ time: '', sequence: i + 1, dir: 1 + (i % 2), price: 380 + (i % 7) / 10, volume: 100, turnover: 38000, timestamp: 1.7e9 + i / 100 }] },
  })),
);
const books = Array.from({ length: 1000 }, (_, j) =>
  encodePacket(ProtoId.QotUpdateOrderBook, 0, encode(M.QotUpdateOrderBook, {
    retType: 0,
    s2c: {
      security,
      orderBookBidList: Array.from({ length: 10 }, (_, i) => ({ price: 380 - i / 10, volume: 100 * (1 + ((i + j) % 9)), orederCount: 1 })),
      orderBookAskList: Array.from({ length: 10 }, (_, i) => ({ price: 380.1 + i / 10, volume: 100 * (1 + ((i * j) % 9)), orederCount: 1 })),
      svrRecvTimeBidTimestamp: 1.7e9,
    },
  })),
);
function time(label: string, frames: Buffer[], rounds: number): void {
  for (let i = 0; i < Math.min(frames.length, 20_000); i++) session.onFrame(frames[i]!); // warm-up
  const start = process.cpuUsage();
  let n = 0;
  for (let r = 0; r < rounds; r++) for (const f of frames) {
    session.onFrame(f);
    n++;
  }
  const used = process.cpuUsage(start);
  console.log(`${label}: ${(((used.user + used.system) / n)).toFixed(2)} µs CPU per push (${n} pushes)`);
}
time('Qot_UpdateTicker (1 ticker → trade)', tickers, 1);
time('Qot_UpdateOrderBook (10×2 levels → book delta + quote)', books, 100);
console.log('records', records);
