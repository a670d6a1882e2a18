import { readFileSync } from 'node:fs';
import type { ReplayCase } from '../../src/simulator/replay-server.js';

export interface FixtureCase {
  readonly description: string;
  readonly input: unknown[];
  readonly url: string;
  readonly messages: unknown[];
  readonly sentMessages?: Record<string, unknown>[];
  readonly parsedResponses?: unknown[];
  readonly httpResponse?: unknown;
}

export interface Fixture {
  readonly exchange: string;
  readonly methods: Record<string, FixtureCase[]>;
}

export function loadCcxtFixture(venue: string): Fixture {
  return JSON.parse(readFileSync(new URL(`../../../shared/fixtures/ccxt-ws/${venue}.json`, import.meta.url), 'utf8'));
}

/** The public market-data cases we map to channels. */
export const PUBLIC_METHODS = ['watchTrades', 'watchTicker', 'watchOHLCV', 'watchOrderBook'] as const;

export function replayCases(fixture: Fixture): Array<{ method: string; c: FixtureCase; replay: ReplayCase }> {
  const out: Array<{ method: string; c: FixtureCase; replay: ReplayCase }> = [];
  for (const method of PUBLIC_METHODS) {
    for (const c of fixture.methods[method] ?? []) {
      const sent = c.sentMessages?.[0];
      if (sent === undefined) continue;
      out.push({ method, c, replay: { sent, messages: c.messages } });
    }
  }
  return out;
}

/** A minimal ccxt unified market (enough for ccxt's parsers and market lookups). */
export function ccxtMarket(id: string, symbol: string, type: 'spot' | 'swap'): Record<string, unknown> {
  const [pair, settle] = symbol.split(':') as [string, string | undefined];
  const [base, quote] = pair.split('/') as [string, string];
  const swap = type === 'swap';
  return {
    id,
    symbol,
    base,
    quote,
    settle,
    baseId: base,
    quoteId: quote,
    settleId: settle,
    type,
    spot: !swap,
    margin: false,
    swap,
    future: false,
    option: false,
    contract: swap,
    linear: swap ? true : undefined,
    inverse: swap ? false : undefined,
    contractSize: swap ? 1 : undefined,
    active: true,
    precision: { amount: 1e-8, price: 1e-8 },
    limits: { amount: {}, price: {}, cost: {}, leverage: {} },
    info: {},
  };
}
