import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ResyncReason, StatusCode } from '../src/records/types.js';
import { parseCapture } from '../src/simulator/kit/replay.js';
import type { Channel, StreamSpec } from '../src/venues/contract.js';
import { okxInstId, okxSymbol } from '../src/venues/okx/channels.js';
import { okxChecksum } from '../src/venues/okx/checksum.js';
import { createOkxSession } from '../src/venues/okx/session.js';
import { socketVenue, venues } from '../src/venues/registry.js';
import { type Recorded, recordingContext } from './kit/recording-context.js';

/** The adapter as registered (exchange code and endpoint variables are assigned there). */
const okx = socketVenue('okx');

/** The kit's recording context for an OKX session (OKX has no REST here: a fetch fails). */
const fakeCtx = () => recordingContext({ rest: () => Promise.reject(new Error('no REST on okx')) });

function spec(channel: Channel, symbol: string, symbolId = 1, interval?: string): StreamSpec {
  return { channel, symbol, symbolId, native: okx.nativeSymbol(symbol), interval };
}

const fixture = (p: string) => new URL(`../../shared/fixtures/${p}`, import.meta.url);
const ccxt = JSON.parse(readFileSync(fixture('ccxt-ws/okx.json'), 'utf8')) as {
  methods: Record<string, Array<{ description: string; input: unknown[]; messages: unknown[]; parsedResponses?: unknown[] }>>;
};

/** Run one ccxt case through a session subscribed to `specs`; returns the records. */
function runCase(specs: StreamSpec[], messages: unknown[]): Recorded[] {
  const { ctx, recs } = fakeCtx();
  const s = createOkxSession(ctx);
  s.addStreams(specs);
  for (const m of messages) s.onMessage(JSON.stringify(m));
  return recs;
}

describe('okx adapter basics', () => {
  it('maps symbols both ways and rejects impossible ones', () => {
    expect(okxInstId('BTC/USDT')).toBe('BTC-USDT');
    expect(okxInstId('BTC/USDT:USDT')).toBe('BTC-USDT-SWAP');
    expect(okxInstId('BTC/USD:BTC')).toBe('BTC-USD-SWAP');
    expect(() => okx.nativeSymbol('BTC/USDT:ETH')).toThrow(/BTC\/USDT:ETH/);
    expect(() => okx.nativeSymbol('btc-usdt')).toThrow(/btc-usdt/);
    expect(okxSymbol('BTC-USD-SWAP')).toBe('BTC/USD:BTC');
    expect(okxSymbol('ETH-USDT-SWAP')).toBe('ETH/USDT:USDT');
  });

  it('puts candles on the business path and a separate socket', () => {
    const c = spec('candles', 'BTC/USDT', 1, '1m');
    const t = spec('trades', 'BTC/USDT');
    expect(okx.connectionKey!(c)).not.toBe(okx.connectionKey!(t));
    expect(okx.connectUrl('ws://h:1/', [c])).toBe('ws://h:1/ws/v5/business');
    expect(okx.connectUrl('ws://h:1', [t])).toBe('ws://h:1/ws/v5/public');
    expect(okx.appPing).toEqual({ intervalMs: 25_000, text: 'ping' });
  });

  it('builds subscribe frames (funding = funding-rate + mark-price + index-tickers of the index, swaps only) and swallows pong', () => {
    const { ctx } = fakeCtx();
    const s = createOkxSession(ctx);
    const specs = [spec('book', 'BTC/USDT'), spec('funding', 'BTC/USDT:USDT', 2), spec('funding', 'BTC/USDT', 3), spec('candles', 'ETH/USDT', 4, '1d')];
    expect(s.openMessages(specs).map((m) => JSON.parse(m))).toEqual([
      {
        op: 'subscribe',
        args: [
          { channel: 'books', instId: 'BTC-USDT' },
          { channel: 'funding-rate', instId: 'BTC-USDT-SWAP' },
          { channel: 'mark-price', instId: 'BTC-USDT-SWAP' },
          { channel: 'index-tickers', instId: 'BTC-USDT' },
          { channel: 'candle1Dutc', instId: 'ETH-USDT' },
        ],
      },
    ]);
    s.onMessage('pong');
    expect(s.stats.pongs).toBe(1);
    expect(() => s.onMessage('{"arg":{"channel":"trades"')).toThrow(/okx: bad JSON/);
  });
});

