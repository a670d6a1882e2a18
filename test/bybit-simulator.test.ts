/** The Bybit v5 simulator speaks the protocol the adapter expects (raw `ws` client, no engine). */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type BybitSimulator, startBybitSimulator } from '../src/simulator/index.js';
import { waitFor } from './helpers/wait.js';

type Frame = Record<string, unknown> & { topic?: string; type?: string; data?: unknown };

let sim: BybitSimulator | undefined;
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await sim?.close();
  sim = undefined;
});

async function client(path: string): Promise<{ ws: WebSocket; frames: Frame[] }> {
  const ws = new WebSocket(`${sim!.wsUrl}${path}`);
  sockets.push(ws);
  const frames: Frame[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as Frame));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, frames };
}

const ofTopic = (frames: Frame[], topic: string) => frames.filter((f) => f.topic === topic);

interface BookData {
  b: [string, string][];
  a: [string, string][];
  u: number;
  seq: number;
}

describe('bybit simulator', () => {
  it('acks subscriptions (success, ret_msg, conn_id, req_id), answers pings, rejects bad requests', async () => {
    sim = await startBybitSimulator({ seed: 3 });
    const { ws, frames } = await client('/v5/public/spot');
    ws.send(JSON.stringify({ op: 'subscribe', req_id: '7', args: ['publicTrade.BTCUSDT'] }));
    ws.send(JSON.stringify({ op: 'ping', req_id: 'p1' }));
    ws.send(JSON.stringify({ op: 'subscribe', req_id: '8', args: Array.from({ length: 11 }, (_, i) => `kline.1.S${i}USDT`) }));
    ws.send(JSON.stringify({ op: 'subscribe', req_id: '9', args: ['nope.BTCUSDT'] }));
    ws.send(JSON.stringify({ op: 'subscribe', req_id: '10', args: ['publicTrade.BTCUSDT'] }));
    await waitFor(() => frames.filter((f) => f.op !== undefined).length === 5, 'five control answers');
    const control = frames.filter((f) => f.op !== undefined);
    expect(control[0]).toMatchObject({ success: true, ret_msg: 'subscribe', req_id: '7', op: 'subscribe' });
    expect(typeof control[0]!.conn_id).toBe('string');
    expect(control[1]).toMatchObject({ success: true, ret_msg: 'pong', req_id: 'p1', op: 'ping' });
    expect(control[2]).toMatchObject({ success: false, req_id: '8', ret_msg: expect.stringContaining('args size') });
    expect(control[3]).toMatchObject({ success: false, req_id: '9', ret_msg: expect.stringContaining('nope.BTCUSDT') });
    expect(control[4]).toMatchObject({ success: false, req_id: '10', ret_msg: expect.stringContaining('already subscribed') });
    expect(sim.stats()).toMatchObject({ pings: 1, spotConnections: 1, subscriptions: 1 });
    await waitFor(() => ofTopic(frames, 'publicTrade.BTCUSDT').length > 0, 'a trade frame');
    const trade = (ofTopic(frames, 'publicTrade.BTCUSDT')[0]!.data as Frame[])[0]!;
    expect(trade).toMatchObject({ s: 'BTCUSDT', S: expect.stringMatching(/^(Buy|Sell)$/), i: expect.any(String), seq: expect.any(Number) });
  });

  it('serves an order book snapshot then contiguous deltas that rebuild its published book', async () => {
    sim = await startBybitSimulator({ seed: 4, ratePerStream: 60 });
    const { ws, frames } = await client('/v5/public/linear');
    ws.send(JSON.stringify({ op: 'subscribe', req_id: '1', args: ['orderbook.50.ETHUSDT'] }));
    const T = 'orderbook.50.ETHUSDT';
    await waitFor(() => ofTopic(frames, T).length > 20, 'twenty book frames');
    const books = ofTopic(frames, T);
    expect(books[0]!.type).toBe('snapshot');
    expect(books.slice(1).every((f) => f.type === 'delta')).toBe(true);
    const us = books.map((f) => (f.data as BookData).u);
    for (let i = 1; i < us.length; i++) expect(us[i]).toBe(us[i - 1]! + 1);
    // Apply and compare with the simulator at the same u.
    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    let u = 0;
    let applied = 0;
    const apply = () => {
      for (const f of ofTopic(frames, T).slice(applied)) {
        const d = f.data as BookData;
        for (const [p, q] of d.b) Number(q) === 0 ? bids.delete(Number(p)) : bids.set(Number(p), Number(q));
        for (const [p, q] of d.a) Number(q) === 0 ? asks.delete(Number(p)) : asks.set(Number(p), Number(q));
        u = d.u;
        applied++;
      }
    };
    await waitFor(() => {
      apply();
      return u === sim!.book('ETHUSDT', 'linear').lastUpdateId;
    }, 'our book at the simulator u');
    const truth = sim.book('ETHUSDT', 'linear');
    expect([...bids].sort((a, b) => b[0] - a[0])).toEqual(truth.bids);
    expect([...asks].sort((a, b) => a[0] - b[0])).toEqual(truth.asks);
    expect(truth.bids).toHaveLength(50);

    // A second subscriber gets a snapshot at the current u; skipSequence loses one delta.
    const second = await client('/v5/public/linear');
    second.ws.send(JSON.stringify({ op: 'subscribe', args: ['orderbook.50.ETHUSDT'] }));
    await waitFor(() => ofTopic(second.frames, T).length > 0, 'a snapshot for the second client');
    expect(ofTopic(second.frames, T)[0]!.type).toBe('snapshot');
    const mark = ofTopic(frames, T).length;
    sim.faults.skipSequence('ETHUSDT', 'linear');
    await waitFor(() => ofTopic(frames, T).length > mark + 2, 'more deltas');
    const after = ofTopic(frames, T)
      .slice(mark - 1)
      .map((f) => (f.data as BookData).u);
    const jumps = after.slice(1).map((x, i) => x - after[i]!);
    expect(jumps.filter((j) => j === 2)).toHaveLength(1);
    expect(jumps.filter((j) => j !== 1 && j !== 2)).toHaveLength(0);
  });

  it('pushes linear tickers as snapshot + deltas, spot tickers as snapshots, and klines', async () => {
    sim = await startBybitSimulator({ seed: 5, tickerRate: 40, klineRate: 20 });
    const lin = await client('/v5/public/linear');
    const spot = await client('/v5/public/spot');
    lin.ws.send(JSON.stringify({ op: 'subscribe', req_id: '1', args: ['tickers.BTCUSDT', 'kline.1.BTCUSDT'] }));
    spot.ws.send(JSON.stringify({ op: 'subscribe', req_id: '1', args: ['tickers.BTCUSDT', 'orderbook.1.BTCUSDT'] }));
    await waitFor(
      () => ofTopic(lin.frames, 'tickers.BTCUSDT').length > 4 && ofTopic(spot.frames, 'tickers.BTCUSDT').length > 2,
      'tickers on both',
    );
    const lt = ofTopic(lin.frames, 'tickers.BTCUSDT');
    expect(lt[0]!.type).toBe('snapshot');
    expect(lt[0]!.data).toMatchObject({ markPrice: expect.any(String), indexPrice: expect.any(String), fundingRate: expect.any(String), nextFundingTime: expect.any(String) });
    expect(lt.slice(1).every((f) => f.type === 'delta' && Object.keys(f.data as object).length < 18)).toBe(true);
    expect(ofTopic(spot.frames, 'tickers.BTCUSDT').every((f) => f.type === 'snapshot')).toBe(true);
    expect(lin.frames.find((f) => f.op === 'subscribe')).toMatchObject({ ret_msg: '' });
    await waitFor(() => ofTopic(lin.frames, 'kline.1.BTCUSDT').length > 1, 'klines');
    expect((ofTopic(lin.frames, 'kline.1.BTCUSDT')[0]!.data as Frame[])[0]).toMatchObject({ interval: '1', confirm: false });
    await waitFor(() => ofTopic(spot.frames, 'orderbook.1.BTCUSDT').length > 1, 'level-1 books');
    expect(ofTopic(spot.frames, 'orderbook.1.BTCUSDT').every((f) => f.type === 'snapshot')).toBe(true);
    // Spot and linear are separate markets.
    expect(sim.book('BTCUSDT', 'spot', 1).bids[0]).not.toEqual(undefined);
    expect(sim.stats()).toMatchObject({ spotConnections: 1, linearConnections: 1 });
  });
});
