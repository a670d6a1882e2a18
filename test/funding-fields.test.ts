/**
 * What the README promises of the `funding` channel — mark price, index price, funding rate and
 * next funding time — arrives on every venue that offers the channel, from its simulator.
 */
import { describe, expect, it } from 'vitest';
import type { TickerRecord } from '../src/records/types.js';
import { VENUE_SIMULATORS } from '../src/simulator/venues.js';
import { venues } from '../src/venues/registry.js';
import { venueRig } from './helpers/engine.js';
import { waitFor } from './helpers/wait.js';

const PERPETUAL: Readonly<Record<string, string>> = { 'binance-usdm': 'BTC/USDT:USDT', bybit: 'BTC/USDT:USDT', okx: 'BTC/USDT:USDT' };
const FIELDS = ['markPrice', 'indexPrice', 'fundingRate', 'nextFundingTs'] as const;
const FUNDING_VENUES = Object.values(venues)
  .filter((v) => v.channels.includes('funding'))
  .map((v) => v.id);

describe.each(FUNDING_VENUES)('funding on %s', (venue) => {
  const rig = venueRig(venue);

  it('fills mark price, index price, funding rate and next funding time', async () => {
    const symbol = PERPETUAL[venue];
    expect(symbol, `a perpetual for ${venue} in this test`).toBeDefined();
    const sim = await VENUE_SIMULATORS[venue]!.start({ port: 0, rate: 20 });
    const { engine, records } = rig.start(sim);
    engine.subscribe({ exchange: venue, channels: ['funding'], symbols: [symbol!] });
    const seen = (field: (typeof FIELDS)[number]) =>
      records.some((r): r is TickerRecord => r.type === 'ticker' && r.symbol === symbol && Number.isFinite(r[field]));
    await waitFor(() => FIELDS.every(seen), `${FIELDS.join(', ')} on ${venue}`, 15_000);
    for (const r of records) if (r.type === 'ticker' && Number.isFinite(r.nextFundingTs)) expect(r.nextFundingTs).toBeGreaterThan(Date.now() - 86_400_000);
  });
});
