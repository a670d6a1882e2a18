/** The engine's events, typed: `engine.on(name, fn)` accepts only these names and payloads. */

import type { StateChange } from '../supervisor/connection-supervisor.js';
import type { Channel } from '../venues/contract.js';

/** A subscription the venue refused: that stream is removed and never retried. */
export interface SubscriptionRejection {
  /** `ERR_BAD_SYMBOL` (the venue does not list it), `ERR_BAD_CHANNEL`, or `ERR_SUBSCRIPTION_REJECTED`. */
  readonly code: 'ERR_BAD_SYMBOL' | 'ERR_BAD_CHANNEL' | 'ERR_SUBSCRIPTION_REJECTED';
  /** Names the symbol and gives the venue's reason. */
  readonly message: string;
  readonly exchange: string;
  readonly channel: Channel;
  readonly symbol: string;
  readonly connectionId: number;
}

/** An async iterator from `records()` is full and holds the engine back (see README). */
export interface IteratorBackpressure {
  /** true when it started holding the consumer, false when it let go. */
  readonly paused: boolean;
  /** Records buffered in that iterator. */
  readonly buffered: number;
}

export interface EngineEvents {
  /** A connection changed state. */
  state: [change: StateChange];
  /** The venue refused a stream (see SubscriptionRejection). */
  rejected: [rejection: SubscriptionRejection];
  /** An unread `records()` iterator paused or resumed the consumer. */
  backpressure: [info: IteratorBackpressure];
  /** `close()` finished. */
  closed: [];
}
