import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src/engine/engine.js';
import type { BookRecord, CandleRecord, MarketRecord, TickerRecord, TradeRecord } from '../src/records/types.js';
import {
  CCXT_REPLAY_CHANNEL,
  type CcxtReplay,
  type CcxtFixtureCase as FixtureCase,
  loadCcxtFixture,
  startCcxtReplay,
} from '../src/simulator/ccxt/replay.js';
import { CCXT_OPTIONS_ENV } from '../src/venues/ccxt/types.js';
import { booksAfterEach, type SortedBook } from './helpers/books.js';
import { captureLogger } from './helpers/engine.js';
import { waitFor } from './helpers/wait.js';

let engine: Engine | undefined;
let replay: CcxtReplay | undefined;

const FIXTURES = {
  kucoin: new URL('../../shared/fixtures/ccxt-ws/kucoin.json', import.meta.url),
  bingx: new URL('../../shared/fixtures/ccxt-ws/bingx.json', import.meta.url),
};

afterEach(async () => {
  await engine?.close();
  await replay?.close();
  engine = undefined;
  replay = undefined;
  delete process.env[CCXT_OPTIONS_ENV];
});

type Ticker = { timestamp: number; last: number; open: number; high: number; low: number; bid: number; ask: number; baseVolume: number; quoteVolume: number };
type Trade = { timestamp: number; side: string; price: number; amount: number };
type Book = SortedBook;

function symbolOf(c: FixtureCase): string {
  return c.input[0] as string;
}

function recordsFor(records: MarketRecord[], type: string, symbol: string): MarketRecord[] {
  return records.filter((r) => r.type === type && r.symbol === symbol);
}

/** Checks our records for one case against ccxt's recorded parsed results. */
function checkCase(method: string, c: FixtureCase, records: MarketRecord[]): void {
  const symbol = symbolOf(c);
  const parsed = c.parsedResponses ?? [];
  switch (method) {
    case 'watchTrades': {
      const ours = recordsFor(records, 'trade', symbol) as TradeRecord[];
      const expected = (parsed as Trade[][]).flat();
      expect(ours.map((t) => [t.exchangeTs, t.side, t.price, t.amount])).toEqual(
        expected.map((t) => [t.timestamp, t.side, t.price, t.amount]),
      );
      return;
    }
    case 'watchTicker': {
      const ours = recordsFor(records, 'ticker', symbol) as TickerRecord[];
      const nan = (v: number | null) => (v === null ? null : v);
      expect(ours.map((t) => [t.exchangeTs, t.last, t.open, t.high, t.low, t.bidPrice, t.askPrice, t.baseVolume, t.quoteVolume])).toEqual(
        (parsed as Ticker[]).map((t) => [t.timestamp, t.last, t.open, t.high, t.low, t.bid, t.ask, nan(t.baseVolume), nan(t.quoteVolume)]),
      );
      return;
    }
    case 'watchOHLCV': {
      // Our extra `closed` repeat appears only when a later candle opens; none does in these cases.
      const ours = (recordsFor(records, 'candle', symbol) as CandleRecord[]).filter((k) => !k.closed);
      expect(ours.map((k) => [k.openTs, k.open, k.high, k.low, k.close, k.volume])).toEqual((parsed as number[][][]).flat());
      return;
    }
    case 'watchOrderBook': {
      const ours = booksAfterEach(recordsFor(records, 'book', symbol) as BookRecord[]);
      expect(ours).toEqual(distinctBooks(parsed as Book[]));
    }
  }
}

/**
 * ccxt resolves once per book message even when the book did not change (BingX spot sends the
 * same 100 levels twice); we emit no empty delta, so repeated books count once.
 */
function distinctBooks(parsed: Book[]): Book[] {
  const out: Book[] = [];
  for (const b of parsed) {
    const book = { bids: b.bids, asks: b.asks };
    if (out.length === 0 || JSON.stringify(out[out.length - 1]) !== JSON.stringify(book)) out.push(book);
  }
  return out;
}

