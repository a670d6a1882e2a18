import { RingfeedError, type RingfeedErrorCode } from '../../src/engine/errors.js';

/** Runs `fn` and asserts it throws a RingfeedError with `code` whose message contains every `words`. */
export async function expectRingfeedError(
  fn: () => unknown,
  code: RingfeedErrorCode,
  ...words: string[]
): Promise<RingfeedError> {
  let thrown: unknown;
  try {
    await fn();
  } catch (err) {
    thrown = err;
  }
  if (thrown === undefined) throw new Error(`expected ${code}, nothing was thrown`);
  if (!(thrown instanceof RingfeedError)) {
    throw new Error(`expected RingfeedError ${code}, got ${(thrown as Error)?.name}: ${(thrown as Error)?.message}`);
  }
  if (thrown.code !== code) throw new Error(`expected ${code}, got ${thrown.code}: ${thrown.message}`);
  for (const w of words) {
    if (!thrown.message.includes(w)) throw new Error(`error message does not name ${JSON.stringify(w)}: ${thrown.message}`);
  }
  return thrown;
}

/** Fails with `what` unless `ok`. */
export function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}
