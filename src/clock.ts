const origin = performance.timeOrigin;

/**
 * Milliseconds since the epoch with sub-millisecond precision, monotonic within the process.
 * Node gives worker threads the process's time origin, so every thread reads the same clock.
 */
export function nowMs(): number {
  return origin + performance.now();
}
