import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { BookRecord, MarketRecord } from '../src/records/types.js';
import { type Simulator, startSimulator } from '../src/simulator/index.js';
import { engineFor, type Harness, statuses } from './helpers/engine.js';
import { waitFor } from './helpers/wait.js';

const FIXTURES = fileURLToPath(new URL('../../shared/fixtures/cryptofeed/', import.meta.url));

let sim: Simulator | undefined;
let harness: Harness | undefined;

afterEach(async () => {
  await harness?.engine.close();
  await sim?.close();
});

const count = (records: MarketRecord[], type: string) => records.filter((r) => r.type === type).length;

describe('recorded Binance capture through the real worker path', () => {
  it('normalizes every recorded frame and syncs every book against the recorded snapshots', async () => {
    sim = await startSimulator({
      replay: { ws: `${FIXTURES}BINANCE.ws.1.0`, rest: `${FIXTURES}BINANCE.http.0.0`, speed: 'max' },
    });
    harness = engineFor(sim, { limits: { staleTimeoutMs: 0 } });
    const { engine, records } = harness;
    const symbols = ['NKN/USDT', 'BLZ/ETH', 'LRC/BTC', 'RUNE/EUR'];
    engine.subscribe({ exchange: 'binance', channels: ['book', 'quotes', 'candles', 'aggTrades'], symbols });
    // The capture holds 84 bookTicker, 2 kline and 2 aggTrade frames and four snapshots.
    await waitFor(
      () => count(records, 'quote') === 84 && count(records, 'candle') === 2 && count(records, 'trade') === 2,
      'every recorded quote, candle and trade',
    );
    await waitFor(() => statuses(records).filter((s) => s === 'synced').length === 4, 'four books synced');
    expect(statuses(records)).not.toContain('resync');
    expect(engine.stats().badMessages).toBe(0);
    const nkn = records.filter((r): r is BookRecord => r.type === 'book' && r.symbol === 'NKN/USDT');
    expect(nkn[0]).toMatchObject({ snapshot: true, seq: 499869752 });
    expect(nkn[1]).toMatchObject({ snapshot: false, firstSeq: 499869753, seq: 499869754 });
    // Deltas chain without gaps after the snapshot.
    for (const symbol of symbols) {
      const book = records.filter((r): r is BookRecord => r.type === 'book' && r.symbol === symbol);
      for (let i = 2; i < book.length; i++) expect(book[i]!.firstSeq).toBe(book[i - 1]!.seq + 1);
    }
    const quote = records.find((r) => r.type === 'quote' && r.symbol === 'BLZ/ETH');
    expect(quote).toMatchObject({ exchange: 'binance', type: 'quote' });
  });
});
