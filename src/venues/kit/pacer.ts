/**
 * Outgoing message pacing for one connection: a token bucket (`perSecond`, `burst`) in front of
 * the socket, so that a venue's limit on the messages a client sends (Binance 5/s, TWS 50/s …) is
 * never exceeded however fast streams are asked for.
 *
 * Invariants:
 * - Messages are written in the order given; none is dropped (until `clear()`).
 * - In any interval of t seconds at most `burst + perSecond × t` messages are written.
 * - A message that finds a token and an empty queue is written at once (no timer).
 * - `merge(last, next)` may fold `next` into the last queued message (e.g. two subscribe
 *   requests into one); it is only asked while that message is still waiting.
 * - A `write` that returns false did not write (the socket is not open yet): the message stays at
 *   the head, its token is given back, and nothing more is written until `resume()`.
 */
export interface PaceRate {
  readonly perSecond: number;
  /** Messages that may go at once after a quiet period (default 1: evenly spaced). */
  readonly burst?: number;
}

export class Pacer<T> {
  private readonly queue: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private tokens: number;
  private refilledAt = performance.now();
  private readonly burst: number;
  private readonly msPerToken: number;
  private held = false;
  /** Inside `write`: messages it adds are taken by the running loop, not by a nested one. */
  private draining = false;

  constructor(
    private readonly write: (message: T) => boolean | void,
    rate: PaceRate,
    private readonly merge?: (last: T, next: T) => T | undefined,
  ) {
    this.burst = Math.max(1, rate.burst ?? 1);
    this.msPerToken = 1000 / rate.perSecond;
    this.tokens = this.burst;
  }

  /** Messages waiting for a token. */
  get pending(): number {
    return this.queue.length;
  }

  send(message: T): void {
    const last = this.queue.length > 0 && this.merge ? this.merge(this.queue[this.queue.length - 1]!, message) : undefined;
    if (last !== undefined) this.queue[this.queue.length - 1] = last;
    else this.queue.push(message);
    if (this.timer === undefined && !this.held && !this.draining) this.drain();
  }

  /** Writes what waits (after a `write` returned false). */
  resume(): void {
    this.held = false;
    if (this.timer === undefined && !this.draining) this.drain();
  }

  /** Puts messages back at the head of the queue, in order (what one drained message expanded into). */
  sendFirst(messages: readonly T[]): void {
    this.queue.unshift(...messages);
    if (this.timer === undefined && !this.held && !this.draining) this.drain();
  }

  private refill(now: number): void {
    if (this.msPerToken === 0) {
      this.tokens = this.burst; // unpaced (perSecond ∞)
      return;
    }
    this.tokens = Math.min(this.burst, this.tokens + (now - this.refilledAt) / this.msPerToken);
    this.refilledAt = now;
  }

  private readonly drain = (): void => {
    this.timer = undefined;
    while (this.queue.length > 0) {
      this.refill(performance.now());
      if (this.tokens < 1) {
        this.timer = setTimeout(this.drain, Math.ceil((1 - this.tokens) * this.msPerToken));
        return;
      }
      const next = this.queue.shift()!;
      this.draining = true;
      let written: boolean | void;
      try {
        written = this.write(next);
      } finally {
        this.draining = false;
      }
      if (written === false) {
        this.queue.unshift(next);
        this.held = true;
        return;
      }
      this.tokens -= 1;
    }
  };

  /** Forgets what is queued (the socket is gone). */
  clear(): void {
    this.queue.length = 0;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
