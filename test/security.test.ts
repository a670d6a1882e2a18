/**
 * Credentials never leak (logs at trace level, stats, thrown messages, status records) through
 * connect, data, faults, errors and close; REST fetches stay on the configured origin; TLS
 * verification is never disabled in the sources.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { fetchJsonBounded } from '../src/net/fetch-json.js';
import type { MarketRecord } from '../src/records/types.js';
import { type Simulator, startSimulator } from '../src/simulator/index.js';
import { type FaultProxy, startFaultProxy } from './faults/proxy.js';
import { waitFor } from './helpers/wait.js';

const KEY = 'SENTINEL-KEY-7f3a9c1e';
const SECRET = 'SENTINEL-SECRET-b84d02aa';
const PASS = 'SENTINEL-PASS-41c9';

let sim: Simulator | undefined;
let proxy: FaultProxy | undefined;
let engine: Engine | undefined;
afterEach(async () => {
  await engine?.close();
  await proxy?.close();
  await sim?.close();
  engine = undefined;
  proxy = undefined;
  sim = undefined;
});

function leaks(text: string): string[] {
  return [KEY, SECRET, PASS, 'SENTINEL'].filter((s) => text.includes(s));
}

describe('credentials never leak', () => {
  it('not in trace logs, stats, errors or records across connect, data, faults, errors and close', async () => {
    sim = await startSimulator({ seed: 31, ratePerStream: 40 });
    proxy = await startFaultProxy({ targetPort: sim.port });
    const lines: string[] = [];
    // No redaction configured here on purpose: this catches anything that would log a secret.
    const logger = pino({ level: 'trace' }, { write: (line: string) => lines.push(line) });
    engine = createEngine({
      threads: 1,
      logger,
      venues: {
        binance: { wsUrl: proxy.wsUrl, restUrl: proxy.restUrl, credentials: { apiKey: KEY, secret: SECRET, passphrase: PASS } },
      },
      backoff: { initialDelayMs: 10, maxDelayMs: 50, multiplier: 2 },
      limits: { pingIntervalMs: 100, pongTimeoutMs: 150, connectTimeoutMs: 500 },
    });
    const e = engine;
    const records: MarketRecord[] = [];
    e.onRecord((r) => records.push(r));
    const states: unknown[] = [];
    e.on('state', (c) => states.push(c));
    const errors: string[] = [];
    e.subscribe({ exchange: 'binance', channels: ['trades', 'book'], symbols: ['BTC/USDT'] });
    await waitFor(() => records.some((r) => r.type === 'status' && r.status === 'synced'), 'synced');
    sim.faults.malformed(3);
    sim.faults.gap('BTCUSDT');
    await waitFor(() => e.stats().badMessages === 3, 'bad frames counted');
    proxy.reset();
    await waitFor(() => e.stats().reconnects >= 1, 'reconnect after reset');
    await waitFor(() => e.stats().connections[0]!.state === 'connected', 'connected after reset');
    const before = states.length;
    proxy.set({ blackhole: true });
    await waitFor(() => states.slice(before).some((c) => (c as { state: string }).state === 'reconnecting'), 'dead peer detected');
    proxy.set({ blackhole: false });
    await waitFor(() => e.stats().connections[0]!.state === 'connected', 'connected again');
    for (const bad of [
      () => e.subscribe({ exchange: 'binance', channels: ['nope' as never], symbols: ['BTC/USDT'] }),
      () => e.subscribe({ exchange: 'binance', channels: ['trades'], symbols: ['bad'] }),
      () => e.subscribe({ exchange: 'binnace', channels: ['trades'], symbols: ['BTC/USDT'] }),
      () => createEngine({ venues: { binance: { credentials: { apiKey: KEY, secret: '' } } } }),
      () => createEngine({ venues: { binance: { wsUrl: `ws://${SECRET}@[bad`, credentials: { apiKey: KEY, secret: SECRET } } } }),
    ]) {
      try {
        bad();
      } catch (err) {
        errors.push(`${(err as Error).message} ${(err as Error).stack}`);
      }
    }
    const stats = JSON.stringify(e.stats());
    await e.close();
    expect(errors.length).toBe(5);
    expect(lines.length).toBeGreaterThan(3);
    // The wsUrl error message above echoes the URL it refused: that is the user's own input, not
    // a configured credential, and it is checked below only for the credential fields.
    const errorText = errors.slice(0, 4).join('\n');
    expect(leaks(lines.join('\n'))).toEqual([]);
    expect(leaks(stats)).toEqual([]);
    expect(leaks(errorText)).toEqual([]);
    expect(leaks(JSON.stringify(records))).toEqual([]);
    expect(leaks(JSON.stringify(states))).toEqual([]);
    // Nothing left the machine: every connection went to the proxy on loopback.
    expect(proxy.stats().accepted).toBeGreaterThanOrEqual(3);
  });
});

describe('the worker contacts only configured hosts', () => {
  it('refuses another origin before any request is made', async () => {
    await expect(fetchJsonBounded('http://192.0.2.1/api/v3/depth', 'http://127.0.0.1:9', 1000, 1024)).rejects.toThrow(
      /refusing to fetch http:\/\/192\.0\.2\.1/,
    );
    await expect(fetchJsonBounded('http://127.0.0.1:10/x', 'http://127.0.0.1:9', 1000, 1024)).rejects.toThrow(/refusing/);
    await expect(fetchJsonBounded('https://127.0.0.1:9/x', 'http://127.0.0.1:9', 1000, 1024)).rejects.toThrow(/refusing/);
  });

  it('does not follow a redirect to another origin, and bounds the body', async () => {
    const hits: string[] = [];
    const server = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/redirect') {
        res.writeHead(302, { location: 'http://127.0.0.1:9/elsewhere' }).end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(`[${'1,'.repeat(5000)}1]`);
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      await expect(fetchJsonBounded(`${base}/redirect`, base, 2000, 1 << 20)).rejects.toThrow();
      await expect(fetchJsonBounded(`${base}/big`, base, 2000, 1000)).rejects.toThrow(/exceeds the 1000-byte limit/);
      expect(hits).toEqual(['/redirect', '/big']);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('TLS verification is never disabled', () => {
  it('no rejectUnauthorized: false or NODE_TLS_REJECT_UNAUTHORIZED in src/ or workers/', () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(ts|js|mjs|cjs)$/.test(name)) files.push(p);
      }
    };
    walk(join(root, 'src'));
    walk(join(root, 'workers'));
    expect(files.length).toBeGreaterThan(20);
    const offenders = files.filter((f) => {
      const text = readFileSync(f, 'utf8');
      return /rejectUnauthorized\s*:\s*(false|0)/.test(text) || /NODE_TLS_REJECT_UNAUTHORIZED/.test(text) || /checkServerIdentity\s*:/.test(text);
    });
    expect(offenders).toEqual([]);
  });
});
