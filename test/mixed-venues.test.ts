/**
 * One engine holding Binance, Futu and IB subscriptions at once (issue 11): the three venue
 * simulators on 127.0.0.1:0, trades + quotes + book for two symbols on each, through real worker
 * threads. Every record carries its own venue, every book is synced and exact against its
 * simulator's, per-venue stats add up, nothing is lost or corrupt, and close() leaves no
 * connection to any simulator.
 */
import { describe, expect, it } from 'vitest';
import type { Channel } from '../src/index.js';
import type { MarketRecord, TradeRecord } from '../src/records/types.js';
import { startSimulator } from '../src/simulator/binance/server.js';
import { startFutuSimulator } from '../src/simulator/futu/server.js';
import { startIbSimulator } from '../src/simulator/ib/server.js';
import { statuses, venueRig } from './helpers/engine.js';
import { waitFor } from './helpers/wait.js';

const rig = venueRig('binance');

const CHANNELS: readonly Channel[] = ['trades', 'quotes', 'book'];
/** Two symbols per venue, as each venue writes them (and as its simulator's table has them). */
const SYMBOLS = {
  binance: ['BTC/USDT', 'ETH/USDT'],
  futu: ['HK.00700', 'US.AAPL'],
  ib: ['AAPL', 'MSFT'],
} as const;
type Venue = keyof typeof SYMBOLS;
const VENUES = Object.keys(SYMBOLS) as Venue[];
const RECORD_OF: Record<string, string> = { trades: 'trade', quotes: 'quote', book: 'book' };

/** TCP sockets of this thread (the simulators' server side of every engine connection). */
const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

async function start(threads: number) {
  // Tracked before the rig's own (binance simulator, then engine): closed after the engine.
  const futu = rig.track(await startFutuSimulator({ seed: 5, ratePerSecurity: 40, wsPort: -1 }));
  const ib = rig.track(await startIbSimulator({ seed: 6, rate: 50 }));
  const binance = await startSimulator({ seed: 7, ratePerStream: 40 });
  const baseSockets = sockets();
  const h = rig.start(binance, { threads, venues: { futu: { wsUrl: futu.wsUrl }, ib: { wsUrl: ib.wsUrl, clientId: 9 } } });
  return { ...h, sims: { binance, futu, ib }, baseSockets };
}

const of = (records: readonly MarketRecord[], exchange: string, type: string, symbol?: string) =>
  records.filter((r) => r.exchange === exchange && r.type === type && (symbol === undefined || r.symbol === symbol));

