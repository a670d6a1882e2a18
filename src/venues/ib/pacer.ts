/**
 * TWS closes the socket of a client that sends more than 50 messages a second. Every request a
 * session sends goes through one pacer: in order, evenly spaced, at most `perSecond` a second
 * (the keep-alive, written by the task once per ping interval, stays well inside the margin).
 */
export class Pacer {
  private readonly queue: Uint8Array[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private readonly gapMs: number;

  constructor(
    private readonly write: (bytes: Uint8Array) => void,
    perSecond = 40,
  ) {
    this.gapMs = 1000 / perSecond;
  }

  get pending(): number {
    return this.queue.length;
  }

  send(bytes: Uint8Array): void {
    this.queue.push(bytes);
    if (this.timer === undefined) this.drain();
  }

  private readonly drain = (): void => {
    this.timer = undefined;
    const now = performance.now();
    const wait = this.lastSentAt + this.gapMs - now;
    if (wait > 0) {
      this.timer = setTimeout(this.drain, Math.ceil(wait));
      return;
    }
    const next = this.queue.shift();
    if (next === undefined) return;
    this.lastSentAt = now;
    this.write(next);
    if (this.queue.length > 0) this.timer = setTimeout(this.drain, Math.ceil(this.gapMs));
  };

  /** Forgets what is queued (the socket is gone). */
  clear(): void {
    this.queue.length = 0;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
