/** Documented limits: frame size, streams per connection, snapshot buffering, worker heap, option validation. */

import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { RingfeedError } from '../src/engine/errors.js';
import { DEFAULT_LIMITS, resolveOptions } from '../src/engine/options.js';
import { createBinanceSession } from '../src/venues/binance/session.js';
import type { SessionContext } from '../src/venues/contract.js';
import { wsFrameHeader } from './faults/proxy.js';
import { type Rig, startRig } from './faults/rig.js';
import { captureLogger } from './helpers/engine.js';
import { waitFor } from './helpers/wait.js';
import { quietContext } from './kit/recording-context.js';

let rig: Rig | undefined;
let engine: Engine | undefined;
afterEach(async () => {
  await rig?.close();
  await engine?.close();
  rig = undefined;
  engine = undefined;
});

describe('limits', () => {
  it('a frame above limits.maxFrameBytes closes the socket (1009), reconnects, and is never buffered', async () => {
    const max = 64 * 1024;
    rig = await startRig(9, { ratePerStream: 40 }, { limits: { maxFrameBytes: max } });
    const r = rig;
    r.engine.subscribe({ exchange: 'binance', channels: ['trades'], symbols: ['BTC/USDT'] });
    await waitFor(() => r.records.some((x) => x.type === 'trade'), 'trades');
    // Only the header and a few bytes of a 512 MiB frame: the client must refuse on the header.
    const header = wsFrameHeader(0x1, 512 * 1024 * 1024);
    for (let round = 1; round <= 3; round++) {
      await waitFor(() => r.engine.stats().connections[0]!.state === 'connected', 'connected');
      expect(r.proxy.injectToClients(Buffer.concat([header, Buffer.alloc(1024, 0x78)]))).toBe(1);
      await waitFor(() => r.engine.stats().reconnects === round, `reconnect ${round}`);
    }
    const tooLarge = r.changes.filter((c) => c.state === 'reconnecting');
    expect(tooLarge).toHaveLength(3);
    for (const c of tooLarge) expect(c.reason).toMatch(/max payload|too.large|1009/i);
    // What the venue sees: a close frame with 1009 (message too big) each time.
    expect(r.proxy.stats().clientCloseCodes.filter((code) => code === 1009)).toHaveLength(3);
    const mark = r.records.length;
    await waitFor(() => r.records.slice(mark).some((x) => x.type === 'trade'), 'trades after the oversize frames');
    expect(r.engine.stats().integrityErrors).toBe(0);
  });

  it('maxStreamsPerConnection: 250 streams with a maximum of 100 → 3 connections', async () => {
    rig = await startRig(10, { ratePerStream: 1 }, { maxStreamsPerConnection: 100 });
    const r = rig;
    const symbols = Array.from({ length: 50 }, (_, i) => `C${i}X/USDT`);
    r.engine.subscribe({ exchange: 'binance', channels: ['trades', 'aggTrades', 'quotes', 'ticker', 'candles'], symbols });
    const conns = r.engine.stats().connections;
    expect(conns.map((c) => c.streams)).toEqual([100, 100, 50]);
    await waitFor(() => r.engine.stats().connections.every((c) => c.state === 'connected'), 'three connections up');
    await waitFor(() => r.sim.stats().connections === 3 && r.sim.stats().subscriptions === 250, 'the simulator sees 250 streams');
  });

  it('snapshot buffering is bounded by limits.maxBufferedUpdates when the REST snapshot never answers', () => {
    let fetches = 0;
    const ctx: SessionContext = {
      ...quietContext(),
      fetchJson: () => {
        fetches++;
        return new Promise(() => {});
      },
      limits: { ...DEFAULT_LIMITS, maxBufferedUpdates: 500 },
    };
    const s = createBinanceSession(ctx, { minResyncIntervalMs: 0 });
    s.addStreams([{ channel: 'book', symbol: 'BTC/USDT', symbolId: 1, native: 'BTCUSDT' }]);
    const diff = (u: number) =>
      `{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":${u},"u":${u},"b":[["1.0","2"]],"a":[["2.0","1"]]}}`;
    for (let u = 1; u <= 2_000; u++) s.onMessage(diff(u));
    const state = (s as unknown as { streams: Map<string, { sync?: { buffer: unknown[] } }> }).streams;
    const buffered = [...state.values()].map((st) => st.sync?.buffer.length ?? 0);
    expect(Math.max(...buffered)).toBeLessThanOrEqual(500);
    expect(s.stats.bufferOverflows).toBe(3);
    expect(fetches).toBeGreaterThanOrEqual(1);
  });

  it('workerMaxOldGenerationMb reaches piscina resourceLimits', async () => {
    engine = createEngine({ threads: 1, workerMaxOldGenerationMb: 96, logger: captureLogger([], 'fatal') });
    const pool = (engine as unknown as { pool: { options: { resourceLimits?: { maxOldGenerationSizeMb?: number } } } }).pool;
    expect(pool.options.resourceLimits?.maxOldGenerationSizeMb).toBe(96);
  });
});