describe('okx normalization agrees with ccxt (ccxt-ws/okx.json)', () => {
  it('watchTrades: price, amount, side, timestamp, id', () => {
    for (const c of ccxt.methods.watchTrades) {
      const symbol = c.input[0] as string;
      const recs = runCase([spec('trades', symbol)], c.messages);
      const expected = (c.parsedResponses as Array<Array<Record<string, unknown>>>).flat();
      expect(recs).toHaveLength(expected.length);
      recs.forEach((r, i) => {
        const e = expected[i];
        expect(r).toMatchObject({ type: 'trade', ts: e.timestamp, seq: Number(e.id), price: e.price, amount: e.amount, side: e.side === 'buy' ? 1 : 2 });
      });
    }
  });

  it('watchTicker: last, open, high, low, bid, ask, timestamp', () => {
    for (const c of ccxt.methods.watchTicker) {
      const symbol = c.input[0] as string;
      const recs = runCase([spec('ticker', symbol)], c.messages);
      const expected = c.parsedResponses as Array<Record<string, number>>;
      expect(recs).toHaveLength(expected.length);
      recs.forEach((r, i) => {
        const e = expected[i];
        expect(r).toMatchObject({ type: 'ticker', ts: e.timestamp, fields: { last: e.last, open: e.open, high: e.high, low: e.low, bidPrice: e.bid, askPrice: e.ask } });
        if (symbol === 'BTC/USDT') {
          expect(r).toMatchObject({ fields: { baseVolume: e.baseVolume, quoteVolume: e.quoteVolume } });
        } else {
          // ccxt reports swap contracts (vol24h) as baseVolume; we report base currency (volCcy24h).
          expect(r).toMatchObject({ fields: { baseVolume: Number((e.info as unknown as Record<string, string>).volCcy24h) } });
        }
      });
    }
  });

  it('watchBidsAsks (from tickers): bid/ask prices and timestamp', () => {
    // ccxt's watchBidsAsks reads the tickers channel; bid/ask sizes are not part of TickerFields
    // (our `quotes` channel, bbo-tbt, carries them).
    const c = ccxt.methods.watchBidsAsks[0];
    const recs = runCase([spec('ticker', 'BTC/USDT')], c.messages);
    const e = (c.parsedResponses![0] as Record<string, Record<string, number>>)['BTC/USDT'];
    expect(recs[0]).toMatchObject({ ts: e.timestamp, fields: { bidPrice: e.bid, askPrice: e.ask } });
  });

  it('watchOHLCV: open time, OHLC, base volume, on candle1m', () => {
    for (const c of ccxt.methods.watchOHLCV) {
      const symbol = c.input[0] as string;
      const recs = runCase([spec('candles', symbol, 1, '1m')], c.messages);
      const expected = (c.parsedResponses as number[][][]).flat();
      expect(recs.map((r) => (r.type === 'candle' ? [r.openTs, r.open, r.high, r.low, r.close, r.volume] : r))).toEqual(expected);
      expect(recs.every((r) => r.type === 'candle' && r.intervalSec === 60 && r.closed === false)).toBe(true);
    }
  });

  it('watchOrderBook (books5 option): levels and timestamp of every snapshot', () => {
    for (const c of ccxt.methods.watchOrderBook) {
      const symbol = c.input[0] as string;
      const rc = fakeCtx();
      const s = createOkxSession(rc.ctx, { bookChannel: 'books5' });
      s.addStreams([spec('book', symbol)]);
      expect(JSON.parse(s.openMessages([spec('book', symbol)])[0]).args[0].channel).toBe('books5');
      for (const m of c.messages) s.onMessage(JSON.stringify(m));
      const books = rc.of('book');
      const expected = c.parsedResponses as Array<{ bids: number[][]; asks: number[][]; timestamp: number }>;
      expect(books).toHaveLength(expected.length);
      books.forEach((b, i) => {
        expect(b.snapshot).toBe(true);
        expect(b.ts).toBe(expected[i].timestamp);
        expect(b.bids).toEqual(expected[i].bids.map(([p, q]) => [p, q]));
        expect(b.asks).toEqual(expected[i].asks.map(([p, q]) => [p, q]));
      });
      expect(rc.of('status').map((r) => r.code)).toEqual([StatusCode.synced]);
    }
  });
});

describe('okx books checksum on the recorded capture (cryptofeed/OKX.ws.1.0)', () => {
  it('verifies all 3 snapshots and 287 updates with no resync', () => {
    const lines = parseCapture(readFileSync(fixture('cryptofeed/OKX.ws.1.0'), 'utf8'));
    const rc = fakeCtx();
    const s = createOkxSession(rc.ctx);
    // Streams are keyed by instId; BTC-USD-220527 is a dated future our symbols cannot name.
    s.addStreams(
      ['BTC-USD-220527', 'UNI-USD-SWAP', 'BTC-USDT'].map((native, i) => ({ channel: 'book' as const, symbol: `X${i}/USD`, symbolId: i + 1, native })),
    );
    let frames = 0;
    for (const l of lines) {
      if (l.kind !== 'received') continue;
      s.onMessage(l.payload);
      frames++;
    }
    expect(frames).toBe(410);
    expect(s.stats.checksumsVerified).toBe(290);
    expect(s.stats.checksumFailures).toBe(0);
    expect(rc.resyncs).toEqual([]);
    expect(rc.of('book').filter((r) => r.snapshot)).toHaveLength(3);
    expect(rc.of('book').filter((r) => !r.snapshot)).toHaveLength(287);
    for (const id of [1, 2, 3]) expect(s.book(id)!.book.isCrossed()).toBe(false);
  });

  it('computes the signed CRC32, continuing with the longer side', () => {
    // bids 1:2, 5:6 and ask 3:4 → "1:2:3:4:5:6"; asks 3:4, 7:8, 9:10 and bids 1:2, 5:6 → "1:2:3:4:5:6:7:8:9:10"
    expect(okxChecksum(['1', '2', '5', '6'], 2, ['3', '4'], 1)).toBe(-694787780);
    expect(okxChecksum(['1', '2', '5', '6'], 2, ['3', '4', '7', '8', '9', '10'], 3)).toBe(97850585);
  });
});

