import { describe, expect, it } from 'vitest';
import type { BookRecord, MarketRecord } from '../src/records/types.js';
import { type OkxSimulator, startOkxSimulator } from '../src/simulator/index.js';
import { statuses, venueRig } from './helpers/engine.js';
import { waitFor } from './helpers/wait.js';

const SYMBOLS = ['BTC/USDT', 'ETH/USDT:USDT'];
const INST: Record<string, string> = { 'BTC/USDT': 'BTC-USDT', 'ETH/USDT:USDT': 'ETH-USDT-SWAP' };

const rig = venueRig('okx');


const count = (records: MarketRecord[], type: string, symbol?: string) =>
  records.filter((r) => r.type === type && (symbol === undefined || r.symbol === symbol)).length;

/** Rebuild one symbol's book from the records and wait until it reaches the simulator's seqId; compare. */
async function expectBookMatches(sim: OkxSimulator, records: MarketRecord[], symbol: string): Promise<void> {
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  let lastSeq = Number.NaN;
  let applied = 0;
  const apply = () => {
    for (; applied < records.length; applied++) {
      const r = records[applied]!;
      if (r.type !== 'book' || r.symbol !== symbol) continue;
      if (r.snapshot) {
        bids.clear();
        asks.clear();
      }
      for (const [p, q] of r.bids) q === 0 ? bids.delete(p) : bids.set(p, q);
      for (const [p, q] of r.asks) q === 0 ? asks.delete(p) : asks.set(p, q);
      lastSeq = r.seq;
    }
  };
  await waitFor(() => {
    apply();
    return lastSeq === sim.book(INST[symbol]!).lastUpdateId;
  }, `our ${symbol} book to reach the simulator's seqId`);
  const truth = sim.book(INST[symbol]!);
  const sorted = (m: Map<number, number>, desc: boolean) => [...m].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0]));
  expect(sorted(bids, true)).toEqual(truth.bids);
  expect(sorted(asks, false)).toEqual(truth.asks);
}

/**
 * The faulty update is the first one published after `seqAtFault`: nothing from it (or, for a
 * skipped sequence, from the update after it) reaches the consumer; the next book record for the
 * symbol past that seqId is the resync snapshot, preceded by the resync status.
 */
function expectCaughtAtOnce(records: MarketRecord[], symbol: string, seqAtFault: number): void {
  const i = records.findIndex((r) => r.type === 'book' && r.symbol === symbol && r.seq > seqAtFault);
  expect(records[i]).toMatchObject({ type: 'book', snapshot: true });
  const before = records.slice(0, i).filter((r) => r.symbol === symbol && r.type === 'status');
  expect(before.at(-1)).toMatchObject({ status: 'resync' });
}

