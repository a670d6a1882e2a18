/**
 * Offered loads → simulator options. The synthetic market has no "messages/s" knob: trades come
 * 1–3 per taker order, a touch quote is sent whenever the top of book changes (quotes, trades and
 * depth events all move it), and a depth diff is sent per `depthIntervalMs` that saw changes. The
 * factors below were calibrated on the simulator (6 symbols, 3 s windows); the bench always reports
 * the rate the simulator actually sent (`offeredMsgsPerSec`), not the requested one.
 */
import type { SimulatorOptions } from '../src/simulator/index.js';
import type { Channel } from './types.js';

export const MIX_SYMBOLS = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'BNB/USDT', 'XRP/USDT', 'ADA/USDT'];
export const MIX_CHANNELS: readonly Channel[] = ['trades', 'quotes', 'book', 'candles'];

/** 24 symbols for the heavy-books scenario (created on demand by the simulator). */
export const HEAVY_SYMBOLS = [
  ...MIX_SYMBOLS,
  ...['DOT', 'LTC', 'LINK', 'AVAX', 'TRX', 'ATOM', 'UNI', 'NEAR', 'APT', 'ARB', 'OP', 'FIL', 'ICP', 'AAVE', 'ETC', 'XLM', 'DOGE', 'MATIC'].map(
    (b) => `${b}/USDT`,
  ),
];

/** Messages/s per symbol the mix below produces at factor 1 (≈ 43% trades, 46% quotes, 11% depth). */
const MIX_PER_SYMBOL_AT_1 = 3650;

/** Scheduler tick for the bench: 1 ms keeps simulator batching out of the latency figures. */
const TICK_MS = 1;

export function nativeOf(symbol: string): string {
  return symbol.replace('/', '');
}

/**
 * The mixed load (trades, touch quotes, depth diffs, 1 m klines) for `symbols`, scaled so that the
 * total is about `msgsPerSec`.
 */
export function mixedLoad(msgsPerSec: number, symbols: readonly string[] = MIX_SYMBOLS, seed = 7): SimulatorOptions {
  const f = msgsPerSec / (MIX_PER_SYMBOL_AT_1 * symbols.length);
  return {
    seed,
    tickMs: TICK_MS,
    symbols: symbols.map(nativeOf),
    rates: { trade: 800 * f, bookTicker: 600 * f, depth: 400 * f, kline: 5 },
    depthIntervalMs: 2.5 / f,
    maxFramesPerWrite: 5,
  };
}

/**
 * Depth diffs only: about 8 book events per diff interval gives ~20 changed levels per diff on a
 * 100-level book (measured: 20 ± 5).
 */
export function heavyBooksLoad(diffsPerSymbolPerSec: number, symbols: readonly string[] = HEAVY_SYMBOLS, seed = 11): SimulatorOptions {
  return {
    seed,
    tickMs: TICK_MS,
    symbols: symbols.map(nativeOf),
    rates: { trade: 0, bookTicker: 0, depth: diffsPerSymbolPerSec * 8, kline: 1 },
    depthIntervalMs: 1000 / diffsPerSymbolPerSec,
    depthLevels: 100,
    maxFramesPerWrite: 5,
  };
}
