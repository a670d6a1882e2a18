/**
 * Venue table for property tests and the fuzzer: adding a venue is one entry here (its session
 * factory, its real recorded frames and the streams they belong to).
 */
import { readFileSync } from 'node:fs';
import { createBinanceSession } from '../../src/venues/binance-session.js';
import type { Channel, SessionContext, StreamSpec, VenueSession } from '../../src/venues/types.js';

export interface VenueCase {
  readonly id: string;
  readonly exchangeCode: number;
  /** Text frames as received from the venue (real recordings). */
  readonly frames: readonly string[];
  /** Streams those frames belong to (symbol ids from 1). */
  readonly streams: readonly StreamSpec[];
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
];
