/** The engine's `metrics` option: /metrics and /health for the engine's life, closed with it. */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../src/engine/engine.js';
import { healthOf } from '../src/exposition/health.js';
import { startSimulator } from '../src/simulator/index.js';
import { captureLogger, closeAfterEach } from './helpers/engine.js';
import { waitFor } from './helpers/wait.js';

const track = closeAfterEach();

describe('createEngine({ metrics })', () => {
  it('serves /metrics and /health on the bound port while the engine runs, and stops with close()', async () => {
    const sim = track(await startSimulator({ seed: 4, ratePerStream: 40 }));
    const engine = createEngine({ threads: 1, logger: captureLogger([]), metrics: { port: 0 }, venues: { binance: { wsUrl: sim.wsUrl, restUrl: sim.restUrl } } });
    const server = await engine.metricsServer!;
    expect(server.host).toBe('127.0.0.1');
    engine.subscribe({ exchange: 'binance', channels: ['trades', 'book'], symbols: ['BTC/USDT'] });
    const url = `http://127.0.0.1:${server.port}`;
    await waitFor(() => healthOf(engine).healthy, 'a healthy engine', 20_000);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/ringfeed_connection_state\{connection="1",exchange="binance",state="connected"\} 1/);
    // The engine's own rings: share in use, 0..1.
    const fill = /ringfeed_connection_ring_fill_ratio\{connection="1",exchange="binance"\} ([0-9.e-]+)/.exec(text);
    expect(fill, 'ring fill of connection 1').not.toBeNull();
    expect(Number(fill![1])).toBeGreaterThanOrEqual(0);
    expect(Number(fill![1])).toBeLessThan(1);
    await engine.close();
    await expect(fetch(`${url}/metrics`)).rejects.toThrow();
  });

  it('a port another process holds: the engine runs on, metricsServer rejects naming the port, the error is logged', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    track({ close: () => new Promise<void>((resolve) => holder.close(() => resolve())) });
    const port = (holder.address() as { port: number }).port;
    const logs: Array<Record<string, unknown>> = [];
    const engine = track(createEngine({ threads: 1, logger: captureLogger(logs), metrics: { port } }));
    await expect(engine.metricsServer).rejects.toThrow(String(port));
    await waitFor(() => logs.some((l) => l.msg === 'metrics server could not listen' && l.port === port), 'the error logged');
    expect(engine.stats().connections).toEqual([]);
  });

  it('bad metrics options name their path', () => {
    expect(() => createEngine({ metrics: { port: 70_000 } })).toThrow(/metrics\.port must be an integer from 0 to 65535/);
    expect(() => createEngine({ metrics: { port: 0, host: 'a b' } })).toThrow(/metrics\.host must be a host name or address/);
    expect(() => createEngine({ metrics: { port: 0, path: '/m' } as never })).toThrow(/metrics/);
  });
});
