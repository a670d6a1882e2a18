/**
 * Venue table for property tests and the fuzzer: adding a venue is one entry here (its session
 * factory, its real recorded frames and the streams they belong to).
 */
import { readFileSync } from 'node:fs';
import { createBinanceSession } from '../../src/venues/binance/session.js';
import { USDM_FLAVOR } from '../../src/venues/binance/usdm.js';
import { createBybitSession } from '../../src/venues/bybit/session.js';
import { createCoinbaseSession } from '../../src/venues/coinbase/session.js';
import type { Channel, SessionContext, StreamSpec, VenueSession } from '../../src/venues/contract.js';
import { createKrakenSession } from '../../src/venues/kraken/session.js';
import { createOkxSession } from '../../src/venues/okx/session.js';

export interface VenueCase {
  readonly id: string;
  readonly exchangeCode: number;
  /** Text frames as received from the venue (real recordings). */
  readonly frames: readonly string[];
  /** Streams those frames belong to (symbol ids from 1). */
  readonly streams: readonly StreamSpec[];
  /**
   * Sanity floor: the real frames must make more sink calls than this (default 50). Lower only for
   * venues whose only current-protocol recordings are a handful of frames (Kraken v2, Bybit v5).
   */
  readonly minSinkCalls?: number;
  createSession(ctx: SessionContext): VenueSession;
}

const FIXTURES = new URL('../../../shared/fixtures/', import.meta.url);

/** Received payloads of a cryptofeed capture (`<ts>: <payload>` lines). */
export function cryptofeedFrames(file: string): string[] {
  const text = readFileSync(new URL(`cryptofeed/${file}`, FIXTURES), 'utf8');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+\.\d+: (.*)$/.exec(line);
    if (m) out.push(m[1]!);
  }
  return out;
}

/** Frames of the ccxt-ws recordings whose connection URL starts with `urlPrefix`. */
export function ccxtFrames(venue: string, urlPrefix: string): string[] {
  const doc = JSON.parse(readFileSync(new URL(`ccxt-ws/${venue}.json`, FIXTURES), 'utf8')) as {
    methods: Record<string, Array<{ url: string; messages: unknown[] }>>;
  };
  const out: string[] = [];
  for (const cases of Object.values(doc.methods)) {
    for (const c of cases) if (c.url.startsWith(urlPrefix)) for (const m of c.messages) out.push(JSON.stringify(m));
  }
  return out;
}

function specs(list: Array<[string, string, Channel, string?]>): StreamSpec[] {
  const ids = new Map<string, number>();
  return list.map(([symbol, native, channel, interval]) => {
    if (!ids.has(symbol)) ids.set(symbol, ids.size + 1);
    return { symbol, native, channel, symbolId: ids.get(symbol)!, interval };
  });
}

const binanceSymbols: Array<[string, string]> = [
  ['NKN/USDT', 'NKNUSDT'],
  ['BLZ/ETH', 'BLZETH'],
  ['LRC/BTC', 'LRCBTC'],
  ['RUNE/EUR', 'RUNEEUR'],
  ['BTC/USDT', 'BTCUSDT'],
];

export const VENUES: readonly VenueCase[] = [
  {
    id: 'binance',
    exchangeCode: 1,
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
    createSession: (ctx) => createBinanceSession(ctx),
  },
  {
    // USD-M combined streams (cryptofeed, 2021) and ccxt's single-stream USD-M frames (BTCUSDT).
    id: 'binance-usdm',
    exchangeCode: 2,
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
    createSession: (ctx) => createBinanceSession(ctx, { flavor: USDM_FLAVOR }),
  },
  {
    // Coinbase Exchange feed (legacy host, same protocol). ccxt-ws/coinbase.json is Advanced Trade: not spoken.
    id: 'coinbase',
    exchangeCode: 3,
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
    createSession: (ctx) => createCoinbaseSession(ctx),
  },
  {
    // WS v2 (ccxt-ws/kraken.json). cryptofeed's KRAKEN.ws.* are WS v1 (positional arrays): not spoken.
    // No `instrument` frame was recorded: precisions stay unknown and checksums count as unverified.
    id: 'kraken',
    exchangeCode: 4,
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
  {
    // Bybit v5 (ccxt-ws/bybit.json); cryptofeed's BYBIT.ws.26.0 is the retired v1 API. Spot and
    // linear BTCUSDT share topic names, so one linear session takes both categories' frames (spot
    // first: they are older, and the session drops what is older than what it emitted).
    id: 'bybit',
    exchangeCode: 5,
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
    createSession: (ctx) => createBybitSession(ctx),
  },
  {
    // OKX v5: cryptofeed capture (books with checksum, trades, tickers) and ccxt's frames.
    id: 'okx',
    exchangeCode: 6,
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
    createSession: (ctx) => createOkxSession(ctx),
  },
];