describe('okx engine against the okx simulator (real workers)', () => {
  it('streams trades, quotes, tickers, books (public socket) and candles (business socket)', async () => {
    const sim = await startOkxSimulator({ seed: 3, ratePerInstrument: 40, slowIntervalMs: 200 });
    const { engine: e, records } = rig.start(sim);
    e.subscribe({ exchange: 'okx', channels: ['trades', 'quotes', 'ticker', 'book', 'candles', 'funding'], symbols: SYMBOLS });
    await waitFor(
      () => SYMBOLS.every((s) => ['trade', 'quote', 'ticker', 'book', 'candle'].every((t) => count(records, t, s) >= 3)),
      'three records of every type for every symbol',
    );
    expect(e.stats().connections).toHaveLength(2);
    const swapTickers = records.filter((r) => r.type === 'ticker' && r.symbol === 'ETH/USDT:USDT');
    expect(swapTickers.some((r) => r.type === 'ticker' && r.fundingRate === 0.0001)).toBe(true);
    expect(swapTickers.some((r) => r.type === 'ticker' && r.markPrice > 0)).toBe(true);
    for (const s of SYMBOLS) {
      expect(records.find((r): r is BookRecord => r.type === 'book' && r.symbol === s)!.snapshot).toBe(true);
      expect(statuses(records, s)).toEqual(['synced']);
    }
    expect(sim.stats().pings).toBe(0); // 25 s app ping interval: not reached in this test
    expect(e.stats().badMessages).toBe(0);
    expect(e.stats().integrityErrors).toBe(0);
  });

  it('a corrupted checksum resyncs only that symbol; the other keeps flowing; the book matches afterwards', async () => {
    const sim = await startOkxSimulator({ seed: 4, ratePerInstrument: 40 });
    const { engine: e, records } = rig.start(sim);
    e.subscribe({ exchange: 'okx', channels: ['book'], symbols: SYMBOLS });
    await waitFor(() => statuses(records).filter((s) => s === 'synced').length === 2, 'both books synced');
    const seqAtFault = sim.book('BTC-USDT').lastUpdateId;
    sim.faults.corruptChecksum('BTC-USDT');
    await waitFor(() => statuses(records, 'BTC/USDT').includes('resync'), 'a BTC resync');
    const resync = records.find((r) => r.type === 'status' && r.status === 'resync')!;
    expect(resync.type === 'status' && resync.detail).toBe(3); // ResyncReason.checksum
    const mark = records.length;
    await waitFor(() => statuses(records, 'BTC/USDT').filter((s) => s === 'synced').length === 2, 'BTC synced again');
    await waitFor(() => count(records.slice(mark), 'book', 'ETH/USDT:USDT') > 3, 'ETH books keep flowing');
    expect(statuses(records, 'ETH/USDT:USDT')).toEqual(['synced']);
    expect(e.stats().resyncs).toBe(1);
    expect(e.stats().reconnects).toBe(0);
    expectCaughtAtOnce(records, 'BTC/USDT', seqAtFault);
    await expectBookMatches(sim, records, 'BTC/USDT');
    await expectBookMatches(sim, records, 'ETH/USDT:USDT');
  });

  it('a skipped sequence is caught on the next update and resyncs only that symbol', async () => {
    const sim = await startOkxSimulator({ seed: 5, ratePerInstrument: 40 });
    const { engine: e, records } = rig.start(sim);
    e.subscribe({ exchange: 'okx', channels: ['book', 'trades'], symbols: SYMBOLS });
    await waitFor(() => statuses(records).filter((s) => s === 'synced').length === 2, 'both books synced');
    const seqAtFault = sim.book('ETH-USDT-SWAP').lastUpdateId;
    sim.faults.skipSequence('ETH/USDT:USDT');
    await waitFor(() => statuses(records, 'ETH/USDT:USDT').filter((s) => s === 'synced').length === 2, 'ETH resynced');
    const resync = records.find((r) => r.type === 'status' && r.status === 'resync')!;
    expect(resync).toMatchObject({ symbol: 'ETH/USDT:USDT', detail: 1 }); // ResyncReason.sequenceGap
    expect(statuses(records, 'BTC/USDT')).toEqual(['synced']);
    const mark = records.length;
    await waitFor(() => count(records.slice(mark), 'trade', 'BTC/USDT') > 2, 'BTC trades keep flowing');
    expect(e.stats().resyncs).toBe(1);
    expectCaughtAtOnce(records, 'ETH/USDT:USDT', seqAtFault);
    await expectBookMatches(sim, records, 'ETH/USDT:USDT');
  });

  it('reconnects after the server closes: books cleared and re-snapshotted', async () => {
    const sim = await startOkxSimulator({ seed: 6, ratePerInstrument: 40 });
    const { engine: e, records } = rig.start(sim);
    e.subscribe({ exchange: 'okx', channels: ['book'], symbols: ['BTC/USDT'] });
    await waitFor(() => statuses(records).includes('synced'), 'BTC synced');
    sim.faults.closeAll(1001);
    await waitFor(() => statuses(records, 'BTC/USDT').filter((s) => s === 'synced').length === 2, 'BTC synced after reconnect');
    expect(statuses(records)).toContain('disconnected');
    await expectBookMatches(sim, records, 'BTC/USDT');
  });

  it('replays the recorded OKX capture through the engine; every checksum verifies', async () => {
    const sim = await startOkxSimulator({
      replay: { ws: new URL('../../shared/fixtures/cryptofeed/OKX.ws.1.0', import.meta.url).pathname, speed: 'max' },
    });
    const { engine: e, records } = rig.start(sim);
    e.subscribe({ exchange: 'okx', channels: ['book', 'trades'], symbols: ['BTC/USDT', 'UNI/USD:UNI'] });
    await waitFor(
      () => count(records, 'book', 'BTC/USDT') === 98 && count(records, 'book', 'UNI/USD:UNI') === 93,
      'all recorded BTC-USDT (1 + 97) and UNI-USD-SWAP (1 + 92) books',
    );
    expect(statuses(records, 'BTC/USDT')).toEqual(['synced']);
    expect(statuses(records, 'UNI/USD:UNI')).toEqual(['synced']);
    expect(count(records, 'trade')).toBeGreaterThan(0);
    expect(e.stats().resyncs).toBe(0);
    expect(e.stats().badMessages).toBe(0);
  });
});
