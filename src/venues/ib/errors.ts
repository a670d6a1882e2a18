/** TWS error and notice codes the session acts on (the rest are logged). */

/** No market data permission / subscription for the contract: refused for that stream only. */
export const ENTITLEMENT_ERRORS: ReadonlySet<number> = new Set([354, 10089, 10090, 10167, 10197]);
/** A market data (2103) or historical data (2105) farm connection is broken. */
export const FARM_DOWN: ReadonlySet<number> = new Set([2103, 2105]);
/** The farm connection is OK (2104 market data, 2106 historical). */
export const FARM_OK: ReadonlySet<number> = new Set([2104, 2106]);

/** One TWS error message, with the code in its text. */
export class TwsError extends Error {
  constructor(
    readonly code: number,
    text: string,
  ) {
    super(`TWS error ${code}: ${text}`);
  }
}
