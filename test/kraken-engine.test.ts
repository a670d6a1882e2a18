/** Kraken v2 end to end: real workers through `createEngine` against the Kraken simulator. */

import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Engine } from '../src/engine/engine.js';
import { type MarketRecord, ResyncReason, type StatusRecord } from '../src/records/types.js';
import { type KrakenSimulator, startKrakenSimulator } from '../src/simulator/index.js';
import { createKrakenSession } from '../src/venues/kraken/session.js';
import { venueRig } from './helpers/engine.js';
import { waitFor } from './helpers/wait.js';
import { recordingContext } from './kit/recording-context.js';

const SYMBOLS = ['BTC/USD', 'ETH/USD'];
/** The session's default book depth (what the engine's book should hold). */
const DEPTH = 25;

const rig = venueRig('kraken');


const count = (records: MarketRecord[], type: string, symbol?: string): number =>
  records.filter((r) => r.type === type && (symbol === undefined || r.symbol === symbol)).length;

const statuses = (records: MarketRecord[], symbol: string): StatusRecord[] =>
  records.filter((r): r is StatusRecord => r.type === 'status' && r.symbol === symbol);

/** Freeze the market and wait until the engine's book of `symbol` is the simulator's top `DEPTH`. */
async function expectBookMatches(e: Engine, s: KrakenSimulator, symbol: string): Promise<void> {
  s.freeze(true);
  const same = (): boolean => {
    const ours = e.book('kraken', symbol);
    const truth = s.book(symbol);
    return (
      ours?.synced === true &&
      JSON.stringify(ours.levels('bids')) === JSON.stringify(truth.bids.slice(0, DEPTH)) &&
      JSON.stringify(ours.levels('asks')) === JSON.stringify(truth.asks.slice(0, DEPTH))
    );
  };
  await waitFor(same, `the engine's ${symbol} book to equal the simulator's`);
  s.freeze(false);
}

describe('kraken engine against the simulator (real workers)', () => {
  it('streams trades, tickers, books and candles for every symbol', async () => {
    const sim = await startKrakenSimulator({ seed: 21, ratePerPair: 60 });
    const { engine: e, records } = rig.start(sim);
    e.subscribe({ exchange: 'kraken', channels: ['trades', 'ticker', 'book', 'candles'], symbols: SYMBOLS });
    await waitFor(
      () => SYMBOLS.every((s) => ['trade', 'ticker', 'book', 'candle'].every((t) => count(records, t, s) >= 3)),
      'three records of every type for every symbol',
    );
    for (const symbol of SYMBOLS) {
      const books = records.filter((r) => r.type === 'book' && r.symbol === symbol);
      expect(books[0]).toMatchObject({ snapshot: true, exchange: 'kraken' });
      expect(statuses(records, symbol).map((r) => r.status)).toEqual(['synced']);
      const trades = records.filter((r) => r.type === 'trade' && r.symbol === symbol);
      for (let i = 1; i < trades.length; i++) expect(trades[i]!.seq).toBe(trades[i - 1]!.seq + 1);
      const candle = records.find((r) => r.type === 'candle' && r.symbol === symbol);
      expect(candle).toMatchObject({ intervalSec: 60 });
    }
    const stats = e.stats();
    expect(stats.resyncs).toBe(0);
    expect(stats.badMessages).toBe(0);
    await expectBookMatches(e, sim, 'BTC/USD');
  });

  it('catches a corrupted checksum on that message, resyncs only that symbol, and rebuilds the book', async () => {
    const sim = await startKrakenSimulator({ seed: 22, ratePerPair: 60 });
    const { engine: e, records, logs } = rig.start(sim);
    e.subscribe({ exchange: 'kraken', channels: ['book'], symbols: SYMBOLS });
    e.subscribe({ exchange: 'kraken', channels: ['trades'], symbols: ['ETH/USD'] });
    await waitFor(() => SYMBOLS.every((s) => statuses(records, s).length === 1), 'both books synced');
    sim.faults.corruptChecksum('BTC/USD');
    await waitFor(
      () => statuses(records, 'BTC/USD').filter((r) => r.status === 'synced').length === 2,
      'BTC resynced',
    );
    const btc = statuses(records, 'BTC/USD');
    expect(btc.map((r) => r.status)).toEqual(['synced', 'resync', 'synced']);
    expect(btc[1]!.detail).toBe(ResyncReason.checksum);
    // The mismatch was found on the corrupted message itself: one mismatch, one resync.
    expect(logs.filter((l) => l.msg === 'kraken: book checksum mismatch')).toHaveLength(1);
    expect(e.stats().resyncs).toBe(1);
    // ETH was never touched and keeps flowing.
    expect(statuses(records, 'ETH/USD').map((r) => r.status)).toEqual(['synced']);
    const mark = records.length;
    await waitFor(
      () => count(records.slice(mark), 'book', 'ETH/USD') > 3 && count(records.slice(mark), 'trade', 'ETH/USD') > 1,
      'ETH books and trades after the resync',
    );
    await expectBookMatches(e, sim, 'BTC/USD');
    await expectBookMatches(e, sim, 'ETH/USD');
  });

  it('a dropped update (skipSequence) fails the next checksum and resyncs that symbol', async () => {
    const sim = await startKrakenSimulator({ seed: 23, ratePerPair: 60 });
    const { engine: e, records, logs } = rig.start(sim);
    e.subscribe({ exchange: 'kraken', channels: ['book'], symbols: SYMBOLS });
    await waitFor(() => SYMBOLS.every((s) => statuses(records, s).length === 1), 'both books synced');
    sim.faults.skipSequence('ETH/USD');
    await waitFor(
      () => statuses(records, 'ETH/USD').filter((r) => r.status === 'synced').length === 2,
      'ETH resynced',
    );
    expect(statuses(records, 'ETH/USD')[1]).toMatchObject({ status: 'resync', detail: ResyncReason.checksum });
    expect(statuses(records, 'BTC/USD').map((r) => r.status)).toEqual(['synced']);
    expect(logs.filter((l) => l.msg === 'kraken: book checksum mismatch')).toMatchObject([{ symbol: 'ETH/USD' }]);
    expect(e.stats().resyncs).toBe(1);
    await expectBookMatches(e, sim, 'ETH/USD');
  });

  it('reconnects after the server closes and takes fresh snapshots', async () => {
    const sim = await startKrakenSimulator({ seed: 24, ratePerPair: 60 });
    const { engine: e, records } = rig.start(sim);
    e.subscribe({ exchange: 'kraken', channels: ['book', 'trades'], symbols: SYMBOLS });
    await waitFor(() => SYMBOLS.every((s) => statuses(records, s).length === 1), 'both books synced');
    sim.faults.closeAll(1001);
    await waitFor(() => records.some((r) => r.type === 'status' && r.status === 'disconnected'), 'a disconnected status');
    const mark = records.length;
    await waitFor(
      () => SYMBOLS.every((s) => records.slice(mark).some((r) => r.type === 'book' && r.symbol === s && r.snapshot)),
      'new snapshots after the reconnect',
    );
    expect(e.stats().reconnects).toBe(1);
    await expectBookMatches(e, sim, 'BTC/USD');
  });

  it('skips a malformed frame with a logged error naming kraken and keeps streaming', async () => {
    const sim = await startKrakenSimulator({ seed: 25, ratePerPair: 60 });
    const { engine: e, records, logs } = rig.start(sim);
    e.subscribe({ exchange: 'kraken', channels: ['trades'], symbols: ['BTC/USD'] });
    await waitFor(() => count(records, 'trade') > 2, 'trades');
    sim.faults.malformed(2);
    await waitFor(() => e.stats().badMessages === 2, 'two bad frames counted');
    const mark = records.length;
    await waitFor(() => count(records.slice(mark), 'trade') > 2, 'trades after the bad frames');
    expect(String(logs.find((l) => l.msg === 'bad frame skipped')!.problem)).toMatch(/kraken/);
  });
});