function errorOf(fn: () => unknown): RingfeedError {
  try {
    fn();
  } catch (err) {
    return err as RingfeedError;
  }
  throw new Error('expected an error');
}

describe('option validation fails fast, naming the option', () => {
  it.each([
    [{ connectionsPerThread: -1 }, 'connectionsPerThread'],
    [{ connectionsPerThread: 1.5 }, 'connectionsPerThread'],
    [{ maxStreamsPerConnection: 0 }, 'maxStreamsPerConnection'],
    [{ iteratorHighWaterMark: 0 }, 'iteratorHighWaterMark'],
    [{ workerMaxOldGenerationMb: 1 }, 'workerMaxOldGenerationMb'],
    [{ stableAfterMs: -1 }, 'stableAfterMs'],
    [{ threads: 2.5 }, 'threads'],
    [{ limits: { maxFrameBytes: 0 } }, 'limits.maxFrameBytes'],
    [{ limits: { maxRestBytes: -1 } }, 'limits.maxRestBytes'],
    [{ limits: { maxBookLevels: 0 } }, 'limits.maxBookLevels'],
    [{ limits: { maxBufferedUpdates: 0 } }, 'limits.maxBufferedUpdates'],
    [{ limits: { staleTimeoutMs: -1 } }, 'limits.staleTimeoutMs'],
    [{ limits: { rotateAfterMs: Number.NaN } }, 'limits.rotateAfterMs'],
    [{ backoff: { initialDelayMs: -1 } }, 'backoff.initialDelayMs'],
    [{ backoff: { initialDelayMs: 100, maxDelayMs: 10 } }, 'backoff.maxDelayMs'],
    [{ circuitBreaker: { failureThreshold: 0 } }, 'circuitBreaker.failureThreshold'],
    [{ venues: { binance: { credentials: { apiKey: '', secret: 's' } } } }, 'venues.binance.credentials.apiKey'],
    [{ venues: { binance: { restUrl: 'ftp://127.0.0.1' } } }, 'venues.binance.restUrl'],
    [{ venues: { binance: { ccxt: {} } } }, 'venues.binance.ccxt'],
    [{ venues: { kucoin: { ccxt: { markets: 'BTC-USDT' } } } }, 'venues.kucoin.ccxt.markets'],
    [{ venues: { kucoin: { ccxt: { bookLimit: 0 } } } }, 'venues.kucoin.ccxt.bookLimit'],
    [{ venues: { kucoin: { ccxt: { bookLimt: 5 } } } }, 'venues.kucoin.ccxt.bookLimt'],
  ])('rejects %j naming %s', (options, name) => {
    const err = errorOf(() => resolveOptions(options as never));
    expect(err).toBeInstanceOf(RingfeedError);
    expect(err.code).toBe('ERR_BAD_OPTION');
    expect(err.message).toContain(name);
  });

  it('subscribe rejects a bad symbol and an unknown venue by name', () => {
    engine = createEngine({ threads: 1, logger: captureLogger([], 'fatal') });
    const e = engine;
    for (const symbol of ['BTC-USDT', 'BTC/', '', 'btc/usdt/x']) {
      expect(() => e.subscribe({ exchange: 'binance', channels: ['trades'], symbols: [symbol] })).toThrow(
        expect.objectContaining({ code: 'ERR_BAD_SYMBOL' }),
      );
    }
    expect(() => e.subscribe({ exchange: 'nowhere', channels: ['trades'], symbols: ['BTC/USDT'] })).toThrow(
      expect.objectContaining({ code: 'ERR_UNKNOWN_VENUE', message: expect.stringContaining('nowhere') }),
    );
    expect(e.stats().connections).toHaveLength(0);
  });
});
