export interface BackoffOptions {
  /** First retry's upper bound, ms. */
  readonly initialDelayMs: number;
  /** Upper bound of any single delay, ms. */
  readonly maxDelayMs: number;
  /** Growth factor per consecutive failure. */
  readonly multiplier: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialDelayMs: 250,
  maxDelayMs: 30_000,
  multiplier: 2,
};

/**
 * Exponential backoff with full jitter: delay = random(0, min(cap, initial × multiplier^n)).
 * Full jitter spreads reconnect storms across clients best of the usual variants.
 */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly options: BackoffOptions = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  /** Consecutive failures since the last reset. */
  get attempt(): number {
    return this.failures;
  }

  /** The delay before the next attempt; counts one more failure. */
  next(): number {
    const { initialDelayMs, maxDelayMs, multiplier } = this.options;
    const ceiling = Math.min(maxDelayMs, initialDelayMs * multiplier ** this.failures);
    this.failures++;
    return Math.floor(this.random() * ceiling);
  }

  reset(): void {
    this.failures = 0;
  }
}
