/**
 * The slice of ccxt's API the ccxt connection task uses, typed structurally so that nothing on
 * the main thread imports ccxt (its type tree alone is large).
 */

export interface CcxtTrade {
  readonly id?: string | null;
  readonly timestamp?: number | null;
  readonly side?: string | null;
  readonly price?: number | null;
  readonly amount?: number | null;
}

export interface CcxtOrderBook {
  readonly bids: ArrayLike<ArrayLike<number>>;
  readonly asks: ArrayLike<ArrayLike<number>>;
  readonly timestamp?: number | null;
  readonly nonce?: number | null;
}

export interface CcxtTicker {
  readonly timestamp?: number | null;
  readonly last?: number | null;
  readonly open?: number | null;
  readonly high?: number | null;
  readonly low?: number | null;
  readonly baseVolume?: number | null;
  readonly quoteVolume?: number | null;
  readonly bid?: number | null;
  readonly bidVolume?: number | null;
  readonly ask?: number | null;
  readonly askVolume?: number | null;
  readonly markPrice?: number | null;
  readonly indexPrice?: number | null;
}

export type CcxtOhlcv = ArrayLike<number>;

export interface CcxtClient {
  onMessage(event: { data: unknown }): void;
  onError(error: Error): void;
  close(): unknown;
  /** Set by ccxt for venues that send gzip (`gunzip`) or raw-deflate (`inflate`) binary frames. */
  gunzip?: boolean;
  inflate?: boolean;
}

export interface CcxtExchange {
  readonly id: string;
  readonly has: Record<string, unknown>;
  urls: { api?: unknown; [key: string]: unknown };
  options: Record<string, unknown>;
  markets: Record<string, unknown> | undefined;
  loadMarkets(): Promise<unknown>;
  setMarkets(markets: unknown): unknown;
  client(url: string): CcxtClient;
  close(): Promise<unknown>;
  watchTrades(symbol: string): Promise<CcxtTrade[]>;
  watchOrderBook(symbol: string, limit?: number): Promise<CcxtOrderBook>;
  watchTicker(symbol: string): Promise<CcxtTicker>;
  watchOHLCV(symbol: string, timeframe: string): Promise<CcxtOhlcv[]>;
  watchBidsAsks(symbols: string[]): Promise<Record<string, CcxtTicker>>;
  [method: string]: unknown;
}

export interface CcxtModule {
  readonly version: string;
  readonly pro: Record<string, new (config?: Record<string, unknown>) => CcxtExchange>;
  readonly NetworkError: new (...args: never[]) => Error;
  /** The exchange does not have the symbol (an unknown market). */
  readonly BadSymbol?: new (...args: never[]) => Error;
  /** The exchange does not offer the method (e.g. no watchBidsAsks). */
  readonly NotSupported?: new (...args: never[]) => Error;
}

/**
 * Per-exchange settings for ccxt venues, read by the worker from the `RINGFEED_CCXT_OPTIONS`
 * environment variable (JSON: `{ "<exchangeId>": CcxtVenueOptions }`) until the engine passes
 * venue options in the task.
 */
export interface CcxtVenueOptions {
  /** Merged into ccxt's constructor config (e.g. `{ "options": { "defaultType": "swap" } }`). */
  readonly config?: Record<string, unknown>;
  /** Markets given to `setMarkets` instead of `loadMarkets` over REST. */
  readonly markets?: readonly Record<string, unknown>[];
  /** `limit` argument of `watchOrderBook` (venue-specific: e.g. KuCoin 5/50 = top-N streams). */
  readonly bookLimit?: number;
}

export const CCXT_OPTIONS_ENV = 'RINGFEED_CCXT_OPTIONS';

/** Options for `exchangeId` from the environment; throws naming the variable when malformed. */
export function ccxtVenueOptions(exchangeId: string, env = process.env[CCXT_OPTIONS_ENV]): CcxtVenueOptions {
  if (env === undefined || env === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(env);
  } catch (err) {
    throw new Error(`${CCXT_OPTIONS_ENV} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${CCXT_OPTIONS_ENV} must be a JSON object keyed by ccxt exchange id`);
  }
  const entry = (parsed as Record<string, unknown>)[exchangeId];
  if (entry === undefined) return {};
  if (typeof entry !== 'object' || entry === null) {
    throw new Error(`${CCXT_OPTIONS_ENV}.${exchangeId} must be an object`);
  }
  return entry as CcxtVenueOptions;
}
