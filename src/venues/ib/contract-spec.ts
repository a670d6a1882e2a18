/**
 * IB symbols: what a user writes for a contract, and the contract fields it stands for.
 *
 * - Short form `AAPL`: a stock, routed SMART, in USD.
 * - Long form `SECTYPE:SYMBOL@EXCHANGE[/CURRENCY][:EXPIRY]`, e.g. `STK:AAPL@NASDAQ/USD`,
 *   `CASH:EUR.USD@IDEALPRO` (the currency of a pair is its second half), `FUT:ES@CME/USD:202612`.
 *
 * `nativeSymbol` is the canonical long form (`STK:AAPL@SMART/USD`), which `parseContractSpec`
 * reads back; the session sends its fields in `reqContractDetails`.
 */

export interface ContractSpec {
  readonly secType: string;
  readonly symbol: string;
  readonly exchange: string;
  readonly currency: string;
  /** `YYYYMM` or `YYYYMMDD` for futures and options; '' otherwise. */
  readonly expiry: string;
}

const SEC_TYPES = ['STK', 'CASH', 'FUT', 'IND', 'CFD', 'CRYPTO'] as const;
const SHORT_RE = /^[A-Z][A-Z0-9.]{0,11}$/;
const LONG_RE = /^([A-Z]+):([A-Z0-9][A-Z0-9.]{0,15})@([A-Z][A-Z0-9]{0,15})(?:\/([A-Z]{3}))?(?::(\d{6}|\d{8}))?$/;

export const IB_SYMBOL_GRAMMAR =
  'AAPL (a stock, SMART, USD) or SECTYPE:SYMBOL@EXCHANGE[/CURRENCY][:EXPIRY], e.g. STK:AAPL@NASDAQ/USD, CASH:EUR.USD@IDEALPRO, FUT:ES@CME/USD:202612';

function fail(symbol: string, why: string): never {
  throw new Error(`ib: invalid symbol ${JSON.stringify(symbol.slice(0, 64))}: ${why}; expected ${IB_SYMBOL_GRAMMAR}`);
}

export function parseContractSpec(symbol: string): ContractSpec {
  if (typeof symbol !== 'string') fail(String(symbol), 'not a string');
  if (SHORT_RE.test(symbol)) return { secType: 'STK', symbol, exchange: 'SMART', currency: 'USD', expiry: '' };
  const m = LONG_RE.exec(symbol);
  if (m === null) fail(symbol, 'not the short or the long form');
  const [, secType, sym, exchange, currencyGiven, expiry = ''] = m;
  if (!(SEC_TYPES as readonly string[]).includes(secType!)) fail(symbol, `security type ${secType} is not one of ${SEC_TYPES.join(', ')}`);
  const currency = currencyGiven;
  if (secType === 'CASH') {
    const pair = /^([A-Z]{3})\.([A-Z]{3})$/.exec(sym!);
    if (pair === null) fail(symbol, 'a CASH pair is BASE.QUOTE, e.g. EUR.USD');
    if (currency !== undefined && currency !== pair[2]) fail(symbol, `a CASH pair's currency is its quote, ${pair[2]}`);
    return { secType, symbol: pair[1]!, exchange: exchange!, currency: pair[2]!, expiry: '' };
  }
  if (secType === 'FUT' && expiry === '') fail(symbol, 'a future needs its expiry, e.g. FUT:ES@CME/USD:202612');
  if (secType !== 'FUT' && expiry !== '') fail(symbol, `an expiry applies to futures, not ${secType}`);
  return { secType: secType!, symbol: sym!, exchange: exchange!, currency: currency ?? 'USD', expiry };
}

/** The canonical long form of a spec. */
export function canonicalSymbol(c: ContractSpec): string {
  const sym = c.secType === 'CASH' ? `${c.symbol}.${c.currency}` : c.symbol;
  return `${c.secType}:${sym}@${c.exchange}/${c.currency}${c.expiry ? `:${c.expiry}` : ''}`;
}