describe('okx books sequence rules', () => {
  const arg = { channel: 'books', instId: 'BTC-USDT' };
  function frame(action: string, bids: string[][], asks: string[][], seqId: number, prevSeqId: number): string {
    const body: Record<string, unknown> = { asks, bids, ts: '1700000000000', seqId, prevSeqId, checksum: 0 };
    return JSON.stringify({ arg, action, data: [body] });
  }
  function setup() {
    const rc = fakeCtx();
    const s = createOkxSession(rc.ctx, { minResyncIntervalMs: 0 });
    s.addStreams([spec('book', 'BTC/USDT', 7)]);
    s.onMessage(frame('snapshot', [['100', '1', '0', '1']], [['101', '2', '0', '1']], 10, -1));
    return { s, rc };
  }

  it('applies normal, no-change and reset updates; drops duplicates silently', () => {
    const { s, rc } = setup();
    s.onMessage(frame('update', [['100', '3', '0', '1']], [], 15, 10));
    s.onMessage(frame('update', [], [], 15, 15)); // no change
    s.onMessage(frame('update', [['100', '3', '0', '1']], [], 15, 10)); // duplicate (other socket)
    s.onMessage(frame('update', [], [['101', '0', '0', '0'], ['102', '1', '0', '1']], 3, 15)); // reset
    s.onMessage(frame('update', [['99', '1', '0', '1']], [], 5, 3));
    expect(rc.resyncs).toEqual([]);
    const books = rc.of('book');
    expect(books.map((b) => [b.firstSeq, b.seq])).toEqual([
      [Number.NaN, 10],
      [11, 15],
      [16, 3],
      [4, 5],
    ]);
    expect(s.stats.duplicates).toBe(1);
    expect(s.book(7)!.book.levels('bids')).toEqual([
      [100, 3],
      [99, 1],
    ]);
    expect(s.book(7)!.book.levels('asks')).toEqual([[102, 1]]);
  });

  it('a gap resyncs that book only: resync status, unsubscribe + subscribe, synced on the new snapshot', () => {
    const { s, rc } = setup();
    s.onMessage(frame('update', [['100', '3', '0', '1']], [], 20, 12));
    expect(rc.resyncs).toEqual([[7, ResyncReason.sequenceGap]]);
    expect(rc.sent.map((t) => JSON.parse(t))).toEqual([
      { op: 'unsubscribe', args: [arg] },
      { op: 'subscribe', args: [arg] },
    ]);
    s.onMessage(frame('update', [['100', '4', '0', '1']], [], 25, 20)); // old subscription: ignored
    s.onMessage(frame('snapshot', [['100', '5', '0', '1']], [['101', '1', '0', '1']], 30, -1));
    const statuses = rc.of('status').map((r) => [r.code, r.detail]);
    expect(statuses).toEqual([
      [StatusCode.synced, 10],
      [StatusCode.resync, ResyncReason.sequenceGap],
      [StatusCode.synced, 30],
    ]);
    expect(s.isSynced(7)).toBe(true);
  });

  it('a crossed book or a wrong checksum resyncs', () => {
    const a = setup();
    a.s.onMessage(frame('update', [['101.5', '1', '0', '1']], [], 11, 10));
    expect(a.rc.resyncs).toEqual([[7, ResyncReason.crossedBook]]);
    const b = setup();
    const good = okxChecksum(['100', '1'], 1, ['101', '2'], 1);
    const bad = JSON.stringify({ arg, action: 'update', data: [{ asks: [], bids: [], ts: '1', seqId: 10, prevSeqId: 10, checksum: good ^ 1 }] });
    const ok = JSON.stringify({ arg, action: 'update', data: [{ asks: [], bids: [], ts: '1', seqId: 10, prevSeqId: 10, checksum: good }] });
    b.s.onMessage(ok);
    expect(b.s.stats.checksumsVerified).toBe(1);
    b.s.onMessage(bad);
    expect(b.rc.resyncs).toEqual([[7, ResyncReason.checksum]]);
  });

  it('keeps the original strings for the checksum ("0.50" is not "0.5")', () => {
    const { s } = setup();
    s.onMessage(frame('update', [['100', '0.50', '0', '1']], [], 11, 10));
    expect(s.book(7)!.checksum()).toBe(okxChecksum(['100', '0.50'], 1, ['101', '2'], 1));
    expect(s.book(7)!.checksum()).not.toBe(okxChecksum(['100', '0.5'], 1, ['101', '2'], 1));
  });
});
