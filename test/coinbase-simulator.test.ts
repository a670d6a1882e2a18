import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type CoinbaseSimulator, startCoinbaseSimulator } from '../src/simulator/index.js';
import { channelFrame } from '../src/venues/coinbase/protocol.js';
import { waitFor } from './helpers/wait.js';

let sim: CoinbaseSimulator | undefined;
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await sim?.close();
  sim = undefined;
});

async function client(url: string): Promise<{ ws: WebSocket; msgs: Array<Record<string, unknown>> }> {
  const ws = new WebSocket(url);
  sockets.push(ws);
  const msgs: Array<Record<string, unknown>> = [];
  ws.on('message', (d) => msgs.push(JSON.parse(String(d))));
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  return { ws, msgs };
}

const creds = { apiKey: 'k', secret: Buffer.from('s3cret').toString('base64'), passphrase: 'p' };

describe('coinbase simulator protocol', () => {
  it('acks subscriptions, sends a snapshot then batches, matches, tickers and heartbeats with sequences', async () => {
    sim = await startCoinbaseSimulator({ seed: 2, ratePerProduct: 80, heartbeatMs: 200 });
    const { ws, msgs } = await client(sim.wsUrl);
    ws.send(channelFrame('subscribe', new Map([['level2_batch', ['BTC-USD']], ['matches', ['BTC-USD']], ['heartbeat', ['BTC-USD']], ['ticker', ['BTC-USD']]])));
    await waitFor(() => ['l2update', 'match', 'ticker'].every((t) => msgs.some((m) => m.type === t)) && msgs.filter((m) => m.type === 'heartbeat').length >= 2, 'every message type');
    expect(msgs[0]).toMatchObject({ type: 'subscriptions' });
    expect(msgs.findIndex((m) => m.type === 'snapshot')).toBeLessThan(msgs.findIndex((m) => m.type === 'l2update'));
    const hb = msgs.filter((m) => m.type === 'heartbeat');
    expect(hb[1]!.sequence as number).toBeGreaterThanOrEqual(hb[0]!.sequence as number);
    const matches = msgs.filter((m) => m.type === 'match');
    for (let i = 1; i < matches.length; i++) expect(matches[i]!.trade_id).toBe((matches[i - 1]!.trade_id as number) + 1);
    ws.send(channelFrame('unsubscribe', new Map([['matches', ['BTC-USD']]])));
    await waitFor(() => msgs.filter((m) => m.type === 'subscriptions').length === 2, 'the unsubscribe ack');
    const names = (msgs.filter((m) => m.type === 'subscriptions')[1]!.channels as Array<{ name: string }>).map((c) => c.name);
    expect(names.sort()).toEqual(['heartbeat', 'level2_batch', 'ticker']);
    expect(sim.stats().subscriptions).toBe(3);
  });

  it('refuses level2 without a valid signature and accepts a signed subscribe', async () => {
    sim = await startCoinbaseSimulator({ seed: 3, auth: creds });
    const { ws, msgs } = await client(sim.wsUrl);
    const l2 = new Map([['level2', ['ETH-USD']]]);
    ws.send(channelFrame('subscribe', l2));
    ws.send(channelFrame('subscribe', l2, { ...creds, secret: Buffer.from('wrong').toString('base64') }));
    await waitFor(() => msgs.filter((m) => m.type === 'error').length === 2, 'two errors');
    expect(msgs[0]).toMatchObject({ type: 'error', reason: expect.stringContaining('authentication') });
    ws.send(channelFrame('subscribe', l2, creds));
    await waitFor(() => msgs.some((m) => m.type === 'snapshot'), 'a level2 snapshot');
    await waitFor(() => msgs.some((m) => m.type === 'l2update'), 'level2 updates');
    ws.send(JSON.stringify({ type: 'subscribe', channels: ['nope'], product_ids: ['ETH-USD'] }));
    await waitFor(() => msgs.filter((m) => m.type === 'error').length === 3, 'an error for a bad channel');
  });
});
