/**
 * Bad-input rows, group `symbols`: symbols of the unified grammar that are malformed, mis-cased
 * or name an instrument kind the venue does not have, refused at `subscribe` with ERR_BAD_SYMBOL
 * naming the symbol (and the hint or the grammar). One engine of their own, its venues pointed
 * at a closed loopback port, so nothing could leave the machine even if a row were accepted.
 */
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { expectRingfeedError } from './expect.js';
import type { BadInputRow } from './row.js';

const NOWHERE = { wsUrl: 'ws://127.0.0.1:9', restUrl: 'http://127.0.0.1:9' };

let engine: Engine | undefined;
function ownEngine(): Engine {
  const noop = () => {};
  const logger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, fatal: noop, child: () => logger };
  engine ??= createEngine({
    threads: 1,
    logger: logger as never,
    venues: { okx: NOWHERE, bybit: NOWHERE, kraken: NOWHERE, binance: NOWHERE, 'binance-usdm': NOWHERE, coinbase: NOWHERE },
  });
  return engine;
}

/** Called by the corpus after the rows (bad-input.test.ts calls every exported `close*` function). */
export async function closeInstrumentsEngine(): Promise<void> {
  await engine?.close();
  engine = undefined;
}

function refused(exchange: string, channel: string, symbol: string, ...words: string[]): BadInputRow {
  return {
    group: 'symbols',
    input: `${exchange}: subscribe ${channel} ${symbol}`,
    expect: `ERR_BAD_SYMBOL naming ${[symbol, ...words].join(' / ')}`,
    async run() {
      await expectRingfeedError(
        () => ownEngine().subscribe({ exchange, channels: [channel], symbols: [symbol] } as never),
        'ERR_BAD_SYMBOL',
        symbol,
        ...words,
      );
    },
  };
}

export const rows: BadInputRow[] = [
  refused('okx', 'trades', 'btc/usdt', 'did you mean BTC/USDT?'),
  refused('bybit', 'trades', 'BTC/USDt:USDT', 'did you mean BTC/USDT:USDT?'),
  refused('binance', 'trades', 'ETH/usdt', 'did you mean ETH/USDT?'),
  refused('kraken', 'trades', 'aaplx/usd', 'did you mean AAPLX/USD?'),
  refused('okx', 'book', 'BTC/USD:BTC-261332', '261332 is not a date YYMMDD'),
  refused('okx', 'book', 'BTC/USD:BTC-261225-100000-X', 'BASE/QUOTE:SETTLE-YYMMDD-STRIKE-C|P'),
  refused('okx', 'book', 'BTC/USDT:USDT-261225-100000-C', 'quoted in USD'),
  refused('binance-usdm', 'trades', 'BTC/USDT:USDT-261225', 'is a future'),
  refused('bybit', 'trades', 'BTC/USD:BTC-261225', 'inverse'),
];