function expectedCount(method: string, c: FixtureCase): number {
  const parsed = c.parsedResponses ?? [];
  if (method === 'watchOrderBook') return distinctBooks(parsed as Book[]).length;
  return method === 'watchTrades' ? (parsed as unknown[][]).flat().length : method === 'watchOHLCV' ? (parsed as unknown[][]).flat().length : parsed.length;
}

async function runVenue(venue: 'kucoin' | 'bingx'): Promise<void> {
  // Paced so that each recorded frame gets its own watch resolution even on a busy machine:
  // ccxt resolves a ticker once per frame and a lagging loop would see only the latest one.
  replay = await startCcxtReplay(loadCcxtFixture(FIXTURES[venue]), { paceMs: 150 });
  const { server, entries } = replay;
  process.env[CCXT_OPTIONS_ENV] = JSON.stringify(replay.ccxtOptions);
  const logs: Array<Record<string, unknown>> = [];
  engine = createEngine({
    threads: 1,
    logger: captureLogger(logs),
    venues: { [venue]: { wsUrl: server.wsUrl, restUrl: server.restUrl } },
  });
  const records: MarketRecord[] = [];
  engine.onRecord((r) => records.push(r));
  for (const { method, c } of entries) {
    // watchOHLCV's second argument is the timeframe; other methods' (a depth limit) is no interval.
    const interval = method === 'watchOHLCV' ? (c.input[1] as string) : undefined;
    engine.subscribe({ exchange: venue, channels: [CCXT_REPLAY_CHANNEL[method]], symbols: [symbolOf(c)], interval });
  }
  const typeOf = { watchTrades: 'trade', watchTicker: 'ticker', watchOHLCV: 'candle', watchOrderBook: 'book' } as Record<string, string>;
  await waitFor(
    () => server.unmatched.length > 0 || entries.every(({ method, c }) => recordsFor(records, typeOf[method]!, symbolOf(c)).length >= expectedCount(method, c)),
    `records for every ${venue} case`,
    15_000,
  );
  for (const { method, c } of entries) checkCase(method, c, records);
  expect(server.unmatched).toEqual([]);
  expect(engine.stats().connections.every((k) => k.exchange === venue)).toBe(true);
}

describe('ccxt venues replayed from recorded sessions, through the ccxt worker', () => {
  it('KuCoin spot: ticker, candles, trades and a depth-5 book agree with ccxt parsedResponses', async () => {
    await runVenue('kucoin');
  });

  it('BingX spot and linear swap over gzip binary frames agree with ccxt parsedResponses', async () => {
    await runVenue('bingx');
  });
});

describe('compressed frames through ccxt', () => {
  it('a gzip frame that inflates beyond limits.maxFrameBytes ends the socket instead of filling memory', async () => {
    const fixture = loadCcxtFixture(FIXTURES.bingx);
    const trades = fixture.methods.watchTrades!.find((c) => c.input[0] === 'BTC/USDT')!;
    // 4 MB of JSON that gzips to a few KB, sent after the recorded trades.
    trades.messages.push({ pad: '0'.repeat(4 * 1024 * 1024) });
    replay = await startCcxtReplay(fixture, { paceMs: 20 });
    process.env[CCXT_OPTIONS_ENV] = JSON.stringify(replay.ccxtOptions);
    engine = createEngine({
      threads: 1,
      logger: captureLogger([]),
      limits: { maxFrameBytes: 256 * 1024 },
      venues: { bingx: { wsUrl: replay.server.wsUrl, restUrl: replay.server.restUrl } },
    });
    const reasons: string[] = [];
    engine.on('state', (c: { state: string; reason: string }) => {
      if (c.state === 'reconnecting') reasons.push(c.reason);
    });
    const records: MarketRecord[] = [];
    engine.onRecord((r) => records.push(r));
    engine.subscribe({ exchange: 'bingx', channels: ['trades'], symbols: ['BTC/USDT'] });
    await waitFor(() => reasons.length > 0, 'the socket ended over the oversized frame', 15_000);
    expect(reasons[0]).toMatch(/inflates beyond limits\.maxFrameBytes \(262144 bytes\)/);
    // The recorded trades before it were delivered.
    expect(records.some((r) => r.type === 'trade')).toBe(true);
  });
});
