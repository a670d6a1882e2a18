import { describe, expect, it } from 'vitest';
import { RingfeedError } from '../src/engine/errors.js';
import { resolveOptions, resolveParser } from '../src/engine/options.js';

function errorOf(fn: () => unknown): RingfeedError {
  try {
    fn();
  } catch (err) {
    return err as RingfeedError;
  }
  throw new Error('expected an error');
}

describe('engine options', () => {
  it('fills sane defaults', () => {
    const o = resolveOptions();
    expect(o.policy).toBe('block');
    expect(o.ringBytes).toBe(4 * 1024 * 1024);
    expect(o.limits.pingIntervalMs).toBeGreaterThan(0);
    expect(o.threads).toBeGreaterThanOrEqual(1);
  });

  it.each([
    [{ ringBytes: 5000 }, 'ringBytes'],
    [{ ringBytes: -1 }, 'ringBytes'],
    [{ threads: 0 }, 'threads'],
    [{ policy: 'lossy' }, 'policy'],
    [{ limits: { pingIntervalMs: -5 } }, 'limits.pingIntervalMs'],
    [{ limits: { pongTimeoutMs: 0 } }, 'limits.pongTimeoutMs'],
    [{ limits: { bogus: 1 } }, 'limits.bogus'],
    [{ backoff: { multiplier: 0.5 } }, 'backoff.multiplier'],
    [{ venues: { binance: { wsUrl: 'http://x' } } }, 'venues.binance.wsUrl'],
    [{ venues: { binance: { restUrl: 'not a url' } } }, 'venues.binance.restUrl'],
    [{ colour: 'blue' }, 'colour'],
  ])('rejects %j naming %s', (options, name) => {
    const err = errorOf(() => resolveOptions(options as never));
    expect(err).toBeInstanceOf(RingfeedError);
    expect(err.code).toBe('ERR_BAD_OPTION');
    expect(err.message).toContain(name);
  });
});

describe('frame parser choice (resolved on the main thread, handed to the worker)', () => {
  it('the option wins over RINGFEED_BINANCE_PARSER, which wins over the default fast; venues without a fast parser get none', () => {
    const json = { RINGFEED_BINANCE_PARSER: 'json' };
    expect(resolveParser('binance', {}, {})).toBe('fast');
    expect(resolveParser('binance-usdm', {}, json)).toBe('json');
    expect(resolveParser('binance', { parser: 'fast' }, json)).toBe('fast');
    expect(resolveParser('binance', { parser: 'json' }, {})).toBe('json');
    expect(resolveParser('kraken', {}, json)).toBeUndefined();
    expect(resolveOptions({ venues: { binance: { parser: 'json' } } }).venues.binance!.parser).toBe('json');
  });
});
