/**
 * Bad calls on a running engine (subscribe requests, handlers, filters, books) and bad call
 * sequences (use after close, twice, during close). Each is refused with a named error and the
 * shared engine's canary keeps delivering (checked by the test after every row).
 */
import { createEngine, type Engine } from '../../src/engine/engine.js';
import type { RingfeedErrorCode } from '../../src/engine/errors.js';
import { waitFor } from '../helpers/wait.js';
import { check, expectRingfeedError } from './expect.js';
import type { BadInputRow, RowContext, RowGroup } from './row.js';

function refused(
  group: RowGroup,
  input: string,
  call: (engine: Engine, ctx: RowContext) => unknown,
  code: RingfeedErrorCode,
  ...words: string[]
): BadInputRow {
  return {
    group,
    input,
    expect: `${code}${words.length > 0 ? ` naming ${words.join(' / ')}` : ''}`,
    async run(ctx) {
      await expectRingfeedError(() => call(ctx.engine, ctx), code, ...words);
    },
  };
}

const sub = (engine: Engine, request: unknown) => engine.subscribe(request as never);
const good = { exchange: 'binance', channels: ['trades'], symbols: ['BTC/USDT'] };

/** One engine closed for the lifecycle rows (created on first use; closing is what it is for). */
let closedEngine: Promise<Engine> | undefined;
function closed(): Promise<Engine> {
  closedEngine ??= (async () => {
    const engine = createEngine({ threads: 1, logger: silentLogger() });
    await engine.close();
    return engine;
  })();
  return closedEngine;
}

function silentLogger() {
  const noop = () => {};
  const logger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, fatal: noop, child: () => logger };
  return logger as never;
}

/** An engine of the row's own against the shared simulator (for rows that close it). */
function ownEngine(ctx: RowContext): Engine {
  return createEngine({ threads: 1, logger: silentLogger(), venues: { binance: { wsUrl: ctx.wsUrl, restUrl: ctx.restUrl } } });
}

function afterClose(input: string, call: (engine: Engine) => unknown): BadInputRow {
  return {
    group: 'lifecycle',
    input,
    expect: 'ERR_ENGINE_CLOSED',
    async run() {
      const engine = await closed();
      await expectRingfeedError(() => call(engine), 'ERR_ENGINE_CLOSED');
    },
  };
}

