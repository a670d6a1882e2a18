/**
 * Instruments named by the unified grammar, end to end through real workers against the venue
 * simulators: Kraken's case-preserved tokenised stocks (`AAPLx/USD`), OKX's dated futures and
 * options, Bybit's linear futures. Trades stream and books equal the simulator's; an expiry the
 * venue does not list is refused for that stream only (the venue's refusal, named).
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { SubscriptionRejection } from '../src/engine/events.js';
import type { BookRecord, MarketRecord, TradeRecord } from '../src/records/types.js';
import { startBybitSimulator, startKrakenSimulator, startOkxSimulator } from '../src/simulator/index.js';
import { booksAfterEach } from './helpers/books.js';
import { statuses, venueRig } from './helpers/engine.js';
import { waitFor } from './helpers/wait.js';

const okxRig = venueRig('okx');
const bybitRig = venueRig('bybit');
const krakenRig = venueRig('kraken');

const count = (records: MarketRecord[], type: string, symbol: string): number =>
  records.filter((r) => r.type === type && r.symbol === symbol).length;

interface BookTruth {
  lastUpdateId: number;
  bids: [number, number][];
  asks: [number, number][];
}

/** Waits until the book rebuilt from `symbol`'s records is at the simulator's last update id; compares it. */
async function expectBookMatches(records: MarketRecord[], symbol: string, truth: () => BookTruth): Promise<void> {
  const books = () => records.filter((r): r is BookRecord => r.type === 'book' && r.symbol === symbol);
  await waitFor(() => books().at(-1)?.seq === truth().lastUpdateId, `our ${symbol} book at the simulator's update id`);
  const t = truth();
  const ours = booksAfterEach(books()).at(-1)!;
  expect(books()[0]!.snapshot).toBe(true);
  expect(t.bids.length).toBeGreaterThan(5);
  expect(ours.bids).toEqual(t.bids);
  expect(ours.asks).toEqual(t.asks);
}

function expectTradesOf(records: MarketRecord[], symbol: string, exchange: string): void {
  const trades = records.filter((r): r is TradeRecord => r.type === 'trade' && r.symbol === symbol);
  expect(trades.length).toBeGreaterThanOrEqual(3);
  for (const t of trades) {
    expect(t.exchange).toBe(exchange);
    expect(t.price).toBeGreaterThan(0);
    expect(t.amount).toBeGreaterThan(0);
  }
}

describe('dated futures and options through the engine', () => {
  it('okx: an inverse future, a linear future and an option stream trades and exact books; an unlisted expiry is refused alone', async () => {
    const sim = await startOkxSimulator({ seed: 7, ratePerInstrument: 60 });
    const { engine, records } = okxRig.start(sim);
    const rejected: SubscriptionRejection[] = [];
    engine.on('rejected', (r) => rejected.push(r));
    const listed: Record<string, string> = {
      'BTC/USD:BTC-261225': 'BTC-USD-261225',
      'BTC/USDT:USDT-261225': 'BTC-USDT-261225',
      'BTC/USD:BTC-261225-100000-C': 'BTC-USD-261225-100000-C',
    };
    const unlisted = 'BTC/USD:BTC-261226-100000-C';
    engine.subscribe({ exchange: 'okx', channels: ['trades', 'book', 'ticker'], symbols: [...Object.keys(listed), unlisted] });
    await waitFor(
      () => Object.keys(listed).every((s) => ['trade', 'book', 'ticker'].every((t) => count(records, t, s) >= 3)),
      'three trades, books and tickers of every listed okx future and option',
    );
    for (const [symbol, instId] of Object.entries(listed)) {
      expectTradesOf(records, symbol, 'okx');
      await expectBookMatches(records, symbol, () => sim.book(instId));
      expect(statuses(records, symbol)).toEqual(['synced']);
    }
    await waitFor(() => rejected.length >= 3, 'the unlisted option refused on each of its channels');
    expect(new Set(rejected.map((r) => r.symbol))).toEqual(new Set([unlisted]));
    for (const r of rejected) {
      expect(r.code).toBe('ERR_BAD_SYMBOL');
      expect(r.message).toContain('BTC-USD-261226-100000-C');
    }
    expect(count(records, 'trade', unlisted)).toBe(0);
    expect(engine.stats().badMessages).toBe(0);
    expect(engine.stats().integrityErrors).toBe(0);
  });

  it('bybit: USDT and USDC linear futures stream trades, tickers and exact books on the linear socket', async () => {
    const sim = await startBybitSimulator({ seed: 9, ratePerStream: 40, tickerRate: 20 });
    const { engine, records } = bybitRig.start(sim);
    const rejected: SubscriptionRejection[] = [];
    engine.on('rejected', (r) => rejected.push(r));
    const listed: Record<string, string> = { 'BTC/USDT:USDT-261225': 'BTCUSDT-25DEC26', 'BTC/USDC:USDC-261225': 'BTC-25DEC26' };
    const unlisted = 'BTC/USDT:USDT-270326';
    engine.subscribe({ exchange: 'bybit', channels: ['trades', 'book', 'ticker'], symbols: [...Object.keys(listed), unlisted] });
    await waitFor(
      () => Object.keys(listed).every((s) => ['trade', 'book', 'ticker'].every((t) => count(records, t, s) >= 3)),
      'three trades, books and tickers of every listed bybit future',
    );
    for (const [symbol, native] of Object.entries(listed)) {
      expectTradesOf(records, symbol, 'bybit');
      await expectBookMatches(records, symbol, () => sim.book(native, 'linear'));
      expect(statuses(records, symbol)).toEqual(['synced']);
    }
    await waitFor(() => rejected.length >= 1, 'the unlisted future refused');
    expect(new Set(rejected.map((r) => r.symbol))).toEqual(new Set([unlisted]));
    expect(rejected.every((r) => r.code === 'ERR_BAD_SYMBOL')).toBe(true);
    expect(engine.stats().connections).toHaveLength(1);
    expect(engine.stats().badMessages).toBe(0);
  });
});

