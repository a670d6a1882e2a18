import { describe, expect, it } from 'vitest';
import { VENUE_SIMULATORS } from '../src/simulator/venues.js';
import { CCXT_FIRST_EXCHANGE_CODE } from '../src/venues/ccxt/adapter.js';
import { envPrefix, getVenue, venues } from '../src/venues/registry.js';

describe('the venue registry is the one venue list', () => {
  it('assigns every native venue a unique exchange code below the ccxt range', () => {
    const codes = Object.values(venues).map((v) => v.exchangeCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toBeGreaterThanOrEqual(1);
    for (const c of codes) expect(c).toBeLessThan(CCXT_FIRST_EXCHANGE_CODE);
    expect(getVenue('kucoin').exchangeCode).toBeGreaterThanOrEqual(CCXT_FIRST_EXCHANGE_CODE);
  });

  it('derives the endpoint variables from the id', () => {
    expect(envPrefix('binance-usdm')).toBe('RINGFEED_BINANCE_USDM');
    for (const v of Object.values(venues)) {
      expect(v.wsUrlEnv).toBe(`${envPrefix(v.id)}_WS_URL`);
      expect(v.restUrlEnv).toBe(`${envPrefix(v.id)}_REST_URL`);
    }
  });

  it('every native venue has a simulator, and every simulator a venue', () => {
    expect(Object.keys(VENUE_SIMULATORS).sort()).toEqual(Object.keys(venues).sort());
  });
});
