import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { RecordEncoder, venueTime } from '../src/records/encoder.js';
import { bookRecordSize, CANDLE_SIZE, QUOTE_SIZE, STATUS_SIZE, TICKER_SIZE, TRADE_SIZE } from '../src/records/layout.js';
import { SymbolTable } from '../src/records/symbols.js';
import type { Level, MarketRecord } from '../src/records/types.js';
import { Side, StatusCode } from '../src/records/types.js';
import { RecordView } from '../src/records/view.js';
import { createRing, RingReader, RingWriter } from '../src/ring/ring.js';
import type { TickerFields } from '../src/venues/contract.js';

const EX = 7;

function setup(capacity = 4096) {
  const symbols = new SymbolTable();
  symbols.registerExchange(EX, 'binance');
  const btc = symbols.intern('binance', 'BTC/USDT');
  const eth = symbols.intern('binance', 'ETH/USDT');
  const sab = createRing(capacity);
  const writer = new RingWriter(sab);
  const reader = new RingReader(sab);
  const enc = new RecordEncoder(writer, EX);
  const view = new RecordView(symbols);
  /** Read every published record as plain objects (and release). */
  const drain = (): MarketRecord[] => {
    const out: MarketRecord[] = [];
    for (let off = reader.next(); off >= 0; off = reader.next()) {
      out.push(view.bind(reader, off).toObject());
      reader.advance();
    }
    reader.release();
    return out;
  };
  return { symbols, btc, eth, sab, writer, reader, enc, view, drain };
}

const tickerFields = (v: number[]): TickerFields => ({
  last: v[0],
  open: v[1],
  high: v[2],
  low: v[3],
  baseVolume: v[4],
  quoteVolume: v[5],
  bidPrice: v[6],
  askPrice: v[7],
  markPrice: v[8],
  indexPrice: v[9],
  fundingRate: v[10],
  nextFundingTs: v[11],
});

