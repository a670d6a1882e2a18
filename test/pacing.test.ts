/**
 * Outgoing message pacing: the kit's token bucket, and the engine against a Binance simulator that
 * closes a connection sent more than 5 messages a second (as Binance does).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { startSimulator } from '../src/simulator/index.js';
import { Pacer } from '../src/venues/kit/pacer.js';
import { venueRig } from './helpers/engine.js';
import { waitFor } from './helpers/wait.js';

describe('Pacer (token bucket)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes a burst at once, then at most perSecond a second, in order', async () => {
    vi.useFakeTimers();
    const at: Array<[number, number]> = [];
    const t0 = performance.now();
    const p = new Pacer<number>(
      (n) => {
        at.push([n, performance.now() - t0]);
      },
      { perSecond: 4, burst: 2 },
    );
    for (let i = 0; i < 10; i++) p.send(i);
    expect(at.map(([n]) => n)).toEqual([0, 1]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(at.map(([n]) => n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // In any window of t s at most burst + 4 t messages.
    for (const [, start] of at) {
      for (const t of [250, 500, 1000]) {
        const inWindow = at.filter(([, x]) => x >= start && x < start + t).length;
        expect(inWindow).toBeLessThanOrEqual(2 + (4 * t) / 1000);
      }
    }
  });

  it('folds waiting messages with merge, puts expansions first, clears', async () => {
    vi.useFakeTimers();
    const out: string[] = [];
    const p = new Pacer<string>(
      (s) => {
        out.push(s);
      },
      { perSecond: 10 }, (a, b) => (a.startsWith('sub') && b.startsWith('sub') ? `${a}+${b.slice(4)}` : undefined));
    p.send('sub a');
    p.send('sub b');
    p.send('sub c');
    p.send('ping');
    p.send('sub d');
    expect(out).toEqual(['sub a']);
    expect(p.pending).toBe(3); // 'sub b+c', 'ping', 'sub d'
    p.sendFirst(['x1', 'x2']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(out).toEqual(['sub a', 'x1', 'x2', 'sub b+c', 'ping', 'sub d']);
    p.send('late');
    p.send('later');
    p.clear();
    await vi.advanceTimersByTimeAsync(1000);
    expect(out.at(-1)).toBe('late');
    expect(p.pending).toBe(0);
  });

  it('a write that returns false holds the queue until resume()', () => {
    const out: number[] = [];
    let open = false;
    const p = new Pacer<number>((n) => (open ? (out.push(n), true) : false), { perSecond: Number.POSITIVE_INFINITY });
    p.send(1);
    p.send(2);
    expect(out).toEqual([]);
    expect(p.pending).toBe(2);
    open = true;
    p.sendFirst([0]);
    expect(out).toEqual([]);
    p.resume();
    expect(out).toEqual([0, 1, 2]);
  });

  it('a write that puts messages first (its expansion) is not re-entered: each message once, in order', () => {
    const out: string[] = [];
    const p: Pacer<string> = new Pacer<string>(
      (m) => {
        out.push(m);
        if (m === 'request') p.sendFirst(['frame 2', 'frame 3']);
        if (m === 'empty') p.sendFirst([]);
      },
      { perSecond: Number.POSITIVE_INFINITY },
    );
    p.send('empty');
    p.send('request');
    p.send('after');
    expect(out).toEqual(['empty', 'request', 'frame 2', 'frame 3', 'after']);
  });

  it('perSecond Infinity writes at once', () => {
    const out: number[] = [];
    const p = new Pacer<number>(
      (n) => {
        out.push(n);
      },
      { perSecond: Number.POSITIVE_INFINITY },
    );
    for (let i = 0; i < 100; i++) p.send(i);
    expect(out).toHaveLength(100);
  });
});

describe('pacing against a simulator that enforces Binance spot\'s 5 messages a second', () => {
  const rig = venueRig('binance');

  it('the simulator closes a client that sends 6 messages in a second (1008)', async () => {
    const sim = rig.track(await startSimulator({ ratePerStream: 1 }));
    const ws = new WebSocket(`${sim.wsUrl}/stream`);
    rig.track({ close: async () => ws.terminate() });
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    for (let i = 1; i <= 6; i++) ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: [`c${i}xusdt@trade`], id: i }));
    expect(await closed).toBe(1008);
    expect(sim.stats().closedForMessageRate).toBe(1);
  });

  it('300 subscribe() calls on one connection are paced and merged: every stream subscribed, never closed', async () => {
    const sim = await startSimulator({ ratePerStream: 1 });
    const { engine } = rig.start(sim, { maxStreamsPerConnection: 1024 });
    const symbols = Array.from({ length: 300 }, (_, i) => `P${i}X/USDT`);
    for (const symbol of symbols) engine.subscribe({ exchange: 'binance', channels: ['trades'], symbols: [symbol] });
    await waitFor(() => sim.stats().subscriptions === 300, 'the simulator to see 300 streams', 20_000);
    expect(engine.stats().connections).toHaveLength(1);
    expect(engine.stats().reconnects).toBe(0);
    expect(sim.stats().closedForMessageRate).toBe(0);
  });
});
