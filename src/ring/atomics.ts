/**
 * Typed access to `Atomics.waitAsync` (Node ≥ 16). The project compiles against lib ES2022,
 * which does not declare it, so it is reached through a narrow local type instead of a
 * global augmentation.
 */
export type WaitAsyncResult =
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> };

type WaitAsyncFn = (
  typedArray: Int32Array,
  index: number,
  value: number,
  timeout?: number,
) => WaitAsyncResult;

const waitAsyncImpl = (Atomics as unknown as { waitAsync?: WaitAsyncFn }).waitAsync;

if (typeof waitAsyncImpl !== 'function') {
  throw new Error('Atomics.waitAsync is not available (Node >= 20 required)');
}

const noop = (): void => {};

/**
 * Wait until `arr[index]` is notified or no longer equals `value`, or `timeoutMs` passes.
 * Returns 'not-equal' / 'timed-out' synchronously when it does not wait; otherwise a promise of
 * 'ok' (notified) or 'timed-out'.
 *
 * On Node 20 a pending waitAsync does not keep the event loop alive (a process or worker with
 * nothing else to do exits with an unsettled promise), so a ref'd interval is held while waiting.
 */
export function waitAsync(
  arr: Int32Array,
  index: number,
  value: number,
  timeoutMs: number,
): Promise<'ok' | 'not-equal' | 'timed-out'> | 'not-equal' | 'timed-out' {
  const r = waitAsyncImpl!.call(Atomics, arr, index, value, Math.max(0, timeoutMs));
  if (!r.async) return r.value;
  const keepAlive = setInterval(noop, 2 ** 30);
  return r.value.finally(() => clearInterval(keepAlive));
}
