/** Stable error codes; match on `code`, not on message text. */
export type RingfeedErrorCode =
  | 'ERR_BAD_OPTION'
  | 'ERR_UNKNOWN_VENUE'
  | 'ERR_BAD_SYMBOL'
  | 'ERR_BAD_CHANNEL'
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
