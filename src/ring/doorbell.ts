import { waitAsync } from './atomics.js';

/** Cell indexes in the doorbell SAB. */
const COUNTER = 0;
const SLEEPING = 1;
/** Bytes of a doorbell SAB (one cache line; only the first two Int32 cells are used). */
export const DOORBELL_BYTES = 64;

/** How long the consumer polls before it goes to sleep. */
const SPIN_MS = 0.05;
const SPIN_MAX_CHECKS = 64;

/**
 * Consumer wake-up shared by all rings of one engine. Producers call `ring()` after they publish;
 * it costs one atomic load unless the consumer is actually asleep. The single consumer calls
 * `sleep()` when every ring is empty.
 *
 * No lost wake-up: the consumer reads the counter, sets the sleeping flag, and re-checks for
 * data before waiting on the counter value it read; a producer publishes (seq-cst store) before
 * it reads the flag. So either the consumer's re-check sees the data, or a producer sees the
 * flag and bumps the counter (which makes the wait return at once or wakes it). A producer that
 * finds the flag already cleared by another one skips the notify: the consumer is already being
 * woken and drains every ring when it runs.
 */
export class Doorbell {
  static create(): SharedArrayBuffer {
    return new SharedArrayBuffer(DOORBELL_BYTES);
  }

  private readonly cells: Int32Array;

  constructor(sab: SharedArrayBuffer) {
    if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < 8) {
      throw new TypeError('Doorbell needs a SharedArrayBuffer from Doorbell.create()');
    }
    this.cells = new Int32Array(sab, 0, 2);
  }

  /**
   * Producer side: wake the consumer if it sleeps. Call after publishing. Only the producer that
   * clears the sleeping flag notifies: the consumer is woken once per sleep, not once per
   * producer that publishes before its wake-up is delivered (each notify is a syscall).
   */
  ring(): void {
    const cells = this.cells;
    if (Atomics.load(cells, SLEEPING) !== 0 && Atomics.compareExchange(cells, SLEEPING, 1, 0) === 1) {
      Atomics.add(cells, COUNTER, 1);
      Atomics.notify(cells, COUNTER);
    }
  }

  /** true while the consumer is (about to be) asleep. Mostly for tests and metrics. */
  get sleeping(): boolean {
    return Atomics.load(this.cells, SLEEPING) !== 0;
  }

  /**
   * Consumer side: return once `hasData()` is true (after a short spin), when a producer rings,
   * or after `timeoutMs`. May return without data (timeout or a ring for data already taken);
   * callers just poll their rings again.
   */
  async sleep(hasData: () => boolean, timeoutMs: number): Promise<void> {
    if (hasData()) return;
    const until = performance.now() + SPIN_MS;
    for (let i = 0; i < SPIN_MAX_CHECKS; i++) {
      if (hasData()) return;
      if (performance.now() >= until) break;
    }
    const cells = this.cells;
    const observed = Atomics.load(cells, COUNTER);
    Atomics.store(cells, SLEEPING, 1);
    try {
      if (hasData()) return;
      const r = waitAsync(cells, COUNTER, observed, timeoutMs);
      if (typeof r !== 'string') await r;
    } finally {
      Atomics.store(cells, SLEEPING, 0);
    }
  }
}