describe('bybit options', () => {
  it("options stream trades (routed by option from the base coin's topic) and a 25-level book equal to the simulator's", async () => {
    const call = 'BTC/USDC:USDC-261225-100000-C';
    const put = 'BTC/USDC:USDC-261225-90000-P';
    const sim = await startBybitSimulator({
      seed: 11,
      ratePerStream: 60,
      options: ['BTC-25DEC26-100000-C', 'BTC-25DEC26-90000-P', 'BTC-25DEC26-110000-C'],
    });
    // A raw subscriber to the same topic: which option each trade id belongs to, as Bybit says.
    const ws = new WebSocket(`${sim.wsUrl}/v5/public/option`);
    const optionOf = new Map<string, string>();
    ws.on('message', (m) => {
      const f = JSON.parse(String(m)) as { topic?: string; data?: Array<{ s: string; i: string }> };
      if (f.topic === 'publicTrade.BTC') for (const t of f.data!) optionOf.set(t.i, t.s);
    });
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ op: 'subscribe', args: ['publicTrade.BTC'] }));
    const { engine, records } = bybitRig.start(sim);
    try {
      engine.subscribe({ exchange: 'bybit', channels: ['trades', 'book'], symbols: [call, put, 'BTC/USDT:USDT'] });
      await waitFor(
        () => [call, put].every((s) => count(records, 'trade', s) >= 5 && count(records, 'book', s) >= 3) && count(records, 'book', 'BTC/USDT:USDT') >= 3,
        "trades and books of both options and the perpetual's book",
      );
      for (const [symbol, native] of [
        [call, 'BTC-25DEC26-100000-C'],
        [put, 'BTC-25DEC26-90000-P'],
      ] as const) {
        expectTradesOf(records, symbol, 'bybit');
        const trades = records.filter((r): r is TradeRecord => r.type === 'trade' && r.symbol === symbol);
        await waitFor(() => trades.every((t) => optionOf.has(t.tradeId)), `the raw subscriber to have seen every ${symbol} trade`);
        // Every trade under this symbol is one Bybit published for this option (not another of the base's).
        expect(new Set(trades.map((t) => optionOf.get(t.tradeId)))).toEqual(new Set([native]));
        await expectBookMatches(records, symbol, () => sim.book(native, 'option', 25));
        expect(booksAfterEach(records.filter((r): r is BookRecord => r.type === 'book' && r.symbol === symbol)).at(-1)!.bids).toHaveLength(25);
        expect(statuses(records, symbol)).toEqual(['synced']);
      }
      // The third option's trades share the topic; none reached a consumer.
      expect([...optionOf.values()]).toContain('BTC-25DEC26-110000-C');
      expect(records.some((r) => r.type === 'trade' && r.symbol.includes('110000'))).toBe(false);
      expect(sim.stats()).toMatchObject({ optionConnections: 2, linearConnections: 1 });
      expect(engine.stats().badMessages).toBe(0);
      for (const channel of ['ticker', 'quotes', 'candles'] as const) {
        expect(() => engine.subscribe({ exchange: 'bybit', channels: [channel], symbols: [call] }), channel).toThrow(
          new RegExp(`bybit: channel "${channel}" is not available for the option BTC/USDC:USDC-261225-100000-C; options have trades and book only`),
        );
      }
    } finally {
      ws.close();
    }
  });

  it('the simulator serves option books of 25 and 100 levels only, and trades per base coin only', async () => {
    const sim = bybitRig.track(await startBybitSimulator({ seed: 12 }));
    const ws = new WebSocket(`${sim.wsUrl}/v5/public/option`);
    const acks: boolean[] = [];
    ws.on('message', (m) => {
      const f = JSON.parse(String(m)) as { success?: boolean };
      if (f.success !== undefined) acks.push(f.success);
    });
    await new Promise((r) => ws.once('open', r));
    const topics = [
      'orderbook.25.BTC-25DEC26-100000-C',
      'orderbook.100.BTC-25DEC26-100000-C',
      'orderbook.50.BTC-25DEC26-100000-C',
      'publicTrade.BTC-25DEC26-100000-C',
      'orderbook.25.BTC-25DEC26-100001-C',
      'publicTrade.ETH',
    ];
    try {
      for (const t of topics) ws.send(JSON.stringify({ op: 'subscribe', args: [t] }));
      await waitFor(() => acks.length === topics.length, 'an answer to every subscribe');
      expect(acks).toEqual([true, true, false, false, false, false]);
    } finally {
      ws.close();
    }
  });
});

