import { readFileSync } from 'node:fs';
import { type CcxtFront, startCcxtFront } from '../../src/simulator/ccxt/front.js';
import type { Simulator } from '../../src/simulator/index.js';

/** The recorded Binance `exchangeInfo` (cryptofeed `BINANCE.0`, first line after ` -> ts: `). */
export function recordedExchangeInfo(): string {
  const text = readFileSync(new URL('../../../shared/fixtures/cryptofeed/BINANCE.0', import.meta.url), 'utf8');
  const line = text.split('\n').find((l) => l.includes('/api/v3/exchangeInfo -> '));
  if (line === undefined) throw new Error('BINANCE.0 has no exchangeInfo line');
  return line.slice(line.indexOf(': ') + 2);
}

/** A front that lets ccxt's binance load markets and stream from the simulator. */
export function binanceFront(sim: Simulator, exchangeInfo = recordedExchangeInfo()): Promise<CcxtFront> {
  const empty = '{"timezone":"UTC","serverTime":0,"rateLimits":[],"exchangeFilters":[],"symbols":[]}';
  return startCcxtFront({
    upstreamWsUrl: sim.wsUrl,
    upstreamRestUrl: sim.restUrl,
    documents: {
      '/api/v3/exchangeInfo': exchangeInfo,
      '/fapi/v1/exchangeInfo': empty,
      '/dapi/v1/exchangeInfo': empty,
    },
  });
}
