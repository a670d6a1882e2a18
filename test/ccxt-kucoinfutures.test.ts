/**
 * KuCoin Futures (ccxt `kucoinfutures`) end to end through the ccxt worker, against a replay of
 * test/fixtures/kucoinfutures.json. That session is HAND-WRITTEN from KuCoin's public WebSocket
 * docs, not recorded: the expected values below are the ones written into its frames.
 * Amounts are in contracts, as ccxt reports them for KuCoin Futures (XBTUSDTM: 1 contract =
 * 0.001 BTC); prices in USDT.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src/engine/engine.js';
import type { BookRecord, MarketRecord, TickerRecord, TradeRecord } from '../src/records/types.js';
import { type CcxtReplay, loadCcxtFixture, startCcxtReplay } from '../src/simulator/ccxt/replay.js';
import { booksAfterEach, type SortedBook } from './helpers/books.js';
import { captureLogger } from './helpers/engine.js';
import { waitFor } from './helpers/wait.js';

const FIXTURE = new URL('./fixtures/kucoinfutures.json', import.meta.url);
const SYMBOL = 'BTC/USDT:USDT';

let engine: Engine | undefined;
let replay: CcxtReplay | undefined;

afterEach(async () => {
  await engine?.close();
  await replay?.close();
  engine = undefined;
  replay = undefined;
});

// /contractMarket/execution frames: [ts (ns → ms), side, price, size, tradeId].
const TRADES = [
  [1786540000120, 'buy', 90631.2, 2, 1794100537701],
  [1786540000480, 'sell', 90631.1, 15, 1794100537702],
  [1786540001016, 'buy', 90631.2, 7, 1794100537703],
];

// /contractMarket/ticker (v1) frames: [ts, price, bestBidPrice, bestAskPrice]. The v1 ticker has
// no open/high/low/volume: those are NaN.
const TICKERS = [
  [1786540000120, 90631.2, 90631.1, 90631.2],
  [1786540000480, 90631.1, 90631.1, 90631.2],
  [1786540001016, 90631.2, 90631.1, 90631.2],
];

/**
 * The book after the REST snapshot (sequence …205) plus each /contractMarket/level2 delta from
 * …206 on ("price,side,size"; size 0 removes). ccxt folds the deltas that arrive while its
 * snapshot request is in flight into its first book, so ours may start a state or two later.
 */
const BOOKS: SortedBook[] = [
  // snapshot + 90631.1,buy,80
  {
    bids: [[90631.1, 80], [90630.8, 30], [90630, 150], [90629.4, 60]],
    asks: [[90631.2, 120], [90631.5, 40], [90632, 75], [90633.1, 210]],
  },
  // 90631.2,sell,118
  {
    bids: [[90631.1, 80], [90630.8, 30], [90630, 150], [90629.4, 60]],
    asks: [[90631.2, 118], [90631.5, 40], [90632, 75], [90633.1, 210]],
  },
  // 90630.5,buy,25
  {
    bids: [[90631.1, 80], [90630.8, 30], [90630.5, 25], [90630, 150], [90629.4, 60]],
    asks: [[90631.2, 118], [90631.5, 40], [90632, 75], [90633.1, 210]],
  },
  // 90632.0,sell,0
  {
    bids: [[90631.1, 80], [90630.8, 30], [90630.5, 25], [90630, 150], [90629.4, 60]],
    asks: [[90631.2, 118], [90631.5, 40], [90633.1, 210]],
  },
  // 90631.8,sell,33
  {
    bids: [[90631.1, 80], [90630.8, 30], [90630.5, 25], [90630, 150], [90629.4, 60]],
    asks: [[90631.2, 118], [90631.5, 40], [90631.8, 33], [90633.1, 210]],
  },
  // 90629.4,buy,0
  {
    bids: [[90631.1, 80], [90630.8, 30], [90630.5, 25], [90630, 150]],
    asks: [[90631.2, 118], [90631.5, 40], [90631.8, 33], [90633.1, 210]],
  },
  // 90631.2,sell,111 (sequence …212, timestamp 1786540001150)
  {
    bids: [[90631.1, 80], [90630.8, 30], [90630.5, 25], [90630, 150]],
    asks: [[90631.2, 111], [90631.5, 40], [90631.8, 33], [90633.1, 210]],
  },
];

describe('ccxt kucoinfutures against a hand-written KuCoin Futures session', () => {
  it('streams linear-swap trades, ticker and an incremental book (REST snapshot + deltas) as our records', async () => {
    // Paced so that each frame gets its own watch resolution even on a busy machine.
    replay = await startCcxtReplay(loadCcxtFixture(FIXTURE), { paceMs: 150 });
    const { server } = replay;
    expect(replay.symbols).toEqual([SYMBOL]);
    const logs: Array<Record<string, unknown>> = [];
    engine = createEngine({
      threads: 1,
      logger: captureLogger(logs),
      // Through the engine option (the other ccxt replay tests use the environment variable).
      venues: { kucoinfutures: { wsUrl: server.wsUrl, restUrl: server.restUrl, ccxt: replay.ccxtOptions.kucoinfutures } },
    });
    const records: MarketRecord[] = [];
    engine.onRecord((r) => records.push(r));
    engine.subscribe({ exchange: 'kucoinfutures', channels: ['trades', 'ticker', 'book'], symbols: [SYMBOL] });

    const of = <T extends MarketRecord>(type: T['type']) => records.filter((r): r is T => r.type === type && r.symbol === SYMBOL);
    const LAST_BOOK_SEQ = 1709400450212;
    await waitFor(
      () =>
        server.unmatched.length > 0 ||
        (of<TradeRecord>('trade').length >= TRADES.length &&
          of<TickerRecord>('ticker').length >= TICKERS.length &&
          of<BookRecord>('book').at(-1)?.seq === LAST_BOOK_SEQ),
      'kucoinfutures trades, tickers and the last book delta',
      15_000,
    );

    expect(server.unmatched).toEqual([]);
    expect(of<TradeRecord>('trade').map((t) => [t.exchangeTs, t.side, t.price, t.amount, t.seq])).toEqual(TRADES);
    const nan = Number.NaN;
    expect(of<TickerRecord>('ticker').map((t) => [t.exchangeTs, t.last, t.bidPrice, t.askPrice, t.open, t.high, t.baseVolume])).toEqual(
      TICKERS.map((t) => [...t, nan, nan, nan]),
    );

    const bookRecords = of<BookRecord>('book');
    expect(bookRecords.map((b) => b.snapshot)).toEqual([true, ...bookRecords.slice(1).map(() => false)]);
    const books = booksAfterEach(bookRecords);
    const first = BOOKS.findIndex((b) => JSON.stringify(b) === JSON.stringify(books[0]));
    expect(first, `first book ${JSON.stringify(books[0])} is not a state of the session`).toBeGreaterThanOrEqual(0);
    expect(first, 'ccxt folded more deltas into its first book than the snapshot timing explains').toBeLessThanOrEqual(2);
    expect(books).toEqual(BOOKS.slice(first));
    expect(bookRecords.at(-1)!.exchangeTs).toBe(1786540001150);

    expect(records.some((r) => r.type === 'status' && r.status === 'badMessage')).toBe(false);
    expect(logs.filter((l) => (l.level as number) >= 50)).toEqual([]);
  });
});