describe('case-preserving symbols through the engine', () => {
  it("kraken: AAPLx/USD streams trades and a book equal to the simulator's, under its own spelling", async () => {
    const sim = await startKrakenSimulator({ seed: 5 });
    const { engine, records } = krakenRig.start(sim);
    const rejected: SubscriptionRejection[] = [];
    engine.on('rejected', (r) => rejected.push(r));
    // A case-preserved pair the venue does not list (the simulator lists xStocks against USD only).
    engine.subscribe({ exchange: 'kraken', channels: ['trades', 'book'], symbols: ['AAPLx/USD', 'AAPLx/EUR'] });
    await waitFor(
      () => count(records, 'trade', 'AAPLx/USD') >= 3 && count(records, 'book', 'AAPLx/USD') >= 3,
      'three AAPLx/USD trades and books',
    );
    expectTradesOf(records, 'AAPLx/USD', 'kraken');
    sim.freeze(true);
    const same = (): boolean => {
      const ours = engine.book('kraken', 'AAPLx/USD');
      const truth = sim.book('AAPLx/USD');
      return (
        ours?.synced === true &&
        JSON.stringify(ours.levels('bids')) === JSON.stringify(truth.bids.slice(0, 25)) &&
        JSON.stringify(ours.levels('asks')) === JSON.stringify(truth.asks.slice(0, 25))
      );
    };
    await waitFor(same, "the engine's AAPLx/USD book to equal the simulator's");
    sim.freeze(false);
    await waitFor(() => rejected.length >= 2, 'AAPLx/EUR refused on both channels');
    expect(new Set(rejected.map((r) => r.symbol))).toEqual(new Set(['AAPLx/EUR']));
    expect(rejected.every((r) => r.code === 'ERR_BAD_SYMBOL' && r.message.includes('AAPLx/EUR'))).toBe(true);
    expect(count(records, 'trade', 'AAPLx/EUR')).toBe(0);
    // An all-lower-case slip is refused at subscribe with the upper-case spelling as a hint.
    expect(() => engine.subscribe({ exchange: 'kraken', channels: ['trades'], symbols: ['aaplx/usd'] })).toThrow(
      /invalid symbol "aaplx\/usd".*did you mean AAPLX\/USD\?/,
    );
  });
});