describe('kraken simulator protocol', () => {
  it('answers pings, rejects bad requests, and its depth-10 updates verify in a session', async () => {
    const sim = await startKrakenSimulator({ seed: 26, ratePerPair: 200 });
    const frames: Array<Record<string, unknown>> = [];
    const rc = recordingContext({ restUrl: sim.restUrl, rest: () => Promise.reject(new Error('unused')) });
    const session = createKrakenSession(rc.ctx, { bookDepth: 10 });
    const streams = [{ channel: 'book' as const, symbol: 'SOL/USD', symbolId: 1, native: 'SOL/USD' }];
    session.addStreams(streams);
    const ws = new WebSocket(sim.wsUrl);
    ws.on('message', (data) => {
      const text = data.toString();
      frames.push(JSON.parse(text));
      session.onMessage(text);
    });
    await new Promise((r) => ws.once('open', r));
    for (const m of session.openMessages(streams)) ws.send(m);
    ws.send('{"method":"ping","req_id":77}');
    ws.send('{"method":"subscribe","params":{"channel":"book","symbol":["SOL/USD"],"depth":20},"req_id":78}');
    ws.send('{"method":"subscribe","params":{"channel":"book","symbol":["SOL/USD"],"depth":10},"req_id":79}');
    ws.send('{"method":"subscribe","params":{"channel":"trade","symbol":["sol-usd"]},"req_id":80}');
    await waitFor(() => rc.of('book').length > 300, 'three hundred book records');
    ws.close();
    expect(frames).toContainEqual(expect.objectContaining({ method: 'pong', req_id: 77 }));
    expect(frames).toContainEqual(expect.objectContaining({ req_id: 78, success: false, error: 'Invalid depth 20' }));
    expect(frames).toContainEqual(expect.objectContaining({ req_id: 79, success: false, error: 'Already subscribed' }));
    expect(frames).toContainEqual(expect.objectContaining({ req_id: 80, success: false, symbol: 'sol-usd' }));
    expect(session.precisionOf('SOL/USD')).toEqual({ price: 2, qty: 8 });
    expect(rc.resyncs).toEqual([]);
    expect(session.stats).toMatchObject({ checksumMismatches: 0, unverified: 0 });
    // Depth 10: some updates pushed levels out of scope without a delete (the client truncates).
    expect(session.book('SOL/USD')!.bidDepth).toBe(10);
  });
});
