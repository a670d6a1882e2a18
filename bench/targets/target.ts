import type { PhaseResult, PhaseSpec } from '../types.js';

/** A system under test, run inside its own child process (so its CPU and RSS are its own). */
export interface Target<Spec = PhaseSpec, Result = PhaseResult> {
  /** Connects and returns once data flows (and books are synced where the target syncs books). */
  start(spec: Spec): Promise<void>;
  /** Starts the measurement window. */
  mark(): void;
  /** Ends the window, tears the connection down and returns the figures. */
  finish(): Promise<Result>;
}
