/**
 * THE venue-cases table: one row per native venue holding everything the per-venue suites need
 * (property tests and the fuzzer, fault-proxy scenarios, kit rules, unknown-symbol rejections).
 * Adding a venue is one row here. The adapter and the simulator come from the registries
 * (src/venues/registry.ts, src/simulator/venues.ts); a row states only what is particular to the
 * venue's tests.
 */
import { VENUE_SIMULATORS } from '../../src/simulator/venues.js';
import type { Channel, SessionContext, StreamSpec, VenueAdapter, VenueSession } from '../../src/venues/contract.js';
import { createKrakenSession } from '../../src/venues/kraken/session.js';
import { venues } from '../../src/venues/registry.js';
import { ccxtFrames, cryptofeedFrames, specs } from './recorded-frames.js';

/** Real recorded frames for the property tests and the fuzzer. */
export interface RecordedCase {
  /** Text frames as received from the venue (real recordings). */
  readonly frames: readonly string[];
  /** Streams those frames belong to (symbol ids from 1). */
  readonly streams: readonly StreamSpec[];
  /**
   * Sanity floor: the real frames must make more sink calls than this (default 50). Lower only for
   * venues whose only current-protocol recordings are a handful of frames (Kraken v2, Bybit v5).
   */
  readonly minSinkCalls?: number;
  /** Only where the recordings need other session options than the adapter's. */
  createSession?(ctx: SessionContext): VenueSession;
}

export interface VenueCase {
  /** The registry id (`venues[id]`, `VENUE_SIMULATORS[id]`). */
  readonly id: string;
  readonly adapter: VenueAdapter;
  readonly simulator: (typeof VENUE_SIMULATORS)[string];
  readonly recorded: RecordedCase;
}

type Row = Omit<VenueCase, 'adapter' | 'simulator'>;

function venueCase(row: Row): VenueCase {
  const adapter = venues[row.id];
  const simulator = VENUE_SIMULATORS[row.id];
  if (adapter === undefined || simulator === undefined) throw new Error(`venue case ${row.id}: not in the venue or simulator registry`);
  return { ...row, adapter, simulator };
}

/** A session of `c` for its recorded frames. */
export function recordedSession(c: VenueCase, ctx: SessionContext): VenueSession {
  return c.recorded.createSession ? c.recorded.createSession(ctx) : c.adapter.createSession(ctx);
}

const binanceSymbols: Array<[string, string]> = [
  ['NKN/USDT', 'NKNUSDT'],
  ['BLZ/ETH', 'BLZETH'],
  ['LRC/BTC', 'LRCBTC'],
  ['RUNE/EUR', 'RUNEEUR'],
  ['BTC/USDT', 'BTCUSDT'],
];

