/** Stable error codes; match on `code`, not on message text. */
export type RingfeedErrorCode =
  | 'ERR_BAD_OPTION'
  | 'ERR_UNKNOWN_VENUE'
  | 'ERR_BAD_SYMBOL'
  | 'ERR_BAD_CHANNEL'
  /** A candle interval the venue does not offer (the message lists the ones it does). */
  | 'ERR_BAD_INTERVAL'
  /** The venue refused a subscription for a reason other than an unknown symbol. */
  | 'ERR_SUBSCRIPTION_REJECTED'
  | 'ERR_ENGINE_CLOSED';

export class RingfeedError extends Error {
  constructor(
    readonly code: RingfeedErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RingfeedError';
  }
}
