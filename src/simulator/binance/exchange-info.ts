/**
 * `exchangeInfo` of the Binance simulator: the instrument list a client checks symbols against.
 *
 * The synthetic market creates symbols on demand (anything matching `SYMBOL_PATTERN`), so "the
 * symbols it serves" has no finite list. The answer therefore follows Binance's own filter
 * semantics: spot `?symbol=X` / `?symbols=["A","B"]` lists those (creating them when they
 * match the pattern) or answers -1121 "Invalid symbol." for the whole request when one does not
 * exist; without a filter (and always on USD-M, whose endpoint takes none) it lists the
 * configured symbols plus those created so far. A symbol that does not match the pattern, such
 * as FOOBAR, is never listed — exactly the ones the WebSocket side refuses.
 */

/** What the endpoint needs from the market. */
export interface ListedMarket {
  /** Known or creatable? (creates it). */
  ensureSymbol(symbol: string): boolean;
  /** Every symbol that exists now. */
  symbols(): string[];
}

export interface ExchangeInfoAnswer {
  readonly status: '200 OK' | '400 Bad Request';
  readonly body: string;
}

const INVALID_SYMBOL = '{"code":-1121,"msg":"Invalid symbol."}';
const BAD_SYMBOLS_PARAM = `{"code":-1100,"msg":"Illegal characters found in parameter 'symbols'."}`;

/** The quote asset of a simulator symbol (its pattern ends in one of these). */
const QUOTES = ['USDT', 'USDC', 'BUSD', 'BTC', 'ETH', 'EUR'];

function entry(symbol: string, futures: boolean): Record<string, unknown> {
  const quoteAsset = QUOTES.find((q) => symbol.endsWith(q) && symbol.length > q.length) ?? '';
  const baseAsset = symbol.slice(0, symbol.length - quoteAsset.length);
  return futures
    ? { symbol, pair: symbol, contractType: 'PERPETUAL', status: 'TRADING', baseAsset, quoteAsset, marginAsset: quoteAsset }
    : { symbol, status: 'TRADING', baseAsset, quoteAsset, isSpotTradingAllowed: true };
}

/** The `symbols` of a filter (`symbol` or `symbols` parameter), undefined for no filter, a string for a malformed one. */
function filterOf(symbol: string | undefined, symbols: string | undefined): string[] | undefined | 'bad' {
  if (symbol) return [symbol];
  if (!symbols) return undefined;
  try {
    const list = JSON.parse(symbols) as unknown;
    return Array.isArray(list) && list.every((s) => typeof s === 'string') ? (list as string[]) : 'bad';
  } catch {
    return 'bad';
  }
}

export function exchangeInfo(
  market: ListedMarket,
  futures: boolean,
  query: { symbol?: string; symbols?: string },
): ExchangeInfoAnswer {
  const filter = futures ? undefined : filterOf(query.symbol, query.symbols);
  if (filter === 'bad') return { status: '400 Bad Request', body: BAD_SYMBOLS_PARAM };
  // Binance symbols are upper case; a lower-case one is an invalid symbol there too.
  if (filter?.some((s) => s !== s.toUpperCase() || !market.ensureSymbol(s))) {
    return { status: '400 Bad Request', body: INVALID_SYMBOL };
  }
  const listed = filter ?? market.symbols();
  const body = {
    timezone: 'UTC',
    serverTime: Date.now(),
    rateLimits: [],
    exchangeFilters: [],
    symbols: listed.map((s) => entry(s, futures)),
  };
  return { status: '200 OK', body: JSON.stringify(body) };
}
