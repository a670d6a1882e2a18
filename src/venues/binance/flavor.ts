/**
 * What differs between the Binance markets that share `BinanceSession`: stream naming, the REST
 * snapshot path, and the depth continuity rule. Spot and USD-M futures differ only here.
 */

import { SPOT_NAMING, type StreamNaming } from './streams.js';

/**
 * Depth-diff continuity. `L` is the snapshot's `lastUpdateId`; `lastU` the last applied `u`.
 * `covered` and `bridges` apply to the first diff after a snapshot, `continues` to every later
 * one whose `u > lastU` (a diff with `u <= lastU` is always a duplicate).
 */
export interface DepthRule {
  /** The diff is entirely contained in the snapshot: drop it. */
  covered(u: number, L: number): boolean;
  /** A diff that is not covered can be applied on top of the snapshot. */
  bridges(U: number, L: number): boolean;
  /** The diff directly follows the one applied last. */
  continues(U: number, pu: number, lastU: number): boolean;
  /** Diffs must carry `pu`. */
  readonly needsPu: boolean;
  /**
   * When no buffered diff is left after dropping the covered ones, hold the snapshot until the
   * first diff shows whether it bridges (instead of emitting it and resyncing if it does not).
   */
  readonly deferSnapshot: boolean;
}

/**
 * Spot: first diff `U <= L+1 <= u`, then `U == prev u + 1`. The test `U <= lastU + 1` (with
 * `u > lastU`) also accepts a batch from a second socket during a rotation that overlaps what was
 * applied; diffs carry absolute amounts, so re-applying the overlap is harmless.
 */
export const SPOT_DEPTH_RULE: DepthRule = {
  covered: (u, L) => u <= L,
  bridges: (U, L) => U <= L + 1,
  continues: (U, _pu, lastU) => U <= lastU + 1,
  needsPu: false,
  deferSnapshot: false,
};

/**
 * USD-M futures: drop `u < L`; the first diff has `U <= L <= u`; afterwards `pu == prev u`.
 * Update ids are not consecutive per symbol on futures, so continuity is only visible through
 * `pu`. `pu < prev u < u` is accepted for the same rotation-overlap reason as spot; a single
 * socket always has `pu == prev u`, and `pu > prev u` (a missed event) resyncs.
 */
export const USDM_DEPTH_RULE: DepthRule = {
  covered: (u, L) => u < L,
  bridges: (U, L) => U <= L,
  continues: (_U, pu, lastU) => pu <= lastU,
  needsPu: true,
  deferSnapshot: true,
};

export interface BinanceFlavor {
  readonly naming: StreamNaming;
  /** REST depth snapshot path (`?symbol=…&limit=…` is appended). */
  readonly snapshotPath: string;
  readonly depthRule: DepthRule;
}

export const SPOT_FLAVOR: BinanceFlavor = {
  naming: SPOT_NAMING,
  snapshotPath: '/api/v3/depth',
  depthRule: SPOT_DEPTH_RULE,
};