export const rows: BadInputRow[] = [
  refused('subscribe', 'subscribe() with no argument', (e) => sub(e, undefined), 'ERR_BAD_OPTION', 'subscribe(request)'),
  refused('subscribe', 'subscribe(null)', (e) => sub(e, null), 'ERR_BAD_OPTION', 'subscribe must be an object'),
  refused('subscribe', 'subscribe("binance")', (e) => sub(e, 'binance'), 'ERR_BAD_OPTION', 'subscribe must be an object'),
  refused('subscribe', 'missing exchange', (e) => sub(e, { channels: ['trades'], symbols: ['BTC/USDT'] }), 'ERR_BAD_OPTION', 'subscribe.exchange'),
  refused('subscribe', 'exchange: 42', (e) => sub(e, { ...good, exchange: 42 }), 'ERR_BAD_OPTION', 'subscribe.exchange'),
  refused('subscribe', 'unknown venue "binanse"', (e) => sub(e, { ...good, exchange: 'binanse' }), 'ERR_UNKNOWN_VENUE', 'binanse'),
  refused('subscribe', 'unknown key symbol (singular)', (e) => sub(e, { exchange: 'binance', channels: ['trades'], symbol: 'BTC/USDT' }), 'ERR_BAD_OPTION', 'subscribe.symbol', 'did you mean symbols'),
  refused('subscribe', "via: 'magic'", (e) => sub(e, { ...good, via: 'magic' }), 'ERR_BAD_OPTION', 'subscribe.via', 'native, ccxt'),
  refused('subscribe', 'channels: []', (e) => sub(e, { ...good, channels: [] }), 'ERR_BAD_CHANNEL', 'subscribe.channels'),
  refused('subscribe', 'channels: "trades" (not an array)', (e) => sub(e, { ...good, channels: 'trades' }), 'ERR_BAD_CHANNEL', 'subscribe.channels'),
  refused('subscribe', 'channels: [42]', (e) => sub(e, { ...good, channels: [42] }), 'ERR_BAD_CHANNEL', '42'),
  refused('subscribe', "channels: ['trade'] (unknown)", (e) => sub(e, { ...good, channels: ['trade'] }), 'ERR_BAD_CHANNEL', 'trade', 'it has'),
  refused('subscribe', "coinbase channels: ['candles'] (venue lacks it)", (e) => sub(e, { exchange: 'coinbase', channels: ['candles'], symbols: ['BTC/USD'] }), 'ERR_BAD_CHANNEL', 'coinbase has no channel candles'),
  refused('subscribe', 'symbols: []', (e) => sub(e, { ...good, symbols: [] }), 'ERR_BAD_SYMBOL', 'subscribe.symbols'),
  refused('subscribe', "symbols: ['']", (e) => sub(e, { ...good, symbols: [''] }), 'ERR_BAD_SYMBOL', 'subscribe.symbols'),
  refused('subscribe', "symbols: ['BTCUSDT'] (no slash)", (e) => sub(e, { ...good, symbols: ['BTCUSDT'] }), 'ERR_BAD_SYMBOL', 'BTCUSDT'),
  refused('subscribe', "ib symbols: ['aapl'] (not the ib grammar)", (e) => sub(e, { exchange: 'ib', channels: ['trades'], symbols: ['aapl'] }), 'ERR_BAD_SYMBOL', 'ib: invalid symbol "aapl"', 'STK:AAPL@NASDAQ/USD'),
  refused('subscribe', "ib symbols: ['FUT:ES@CME/USD'] (no expiry)", (e) => sub(e, { exchange: 'ib', channels: ['trades'], symbols: ['FUT:ES@CME/USD'] }), 'ERR_BAD_SYMBOL', 'a future needs its expiry'),
  refused('subscribe', "ib candles interval '1m' (5s bars only)", (e) => sub(e, { exchange: 'ib', channels: ['candles'], symbols: ['AAPL'], interval: '1m' }), 'ERR_BAD_INTERVAL', 'ib has no candle interval "1m"', '5s'),
  refused('subscribe', "futu symbols: ['HK.700'] (not the futu grammar)", (e) => sub(e, { exchange: 'futu', channels: ['trades'], symbols: ['HK.700'] }), 'ERR_BAD_SYMBOL', 'futu: invalid symbol "HK.700"', 'HK.00700'),
  refused('subscribe', "futu symbols: ['BTC/USDT'] (a crypto symbol)", (e) => sub(e, { exchange: 'futu', channels: ['book'], symbols: ['BTC/USDT'] }), 'ERR_BAD_SYMBOL', 'MARKET.CODE'),
  refused('subscribe', "futu candles interval '6h' (not offered)", (e) => sub(e, { exchange: 'futu', channels: ['candles'], symbols: ['HK.00700'], interval: '6h' }), 'ERR_BAD_INTERVAL', 'futu has no candle interval "6h"', '1w'),
  refused('subscribe', 'symbols: a 10 kB string', (e) => sub(e, { ...good, symbols: ['A'.repeat(10_000)] }), 'ERR_BAD_SYMBOL', 'subscribe.symbols'),
  refused('subscribe', "candles interval '7m' (binance)", (e) => sub(e, { ...good, channels: ['candles'], interval: '7m' }), 'ERR_BAD_INTERVAL', '"7m"', '1m', '1h'),
  refused('subscribe', "candles interval '7m' (bybit)", (e) => sub(e, { exchange: 'bybit', channels: ['candles'], symbols: ['BTC/USDT'], interval: '7m' }), 'ERR_BAD_INTERVAL', 'bybit', '1m'),
  refused('subscribe', "candles interval '1s' (binance-usdm lacks it)", (e) => sub(e, { exchange: 'binance-usdm', channels: ['candles'], symbols: ['BTC/USDT:USDT'], interval: '1s' }), 'ERR_BAD_INTERVAL', 'binance-usdm'),
  refused('subscribe', "ccxt candles interval 'soon'", (e) => sub(e, { exchange: 'kucoin', channels: ['candles'], symbols: ['BTC/USDT'], interval: 'soon' }), 'ERR_BAD_INTERVAL', 'soon'),
  refused('subscribe', 'interval: 60 (a number)', (e) => sub(e, { ...good, channels: ['candles'], interval: 60 }), 'ERR_BAD_INTERVAL', 'subscribe.interval'),
  refused('subscribe', 'interval without the candles channel', (e) => sub(e, { ...good, interval: '1m' }), 'ERR_BAD_OPTION', 'subscribe.interval', 'candles'),
  refused('subscribe', "policy: 'fast'", (e) => sub(e, { ...good, policy: 'fast' }), 'ERR_BAD_OPTION', 'subscribe.policy'),
  {
    group: 'subscribe',
    input: "ib: a second TWS connection (a subscribe with another policy than the open connection's)",
    expect: "ERR_BAD_OPTION naming the one connection per client id / the policies",
    async run() {
      // Its own engine: the first subscribe opens the one ib connection (to a port nothing serves).
      const engine = createEngine({ threads: 1, logger: silentLogger(), venues: { ib: { wsUrl: 'tcp://127.0.0.1:1' } } });
      try {
        sub(engine, { exchange: 'ib', channels: ['trades'], symbols: ['AAPL'] });
        await expectRingfeedError(
          () => sub(engine, { exchange: 'ib', channels: ['quotes'], symbols: ['AAPL'], policy: 'drop' }),
          'ERR_BAD_OPTION',
          'at most 1 connection',
          'venues.ib.clientId',
          "policy 'drop'",
        );
      } finally {
        await engine.close();
      }
    },
  },
  refused('handlers', "onView('notafunction')", (e) => e.onView('notafunction' as never), 'ERR_BAD_OPTION', 'onView(handler)'),
  refused('handlers', 'onRecord(undefined)', (e) => e.onRecord(undefined as never), 'ERR_BAD_OPTION', 'onRecord(handler)'),
  refused('handlers', "onRecord(fn, { types: ['trades'] }) (plural)", (e) => e.onRecord(() => {}, { types: ['trades' as never] }), 'ERR_BAD_OPTION', '"trades"', 'did you mean "trade"'),
  refused('handlers', "onRecord(fn, { type: ['trade'] }) (unknown key)", (e) => e.onRecord(() => {}, { type: ['trade'] } as never), 'ERR_BAD_OPTION', 'type'),
  refused('handlers', "records({ types: ['nope'] })", (e) => e.records({ types: ['nope' as never] }), 'ERR_BAD_OPTION', 'records filter.types', '"nope"'),
  refused('handlers', 'records({ types: [] })', (e) => e.records({ types: [] }), 'ERR_BAD_OPTION', 'records filter.types'),
  refused('handlers', 'book(42, null)', (e) => e.book(42 as never, null as never), 'ERR_BAD_OPTION', 'book(exchange, symbol)'),
  {
    group: 'handlers',
    input: "book.levels('bid') / levels('foo') / levels('bids', -1) / top(5, Float64Array(2))",
    expect: 'ERR_BAD_OPTION naming the side / n / the array size',
    async run(ctx) {
      const s = ctx.engine.subscribe({ exchange: 'binance', channels: ['book'], symbols: ['SOL/USDT'] });
      try {
        const book = ctx.engine.book('binance', 'SOL/USDT');
        check(book !== undefined, 'book() of a subscribed book stream is a book (synced false until the snapshot)');
        await expectRingfeedError(() => book!.levels('bid' as never), 'ERR_BAD_OPTION', '"bid"', 'bids', 'asks');
        await expectRingfeedError(() => book!.levels('foo' as never), 'ERR_BAD_OPTION', '"foo"');
        await expectRingfeedError(() => book!.levels('bids', -1), 'ERR_BAD_OPTION', 'n must be');
        await expectRingfeedError(() => book!.top(5, new Float64Array(2), new Float64Array(10)), 'ERR_BAD_OPTION', 'room for 10');
      } finally {
        s.unsubscribe();
      }
      check(ctx.engine.book('binance', 'SOL/USDT') === undefined, 'book() is undefined again after unsubscribe');
    },
  },
  {
    group: 'handlers',
    input: 'a handler that throws on every record',
    expect: 'counted in stats().handlerErrors, the other handlers still get every record',
    async run(ctx) {
      const before = ctx.engine.stats().handlerErrors;
      const off = ctx.engine.onView(() => {
        throw new Error('bot bug');
      });
      try {
        await waitFor(() => ctx.engine.stats().handlerErrors >= before + 5, 'handler errors counted', 5000);
      } finally {
        off();
      }
    },
  },
  {
    group: 'handlers',
    input: 'records() iterator nobody reads',
    expect: 'holds the consumer visibly: backpressure event, stats().iterators.holding/pauses, then return() lets go',
    async run(ctx) {
      const events: boolean[] = [];
      const onBackpressure = (info: { paused: boolean }) => events.push(info.paused);
      ctx.engine.on('backpressure', onBackpressure);
      const it = ctx.engine.records();
      try {
        await waitFor(() => ctx.engine.stats().iterators.holding === 1, 'the unread iterator to fill and hold', 5000);
        check(events[0] === true, 'a backpressure { paused: true } event');
        check(ctx.engine.stats().iterators.pauses >= 1, 'stats().iterators.pauses counts it');
      } finally {
        await it.return?.();
        ctx.engine.off('backpressure', onBackpressure);
      }
      check(ctx.engine.stats().iterators.holding === 0, 'return() releases the consumer');
      check(events.at(-1) === false, 'a backpressure { paused: false } event');
    },
  },
  {
    group: 'lifecycle',
    input: 'unsubscribe() twice',
    expect: 'the second call does nothing',
    run(ctx) {
      const s = ctx.engine.subscribe({ exchange: 'binance', channels: ['quotes'], symbols: ['XRP/USDT'] });
      s.unsubscribe();
      s.unsubscribe();
      check(!ctx.engine.stats().perStream.some((p) => p.symbol === 'XRP/USDT'), 'the stream is gone');
    },
  },
  {
    group: 'lifecycle',
    input: 'a removed handler removed again',
    expect: 'the second call does nothing',
    run(ctx) {
      const off = ctx.engine.onView(() => {});
      off();
      off();
    },
  },
  afterClose('subscribe() after close()', (e) => e.subscribe(good as never)),
  afterClose('onView() after close()', (e) => e.onView(() => {})),
  afterClose('onRecord() after close()', (e) => e.onRecord(() => {})),
  afterClose('records() after close()', (e) => e.records()),
  afterClose('book() after close()', (e) => e.book('binance', 'BTC/USDT')),
  afterClose('stats() after close()', (e) => e.stats()),
  {
    group: 'lifecycle',
    input: 'close() twice',
    expect: 'the second call returns the first call’s promise, which resolves',
    async run() {
      const engine = await closed();
      const first = engine.close();
      const second = engine.close();
      check(first === second, 'the same promise');
      await second;
    },
  },
  {
    group: 'lifecycle',
    input: 'subscribe() while close() is in progress',
    expect: 'ERR_ENGINE_CLOSED; close() still resolves',
    async run(ctx) {
      const engine = ownEngine(ctx);
      engine.subscribe(good as never);
      const closing = engine.close();
      await expectRingfeedError(() => engine.subscribe({ ...good, symbols: ['ETH/USDT'] } as never), 'ERR_ENGINE_CLOSED');
      await closing;
    },
  },
  {
    group: 'lifecycle',
    input: 'unsubscribe() after close()',
    expect: 'does nothing (no throw)',
    async run(ctx) {
      const engine = ownEngine(ctx);
      const s = engine.subscribe(good as never);
      await engine.close();
      s.unsubscribe();
    },
  },
  {
    group: 'lifecycle',
    input: 'close() from inside a handler',
    expect: 'the engine closes; no nested drain, no crash',
    async run(ctx) {
      const engine = ownEngine(ctx);
      let closing: Promise<void> | undefined;
      engine.onView(() => {
        closing ??= engine.close();
      });
      engine.subscribe(good as never);
      await waitFor(() => closing !== undefined, 'a first record', 10_000);
      await closing;
      await expectRingfeedError(() => engine.stats(), 'ERR_ENGINE_CLOSED');
    },
  },
];