const ROWS: readonly Row[] = [
  {
    id: 'binance',
    recorded: {
      frames: [...cryptofeedFrames('BINANCE.ws.1.0'), ...ccxtFrames('binance', 'wss://stream.binance.com')],
      streams: specs(
        binanceSymbols.flatMap(([s, n]) => [
          [s, n, 'book'],
          [s, n, 'quotes'],
          [s, n, 'candles', '1m'],
          [s, n, 'aggTrades'],
          [s, n, 'trades'],
          [s, n, 'ticker'],
        ]),
      ),
    },
  },
  {
    // USD-M combined streams (cryptofeed, 2021) and ccxt's single-stream USD-M frames (BTCUSDT).
    id: 'binance-usdm',
    recorded: {
      frames: [...cryptofeedFrames('BINANCE_FUTURES.ws.1.0'), ...ccxtFrames('binance', 'wss://fstream.binance.com')],
      streams: specs(
        [
          ['SUSHI/USDT:USDT', 'SUSHIUSDT'],
          ['AKRO/USDT:USDT', 'AKROUSDT'],
          ['KEEP/USDT:USDT', 'KEEPUSDT'],
          ['CTK/USDT:USDT', 'CTKUSDT'],
          ['BTC/USDT:USDT', 'BTCUSDT'],
        ].flatMap(([s, n]): Array<[string, string, Channel, string?]> => [
          [s!, n!, 'book'],
          [s!, n!, 'quotes'],
          [s!, n!, 'candles', '1m'],
          [s!, n!, 'aggTrades'],
          [s!, n!, 'trades'],
          [s!, n!, 'ticker'],
          [s!, n!, 'funding'],
        ]),
      ),
    },
  },
  {
    // Coinbase Exchange feed (legacy host, same protocol). ccxt-ws/coinbase.json is Advanced Trade: not spoken.
    id: 'coinbase',
    recorded: {
      frames: cryptofeedFrames('COINBASE.ws.28.0'),
      streams: specs(
        ['SKL-USD', 'SKL-BTC', 'BAND-GBP', 'NMR-EUR', 'BAND-BTC', 'YFI-BTC', 'DASH-BTC', 'NU-GBP', 'CRV-EUR', 'SKL-GBP'].flatMap(
          (p): Array<[string, string, Channel]> => {
            const s = p.replace('-', '/');
            return [
              [s, p, 'book'],
              [s, p, 'trades'],
              [s, p, 'ticker'],
              [s, p, 'quotes'],
            ];
          },
        ),
      ),
    },
  },
  {
    // WS v2 (ccxt-ws/kraken.json). cryptofeed's KRAKEN.ws.* are WS v1 (positional arrays): not spoken.
    // No `instrument` frame was recorded: precisions stay unknown and checksums count as unverified.
    id: 'kraken',
    recorded: {
      frames: ccxtFrames('kraken', 'wss://ws.kraken.com/v2'),
      streams: specs([
        ['BTC/USD', 'BTC/USD', 'ticker'],
        ['BTC/USD', 'BTC/USD', 'candles', '1m'],
        ['BTC/USD', 'BTC/USD', 'book'],
        ['BTC/USD', 'BTC/USD', 'trades'],
        ['DOGE/USDT', 'DOGE/USDT', 'book'],
      ]),
      minSinkCalls: 25,
      createSession: (ctx) => createKrakenSession(ctx, { bookDepth: 10 }),
    },
  },
  {
    // Bybit v5 (ccxt-ws/bybit.json); cryptofeed's BYBIT.ws.26.0 is the retired v1 API. Spot and
    // linear BTCUSDT share topic names, so one linear session takes both categories' frames (spot
    // first: they are older, and the session drops what is older than what it emitted).
    id: 'bybit',
    recorded: {
      frames: [...ccxtFrames('bybit', 'wss://stream.bybit.com/v5/public/spot'), ...ccxtFrames('bybit', 'wss://stream.bybit.com/v5/public/linear')],
      minSinkCalls: 20,
      streams: specs([
        ['BTC/USDT:USDT', 'BTCUSDT', 'trades'],
        ['BTC/USDT:USDT', 'BTCUSDT', 'ticker'],
        ['BTC/USDT:USDT', 'BTCUSDT', 'funding'],
        ['BTC/USDT:USDT', 'BTCUSDT', 'quotes'],
        ['BTC/USDT:USDT', 'BTCUSDT', 'book'],
        ['BTC/USDT:USDT', 'BTCUSDT', 'candles', '1m'],
      ]),
    },
  },
  {
    // OKX v5: cryptofeed capture (books with checksum, trades, tickers) and ccxt's frames.
    id: 'okx',
    recorded: {
      frames: [...cryptofeedFrames('OKX.ws.1.0'), ...ccxtFrames('okx', 'wss://ws.okx.com:8443/ws/v5/')],
      streams: specs(
        [
          ['BTC/USD:BTC-220527', 'BTC-USD-220527'],
          ['UNI/USD:UNI', 'UNI-USD-SWAP'],
          ['BTC/USDT', 'BTC-USDT'],
          ['BTC/USDT:USDT', 'BTC-USDT-SWAP'],
        ].flatMap(([s, n]): Array<[string, string, Channel, string?]> => [
          [s!, n!, 'book'],
          [s!, n!, 'trades'],
          [s!, n!, 'ticker'],
          [s!, n!, 'quotes'],
          [s!, n!, 'candles', '1m'],
          ...(n!.endsWith('-SWAP') ? [[s!, n!, 'funding'] as [string, string, Channel]] : []),
        ]),
      ),
    },
  },
];

export const VENUE_CASES: readonly VenueCase[] = ROWS.map(venueCase);