describe('RecordEncoder → RecordView round trip', () => {
  let t: ReturnType<typeof setup>;
  beforeEach(() => {
    t = setup();
    t.enc.recvTs = 1_700_000_000_123.456;
  });
  const base = { exchange: 'binance', symbol: 'BTC/USDT', recvTs: 1_700_000_000_123.456 };

  it('trade', () => {
    expect(t.enc.trade(t.btc, 1_700_000_000_000, 12345, Side.sell, 43210.5, 0.0125)).toBe(true);
    t.enc.publish();
    const [r] = t.drain();
    expect(r).toEqual({
      type: 'trade',
      ...base,
      exchangeTs: 1_700_000_000_000,
      seq: 12345,
      streamSeq: 0,
      side: 'sell',
      price: 43210.5,
      amount: 0.0125,
      tradeId: '',
    });
    expect(Object.isFrozen(r)).toBe(true);
  });

  it('trade with a text trade id (a UUID): carried whole, the record 8-byte aligned; seq stays NaN', () => {
    const uuid = '8c2b8d3e-3f7a-4c1e-9a57-0e2f6c1d9b42';
    expect(t.enc.trade(t.btc, 1_700_000_000_000, Number.NaN, Side.buy, 1, 2, uuid)).toBe(true);
    expect(t.enc.trade(t.btc, 1_700_000_000_001, 7, Side.buy, 1, 2)).toBe(true);
    t.enc.publish();
    const [a, b] = t.drain();
    expect(a).toMatchObject({ type: 'trade', seq: Number.NaN, tradeId: uuid, streamSeq: 0 });
    expect(b).toMatchObject({ type: 'trade', seq: 7, tradeId: '', streamSeq: 1 });
  });

  it('trade sides', () => {
    for (const side of [Side.unknown, Side.buy, Side.sell]) t.enc.trade(t.btc, 1, 1, side, 1, 1);
    t.enc.publish();
    expect(t.drain().map((r) => (r.type === 'trade' ? r.side : ''))).toEqual(['unknown', 'buy', 'sell']);
  });

  it('quote, with NaN exchangeTs and seq', () => {
    expect(t.enc.quote(t.eth, Number.NaN, Number.NaN, 2000.1, 3, 2000.2, 4.5)).toBe(true);
    t.enc.publish();
    expect(t.drain()).toEqual([
      {
        type: 'quote',
        ...base,
        symbol: 'ETH/USDT',
        exchangeTs: Number.NaN,
        seq: Number.NaN,
        streamSeq: 0,
        bidPrice: 2000.1,
        bidAmount: 3,
        askPrice: 2000.2,
        askAmount: 4.5,
      },
    ]);
  });

  it('ticker, every field in order, NaN where missing', () => {
    const v = [1, 2, 3, 4, 5, 6, 7, 8, Number.NaN, Number.NaN, -0.0001, 1_700_028_800_000];
    expect(t.enc.ticker(t.btc, 1_700_000_000_005, 6, tickerFields(v))).toBe(true);
    t.enc.publish();
    expect(t.drain()).toEqual([
      { type: 'ticker', ...base, exchangeTs: 1_700_000_000_005, seq: 6, streamSeq: 0, ...tickerFields(v) },
    ]);
  });

  it('candle (open and closed)', () => {
    t.enc.candle(t.btc, 1_700_000_000_010, 11, 60, 1_700_000_040_000, 1, 2, 0.5, 1.5, 100, false);
    t.enc.candle(t.btc, 1_700_000_000_012, 13, 3600, 1_700_000_000_000, 10, 20, 5, 15, 0, true);
    t.enc.publish();
    const c = { type: 'candle', ...base } as const;
    expect(t.drain()).toEqual([
      { ...c, exchangeTs: 1_700_000_000_010, seq: 11, streamSeq: 0, intervalSec: 60, openTs: 1_700_000_040_000, open: 1, high: 2, low: 0.5, close: 1.5, volume: 100, closed: false },
      { ...c, exchangeTs: 1_700_000_000_012, seq: 13, streamSeq: 1, intervalSec: 3600, openTs: 1_700_000_000_000, open: 10, high: 20, low: 5, close: 15, volume: 0, closed: true },
    ]);
  });

  it('status (connection-wide and per symbol)', () => {
    expect(t.enc.status(0, StatusCode.disconnected, 1006)).toBe(true);
    expect(t.enc.status(t.btc, StatusCode.resync, 1)).toBe(true);
    t.enc.publish();
    const s = { type: 'status', exchange: 'binance', recvTs: base.recvTs, exchangeTs: Number.NaN, seq: Number.NaN } as const;
    expect(t.drain()).toEqual([
      { ...s, symbol: '', streamSeq: 0, status: 'disconnected', detail: 1006 },
      { ...s, symbol: 'BTC/USDT', streamSeq: 1, status: 'resync', detail: 1 },
    ]);
  });

  it('a venue time that is not a time (before 2009: a placeholder such as year 1; over a day after receipt) is NaN', () => {
    const year1 = Date.UTC(1, 0, 1); // Coinbase's "0001-01-01T00:00:00.000000Z"
    const inTwoDays = base.recvTs + 2 * 86_400_000;
    for (const ts of [year1, 0, -1, inTwoDays]) t.enc.trade(t.btc, ts, 1, Side.buy, 1, 1);
    t.enc.trade(t.btc, base.recvTs + 3_600_000, 1, Side.buy, 1, 1); // an hour ahead (clock skew): kept
    t.enc.candle(t.btc, 1_700_000_000_000, 1, 60, year1, 1, 1, 1, 1, 1, false);
    const f = tickerFields([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, inTwoDays]);
    t.enc.ticker(t.btc, 1_700_000_000_000, 1, f);
    t.enc.publish();
    const [a, b, c, d, skewed, candle, ticker] = t.drain();
    expect([a, b, c, d].map((r) => r!.exchangeTs)).toEqual([Number.NaN, Number.NaN, Number.NaN, Number.NaN]);
    expect(skewed!.exchangeTs).toBe(base.recvTs + 3_600_000);
    expect(candle).toMatchObject({ exchangeTs: 1_700_000_000_000, openTs: Number.NaN });
    expect(ticker).toMatchObject({ exchangeTs: 1_700_000_000_000, nextFundingTs: Number.NaN });
  });

  it('status rejects unknown codes', () => {
    expect(() => t.enc.status(0, 99, 0)).toThrow(RangeError);
    expect(t.enc.recordsWritten).toBe(0);
  });

  it('book with no levels', () => {
    expect(t.enc.book(t.btc, 1_700_000_000_001, Number.NaN, 2, false, [], 0, [], 0)).toBe(true);
    t.enc.publish();
    const [r] = t.drain();
    expect(r).toEqual({ type: 'book', ...base, exchangeTs: 1_700_000_000_001, seq: 2, streamSeq: 0, snapshot: false, firstSeq: Number.NaN, bids: [], asks: [] });
    expect(t.writer.u32[0]).toBe(bookRecordSize(0, 0));
  });

  it('book with many levels, reading only bidCount/askCount of reused scratch arrays', () => {
    const t2 = setup(1 << 16);
    const bids: number[] = [];
    const asks: number[] = [];
    for (let i = 0; i < 500; i++) bids.push(100 - i * 0.01, i + 1);
    for (let i = 0; i < 700; i++) asks.push(100.01 + i * 0.01, i === 3 ? 0 : i + 0.5);
    expect(t2.enc.book(t2.btc, 9, 1000, 1010, true, [...bids, 1, 2, 3], 500, asks, 650)).toBe(true);
    t2.enc.publish();
    const off = t2.reader.next();
    const v = t2.view.bind(t2.reader, off);
    expect(v.bidCount).toBe(500);
    expect(v.askCount).toBe(650);
    expect(v.snapshot).toBe(true);
    expect(v.firstSeq).toBe(1000);
    expect(v.bidPriceAt(499)).toBe(bids[998]);
    expect(v.askAmountAt(3)).toBe(0);
    expect(v.askPriceAt(649)).toBe(asks[1298]);
    const r = v.toObject();
    if (r.type !== 'book') throw new Error('not a book');
    const levels = (flat: number[], n: number): Level[] =>
      Array.from({ length: n }, (_, i) => [flat[2 * i], flat[2 * i + 1]] as const);
    expect(r.bids).toEqual(levels(bids, 500));
    expect(r.asks).toEqual(levels(asks, 650));
    expect(Object.isFrozen(r.bids) && Object.isFrozen(r.bids[0])).toBe(true);
    expect(t2.writer.u32[off >>> 2]).toBe(bookRecordSize(500, 650));
  });

  it('book larger than half the ring is a RangeError; bad counts too', () => {
    const big = new Array(2 * 200).fill(1);
    expect(() => t.enc.book(t.btc, 1, 1, 1, true, big, 200, big, 0)).toThrow(RangeError);
    expect(() => t.enc.book(t.btc, 1, 1, 1, true, [1, 2], 2, [], 0)).toThrow(RangeError);
    expect(t.enc.recordsWritten).toBe(0);
  });

  it('returns false when the ring is full, without advancing streamSeq', () => {
    let n = 0;
    while (t.enc.trade(t.btc, 1, n, 1, 1, 1)) n++;
    expect(n).toBe(Math.floor(4096 / TRADE_SIZE)); // 8 bytes left
    expect(t.enc.recordsWritten).toBe(n);
    expect(t.enc.quote(t.btc, 1, 1, 1, 1, 1, 1)).toBe(false);
    expect(t.enc.status(0, StatusCode.dropped, 1)).toBe(false);
    expect(t.enc.recordsWritten).toBe(n);
    t.enc.publish();
    const got = t.drain();
    expect(got.map((r) => r.streamSeq)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(t.enc.trade(t.btc, 1, 1, 1, 1, 1)).toBe(true);
    t.enc.publish();
    expect(t.drain()[0].streamSeq).toBe(n);
  });

  it('streamSeq continues from firstStreamSeq and wraps at 2^32', () => {
    const enc = new RecordEncoder(t.writer, EX, 0xffffffff);
    enc.trade(t.btc, 1, 1, 1, 1, 1);
    enc.trade(t.btc, 1, 1, 1, 1, 1);
    enc.publish();
    expect(t.drain().map((r) => r.streamSeq)).toEqual([0xffffffff, 0]);
    expect(enc.recordsWritten).toBe(1);
  });

  it('records are the documented sizes and 8-aligned', () => {
    expect([TRADE_SIZE, QUOTE_SIZE, TICKER_SIZE, CANDLE_SIZE, STATUS_SIZE, bookRecordSize(1, 2)]).toEqual([56, 72, 136, 96, 56, 104]);
    t.enc.trade(t.btc, 1, 1, 1, 1, 1);
    t.enc.ticker(t.btc, 1, 1, tickerFields(new Array(12).fill(1)));
    t.enc.publish();
    expect(t.reader.next()).toBe(0);
    t.reader.advance();
    expect(t.reader.next()).toBe(56);
    expect(t.writer.u8[56 + 4]).toBe(3);
    expect(t.writer.u8[56 + 5]).toBe(EX);
  });

  it('view getters dispatch shared names by type (quote vs ticker, ticker vs candle)', () => {
    t.enc.quote(t.btc, 1, 1, 10, 11, 12, 13);
    t.enc.ticker(t.btc, 1, 1, tickerFields([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
    t.enc.candle(t.btc, 1, 1, 60, 0, 21, 22, 23, 24, 25, true);
    t.enc.publish();
    const v = t.view;
    v.bind(t.reader, t.reader.next());
    expect([v.type, v.bidPrice, v.askPrice]).toEqual(['quote', 10, 12]);
    t.reader.advance();
    v.bind(t.reader, t.reader.next());
    expect([v.type, v.bidPrice, v.askPrice, v.open, v.high, v.low]).toEqual(['ticker', 7, 8, 2, 3, 4]);
    t.reader.advance();
    v.bind(t.reader, t.reader.next());
    expect([v.type, v.open, v.high, v.low, v.close, v.volume, v.closed]).toEqual(['candle', 21, 22, 23, 24, 25, true]);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: any sequence of records, written in batches through a small ring with interleaved
// reads (so it wraps and pads many times), reads back exactly.

type Op =
  | { k: 'trade'; sym: number; ts: number; seq: number; side: number; price: number; amount: number; id: string }
  | { k: 'quote'; sym: number; ts: number; seq: number; v: number[] }
  | { k: 'ticker'; sym: number; ts: number; seq: number; v: number[] }
  | { k: 'book'; sym: number; ts: number; first: number; seq: number; snap: boolean; bids: number[]; asks: number[] }
  | { k: 'candle'; sym: number; ts: number; seq: number; v: number[]; closed: boolean }
  | { k: 'status'; sym: number; code: number; detail: number };

const num = fc.double();
const sym = fc.constantFrom(0, 1, 2);
const flat = (max: number) => fc.array(fc.tuple(num, num), { maxLength: max }).map((l) => l.flat());
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    k: fc.constant('trade' as const),
    sym,
    ts: num,
    seq: num,
    side: fc.constantFrom(0, 1, 2),
    price: num,
    amount: num,
    id: fc.oneof(fc.constant(''), fc.stringMatching(/^[\x21-\x7e]{1,64}$/), fc.uuid()),
  }),
  fc.record({ k: fc.constant('quote' as const), sym, ts: num, seq: num, v: fc.array(num, { minLength: 4, maxLength: 4 }) }),
  fc.record({ k: fc.constant('ticker' as const), sym, ts: num, seq: num, v: fc.array(num, { minLength: 12, maxLength: 12 }) }),
  fc.record({ k: fc.constant('book' as const), sym, ts: num, first: num, seq: num, snap: fc.boolean(), bids: flat(60), asks: flat(60) }),
  fc.record({ k: fc.constant('candle' as const), sym, ts: num, seq: num, v: fc.array(num, { minLength: 7, maxLength: 7 }), closed: fc.boolean() }),
  fc.record({ k: fc.constant('status' as const), sym, code: fc.constantFrom(...Object.values(StatusCode)), detail: num }),
);

function encode(enc: RecordEncoder, op: Op): boolean {
  switch (op.k) {
    case 'trade':
      return enc.trade(op.sym, op.ts, op.seq, op.side, op.price, op.amount, op.id);
    case 'quote':
      return enc.quote(op.sym, op.ts, op.seq, op.v[0], op.v[1], op.v[2], op.v[3]);
    case 'ticker':
      return enc.ticker(op.sym, op.ts, op.seq, tickerFields(op.v));
    case 'book':
      return enc.book(op.sym, op.ts, op.first, op.seq, op.snap, op.bids, op.bids.length / 2, op.asks, op.asks.length / 2);
    case 'candle':
      return enc.candle(op.sym, op.ts, op.seq, op.v[0], op.v[1], op.v[2], op.v[3], op.v[4], op.v[5], op.v[6], op.closed);
    case 'status':
      return enc.status(op.sym, op.code, op.detail);
  }
}

const SYMBOLS = ['', 'BTC/USDT', 'ETH/USDT'];
const SIDES = ['unknown', 'buy', 'sell'] as const;
const STATUS_NAMES = Object.fromEntries(Object.entries(StatusCode).map(([k, v]) => [v, k]));

function expected(op: Op, streamSeq: number, recvTs: number): MarketRecord {
  const levels = (f: number[]) => Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]] as const);
  const b = { exchange: 'binance', symbol: SYMBOLS[op.sym], recvTs, streamSeq };
  switch (op.k) {
    case 'trade':
      return { ...b, type: 'trade', exchangeTs: venueTime(op.ts, recvTs), seq: op.seq, side: SIDES[op.side], price: op.price, amount: op.amount, tradeId: op.id };
    case 'quote':
      return { ...b, type: 'quote', exchangeTs: venueTime(op.ts, recvTs), seq: op.seq, bidPrice: op.v[0], bidAmount: op.v[1], askPrice: op.v[2], askAmount: op.v[3] };
    case 'ticker':
      return { ...b, type: 'ticker', exchangeTs: venueTime(op.ts, recvTs), seq: op.seq, ...tickerFields(op.v), nextFundingTs: venueTime(op.v[11]!, recvTs) };
    case 'book':
      return { ...b, type: 'book', exchangeTs: venueTime(op.ts, recvTs), seq: op.seq, firstSeq: op.first, snapshot: op.snap, bids: levels(op.bids), asks: levels(op.asks) };
    case 'candle': {
      const [intervalSec, openTs, open, high, low, close, volume] = op.v;
      return { ...b, type: 'candle', exchangeTs: venueTime(op.ts, recvTs), seq: op.seq, intervalSec, openTs: venueTime(openTs!, recvTs), open, high, low, close, volume, closed: op.closed };
    }
    case 'status':
      return { ...b, type: 'status', exchangeTs: Number.NaN, seq: Number.NaN, status: STATUS_NAMES[op.code], detail: op.detail } as MarketRecord;
  }
}

describe('round trip property', () => {
  it('any record sequence survives a small wrapping ring, read in place', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(opArb, fc.double({ noNaN: true })), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 20 }),
        (ops, batch) => {
          const t = setup(4096);
          const want: MarketRecord[] = [];
          const got: MarketRecord[] = [];
          let pending = 0;
          const read = () => {
            for (let off = t.reader.next(); off >= 0; off = t.reader.next()) {
              got.push(t.view.bind(t.reader, off).toObject());
              t.reader.advance();
            }
            t.reader.release();
          };
          for (const [op, recvTs] of ops) {
            t.enc.recvTs = recvTs;
            if (!encode(t.enc, op)) {
              t.enc.publish();
              read();
              pending = 0;
              expect(encode(t.enc, op)).toBe(true);
            }
            want.push(expected(op, want.length, recvTs));
            if (++pending >= batch) {
              t.enc.publish();
              pending = 0;
              if (want.length % 3 === 0) read();
            }
          }
          t.enc.publish();
          read();
          expect(got).toEqual(want);
          expect(t.enc.recordsWritten).toBe(ops.length);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('wraps with padding in the long run', () => {
    const t = setup(4096);
    let wraps = 0;
    let paddings = 0;
    let lastEnd = 0;
    for (let i = 0; i < 1000; i++) {
      expect(t.enc.book(t.btc, i, i, i, false, [1, 2, 3, 4], i % 3, [5, 6], 1)).toBe(true);
      t.enc.publish();
      const off = t.reader.next();
      if (off === 0 && i > 0) {
        wraps++;
        if (lastEnd !== 4096) paddings++;
      }
      lastEnd = off + t.view.bind(t.reader, off).length;
      const r = t.view.bind(t.reader, off).toObject();
      expect(r).toMatchObject({ type: 'book', seq: i, streamSeq: i });
      t.reader.advance();
      t.reader.release();
    }
    expect(wraps).toBeGreaterThan(15);
    expect(paddings).toBeGreaterThan(5);
  });
});

describe('SymbolTable', () => {
  it('interns ids from 1 per (exchange, symbol); 0 is connection-wide', () => {
    const s = new SymbolTable();
    expect(s.intern('binance', 'BTC/USDT')).toBe(1);
    expect(s.intern('binance', 'ETH/USDT')).toBe(2);
    expect(s.intern('binance', 'BTC/USDT')).toBe(1);
    expect(s.intern('okx', 'BTC/USDT')).toBe(3);
    expect(s.symbol(0)).toBe('');
    expect(s.symbol(3)).toBe('BTC/USDT');
    expect(s.exchangeOf(3)).toBe('okx');
    expect(s.exchangeOf(0)).toBe('');
    expect(s.symbol(99)).toBe('');
    expect(s.lookup('okx', 'ETH/USDT')).toBeUndefined();
    expect(s.size).toBe(3);
  });

  it('registers exchange codes once', () => {
    const s = new SymbolTable();
    s.registerExchange(1, 'binance');
    s.registerExchange(1, 'binance');
    expect(s.exchangeName(1)).toBe('binance');
    expect(s.exchangeCode('binance')).toBe(1);
    expect(s.exchangeName(2)).toBe('');
    expect(() => s.registerExchange(1, 'okx')).toThrow(/already registered/);
    expect(() => s.registerExchange(2, 'binance')).toThrow(/already registered/);
    expect(() => s.registerExchange(0, 'x')).toThrow(RangeError);
    expect(() => s.registerExchange(256, 'x')).toThrow(RangeError);
  });
});
