/**
 * One row of the bad-input corpus (test/bad-input.test.ts): a bad input and what must happen.
 *
 * Rows live in one file per group (`options.rows.ts`, `cli.rows.ts`, `frames.rows.ts`, …) so
 * that each group is owned by one author; the test file imports every group, runs each row,
 * then asserts for every row that the process is alive (no uncaught exception or unhandled
 * rejection was seen) and, for rows that use the shared engine, that its canary subscription
 * kept delivering. It prints the table (group, row, expected outcome, passed).
 */
import type { Engine } from '../../src/engine/engine.js';

export type RowGroup =
  | 'options'
  | 'subscribe'
  | 'handlers'
  | 'lifecycle'
  | 'cli'
  | 'frames'
  | 'symbols'
  | 'env';

/** What a row gets: a live engine with a canary subscription against a local simulator. */
export interface RowContext {
  /** A running engine shared by the rows of one group (do not close it; create your own to close). */
  readonly engine: Engine;
  /** Binance simulator endpoints the shared engine uses (loopback). */
  readonly wsUrl: string;
  readonly restUrl: string;
}

export interface BadInputRow {
  readonly group: RowGroup;
  /** The bad input, short: e.g. `venues.binance.wssUrl (typo)`. */
  readonly input: string;
  /** The outcome that must happen: e.g. `ERR_BAD_OPTION naming venues.binance.wssUrl`. */
  readonly expect: string;
  /** Does the input; throws (an assertion) when the expected outcome did not happen. */
  run(ctx: RowContext): Promise<void> | void;
}
