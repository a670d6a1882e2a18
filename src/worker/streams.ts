/** The streams a connection task carries, keyed by channel, symbol and interval. */
import type { StreamSpec } from '../venues/contract.js';

export function sameStream(a: StreamSpec, b: StreamSpec): boolean {
  return a.channel === b.channel && a.symbolId === b.symbolId && a.interval === b.interval;
}

/** An ordered list of distinct streams. */
export class StreamList {
  private items: StreamSpec[];

  constructor(initial: readonly StreamSpec[] = []) {
    this.items = [...initial];
  }

  get all(): readonly StreamSpec[] {
    return this.items;
  }

  get size(): number {
    return this.items.length;
  }

  has(s: StreamSpec): boolean {
    return this.items.some((t) => sameStream(s, t));
  }

  /** Appends those of `streams` not in the list yet; returns them. */
  add(streams: readonly StreamSpec[]): StreamSpec[] {
    const added = streams.filter((s) => !this.has(s));
    this.items.push(...added);
    return added;
  }

  /** Removes the entries matching any of `streams`; returns the removed entries. */
  remove(streams: readonly StreamSpec[]): StreamSpec[] {
    const removed = this.items.filter((t) => streams.some((s) => sameStream(s, t)));
    if (removed.length > 0) this.items = this.items.filter((t) => !removed.includes(t));
    return removed;
  }
}