describe('one engine on Binance, Futu and IB at once', () => {
  for (const threads of [1, 3]) {
    it(`streams every venue with the right exchange, exact books, per-venue stats, no loss; close() ends every connection (${threads} worker thread${threads > 1 ? 's' : ''})`, async () => {
      const { engine, records, logs, sims, baseSockets } = await start(threads);
      for (const venue of VENUES) engine.subscribe({ exchange: venue, channels: [...CHANNELS], symbols: [...SYMBOLS[venue]] });

      // Every channel of every symbol of every venue delivers, under its own exchange.
      for (const venue of VENUES) {
        for (const symbol of SYMBOLS[venue]) {
          for (const c of CHANNELS) {
            await waitFor(() => of(records, venue, RECORD_OF[c]!, symbol).length >= 3, `${venue} ${symbol} ${c}`, 15_000);
          }
          await waitFor(() => engine.book(venue, symbol)?.synced === true, `${venue} ${symbol} book synced`, 15_000);
          expect(statuses(records.filter((r) => r.exchange === venue), symbol)).toContain('synced');
        }
      }
      const known = new Set<string>(VENUES);
      expect(records.filter((r) => !known.has(r.exchange))).toEqual([]);
      for (const venue of VENUES) {
        const mine = new Set<string>(SYMBOLS[venue]);
        const foreign = records.filter((r) => r.exchange === venue && r.type !== 'status' && !mine.has(r.symbol));
        expect(foreign, `${venue} records for symbols of another venue`).toEqual([]);
      }
      for (const q of records) {
        if (q.type === 'quote') expect(q.bidPrice, `${q.exchange} ${q.symbol} quote`).toBeLessThan(q.askPrice);
      }

      // Books: consistent on every venue, exact against each simulator.
      for (const venue of VENUES) {
        for (const symbol of SYMBOLS[venue]) {
          const book = engine.book(venue, symbol)!;
          expect(book).toMatchObject({ exchange: venue, symbol, synced: true });
          const bids = book.levels('bids');
          const asks = book.levels('asks');
          expect(bids.length, `${venue} ${symbol} bids`).toBeGreaterThan(0);
          expect(asks.length, `${venue} ${symbol} asks`).toBeGreaterThan(0);
          for (let i = 1; i < bids.length; i++) expect(bids[i]![0]).toBeLessThan(bids[i - 1]![0]);
          for (let i = 1; i < asks.length; i++) expect(asks[i]![0]).toBeGreaterThan(asks[i - 1]![0]);
          expect(book.bestBid()).toBe(bids[0]![0]);
          expect(book.bestAsk()).toBe(asks[0]![0]);
          expect(book.bestBid(), `${venue} ${symbol} crossed`).toBeLessThan(book.bestAsk());
        }
      }
      // Binance: at the simulator's update id the top 20 are the simulator's (the simulator runs
      // on this thread, so nothing moves between the wait and the comparison).
      for (const symbol of SYMBOLS.binance) {
        const native = symbol.replace('/', '');
        const live = engine.book('binance', symbol)!;
        await waitFor(() => live.seq === sims.binance.book(native).lastUpdateId, `binance ${symbol} at the simulator's update id`);
        const truth = sims.binance.book(native);
        expect(live.levels('bids', 20)).toEqual(truth.bids.slice(0, 20));
        expect(live.levels('asks', 20)).toEqual(truth.asks.slice(0, 20));
      }
      // Futu pushes its top 10: equal to the simulator's top 10 at some moment.
      for (const symbol of SYMBOLS.futu) {
        let last = '';
        await waitFor(() => {
          const ours = engine.book('futu', symbol)!;
          const truth = sims.futu.book(symbol, 10)!;
          last = JSON.stringify({ ours: [ours.levels('bids'), ours.levels('asks')], truth });
          return JSON.stringify(ours.levels('bids')) === JSON.stringify(truth.bids) && JSON.stringify(ours.levels('asks')) === JSON.stringify(truth.asks);
        }, `futu ${symbol} book to equal the simulator's top 10 (last: ${last})`);
      }
      // IB: freeze its market; the depth deltas already sent leave our book equal to TWS's.
      sims.ib.faults.freeze(true);
      for (const symbol of SYMBOLS.ib) {
        await waitFor(() => {
          const ours = engine.book('ib', symbol)!;
          const truth = sims.ib.book(symbol);
          return JSON.stringify(ours.levels('bids')) === JSON.stringify(truth.bids) && JSON.stringify(ours.levels('asks')) === JSON.stringify(truth.asks);
        }, `ib ${symbol} book to equal the simulator's`);
      }
      sims.ib.faults.freeze(false);

      // Trade sequences: Binance trade ids and Futu ticker sequences are consecutive per symbol.
      for (const venue of ['binance', 'futu'] as const) {
        for (const symbol of SYMBOLS[venue]) {
          const seqs = (of(records, venue, 'trade', symbol) as TradeRecord[]).map((t) => t.seq);
          for (let i = 1; i < seqs.length; i++) expect(seqs[i], `${venue} ${symbol} trade ${i}`).toBe(seqs[i - 1]! + 1);
        }
      }

      // Per-venue stats: each venue has its own connection(s), up, with records; per stream counts.
      const stats = engine.stats();
      for (const venue of VENUES) {
        const conns = stats.connections.filter((c) => c.exchange === venue);
        expect(conns.length, `${venue} connections`).toBeGreaterThan(0);
        expect(conns.every((c) => c.state === 'connected'), `${venue} connected`).toBe(true);
        expect(conns.reduce((a, c) => a + c.streams, 0)).toBe(SYMBOLS[venue].length * CHANNELS.length);
        expect(conns.reduce((a, c) => a + c.records, 0)).toBeGreaterThan(0);
        expect(conns.reduce((a, c) => a + c.dropped + c.badMessages + c.resyncs + c.reconnects, 0), `${venue} losses`).toBe(0);
        for (const symbol of SYMBOLS[venue]) {
          for (const channel of CHANNELS) {
            const s = stats.perStream.find((p) => p.exchange === venue && p.symbol === symbol && p.channel === channel);
            expect(s?.messages, `${venue} ${symbol} ${channel} messages`).toBeGreaterThan(0);
          }
        }
      }
      expect(stats.connections.length).toBe(3);
      expect(stats.streams).toBe(VENUES.length * 2 * CHANNELS.length);
      expect(stats.messages).toBe(records.filter((r) => r.type !== 'status').length);
      expect({ integrityErrors: stats.integrityErrors, badMessages: stats.badMessages, handlerErrors: stats.handlerErrors }).toEqual({
        integrityErrors: 0,
        badMessages: 0,
        handlerErrors: 0,
      });
      expect({ drops: stats.drops, gaps: stats.gaps, resyncs: stats.resyncs, reconnects: stats.reconnects }).toEqual({ drops: 0, gaps: 0, resyncs: 0, reconnects: 0 });
      expect(logs.filter((l) => (l.level as number) >= 50)).toEqual([]);
      expect(sims.binance.stats().connections).toBeGreaterThan(0);
      expect(sockets()).toBeGreaterThan(baseSockets);

      // close(): every venue's socket is gone (each simulator sees its client leave), nothing more arrives.
      await engine.close();
      await waitFor(() => sims.binance.stats().connections === 0 && sockets() === baseSockets, 'every simulator connection closed');
      // The markets go on (the simulators run on this thread): records would have arrived by now.
      const after = records.length;
      const futuIn = sims.futu.stats().packetsIn;
      const ibIn = sims.ib.stats.messagesReceived;
      const binanceId = sims.binance.book('BTCUSDT').lastUpdateId;
      await waitFor(() => sims.binance.book('BTCUSDT').lastUpdateId > binanceId + 20, 'the binance market to move on');
      expect(records.length).toBe(after);
      expect(sims.futu.stats().packetsIn, 'futu requests after close').toBe(futuIn);
      expect(sims.ib.stats.messagesReceived, 'ib requests after close').toBe(ibIn);
      expect(() => engine.subscribe({ exchange: 'ib', channels: ['trades'], symbols: ['AAPL'] })).toThrow();
    }, 60_000);
  }
});
