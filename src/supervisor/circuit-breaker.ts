export interface CircuitBreakerOptions {
  /** Consecutive failed attempts that open the circuit. */
  readonly failureThreshold: number;
  /** How long the circuit stays open before one trial attempt, ms. */
  readonly openMs: number;
}

export const DEFAULT_CIRCUIT_BREAKER: CircuitBreakerOptions = {
  failureThreshold: 8,
  openMs: 60_000,
};

export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * Stops a connection from hammering a venue that keeps failing: after `failureThreshold`
 * consecutive failures no attempt is made for `openMs`; then a single trial decides.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = Number.NaN;

  constructor(private readonly options: CircuitBreakerOptions = DEFAULT_CIRCUIT_BREAKER) {}

  state(now: number): CircuitState {
    if (Number.isNaN(this.openedAt)) return 'closed';
    return now - this.openedAt >= this.options.openMs ? 'half-open' : 'open';
  }

  /** ms until an attempt is allowed (0 = now). */
  waitMs(now: number): number {
    if (Number.isNaN(this.openedAt)) return 0;
    return Math.max(0, this.openedAt + this.options.openMs - now);
  }

  recordFailure(now: number): void {
    this.failures++;
    if (this.failures >= this.options.failureThreshold) this.openedAt = now;
  }

  recordSuccess(): void {
    this.failures = 0;
    this.openedAt = Number.NaN;
  }
}
