import { describe, expect, it } from 'vitest';
import { Backoff } from '../src/supervisor/backoff.js';
import { CircuitBreaker } from '../src/supervisor/circuit-breaker.js';

describe('Backoff (full jitter)', () => {
  it('grows the ceiling exponentially up to the cap', () => {
    const b = new Backoff({ initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2 }, () => 0.999999);
    const delays = Array.from({ length: 7 }, () => b.next());
    expect(delays).toEqual([99, 199, 399, 799, 999, 999, 999]);
    expect(b.attempt).toBe(7);
  });

  it('draws each delay uniformly below the ceiling', () => {
    const b = new Backoff({ initialDelayMs: 1000, maxDelayMs: 1000, multiplier: 2 });
    const delays = Array.from({ length: 2000 }, () => b.next());
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(1000);
    const mean = delays.reduce((a, d) => a + d, 0) / delays.length;
    expect(mean).toBeGreaterThan(400);
    expect(mean).toBeLessThan(600);
  });

  it('starts over after reset', () => {
    const b = new Backoff({ initialDelayMs: 100, maxDelayMs: 10_000, multiplier: 3 }, () => 0.5);
    b.next();
    b.next();
    b.reset();
    expect(b.next()).toBe(50);
  });
});

describe('CircuitBreaker', () => {
  it('opens after the threshold, half-opens after openMs, closes on success', () => {
    const cb = new CircuitBreaker({ failureThreshold: 3, openMs: 1000 });
    cb.recordFailure(0);
    cb.recordFailure(0);
    expect(cb.state(0)).toBe('closed');
    expect(cb.waitMs(0)).toBe(0);
    cb.recordFailure(10);
    expect(cb.state(10)).toBe('open');
    expect(cb.waitMs(510)).toBe(500);
    expect(cb.state(1010)).toBe('half-open');
    expect(cb.waitMs(1010)).toBe(0);
    cb.recordFailure(1020);
    expect(cb.state(1020)).toBe('open');
    cb.recordSuccess();
    expect(cb.state(1020)).toBe('closed');
  });
});
