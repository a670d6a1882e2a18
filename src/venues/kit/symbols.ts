/**
 * Normalized symbols, ccxt's unified grammar:
 *
 *   BASE/QUOTE                              spot                     BTC/USDT
 *   BASE/QUOTE:SETTLE                       perpetual swap           BTC/USDT:USDT, BTC/USD:BTC
 *   BASE/QUOTE:SETTLE-YYMMDD                dated future             BTC/USD:BTC-261225
 *   BASE/QUOTE:SETTLE-YYMMDD-STRIKE-C|P     option (call / put)      BTC/USD:BTC-261225-100000-C
 *
 * BASE, QUOTE and SETTLE are ASCII letters and digits. Case is kept as the venue spells it
 * (Kraken's tokenised stocks are `AAPLx/USD`), but a code with no upper-case letter at all (`btc`)
 * is refused with the upper-case spelling as a hint: no venue names a currency that way, so it is
 * a slip, and guessing would stream another instrument than the one asked for. Venues whose
 * symbols are all upper-case refuse any lower-case letter the same way (`case: 'upper'`).
 */

export type InstrumentKind = 'spot' | 'swap' | 'future' | 'option';

/** Currencies of a spot or perpetual symbol. */
export interface SymbolParts {
  readonly base: string;
  readonly quote: string;
  /** Settlement currency for derivatives; undefined for spot. */
  readonly settle: string | undefined;
}

export interface ParsedSymbol extends SymbolParts {
  readonly kind: InstrumentKind;
  /** Expiry date `YYMMDD` of a future or option; undefined otherwise. */
  readonly expiry: string | undefined;
  /** Option strike as written (a positive decimal without leading zeros); undefined otherwise. */
  readonly strike: string | undefined;
  /** `C` (call) or `P` (put) for an option; undefined otherwise. */
  readonly optionType: 'C' | 'P' | undefined;
}

export interface SymbolRules {
  /** Venue named in errors. */
  readonly venue?: string;
  /** `upper` (default): the venue spells symbols in upper case; `preserve`: mixed case is kept. */
  readonly case?: 'upper' | 'preserve';
  /** Instrument kinds the venue lists; default spot and swap (dated instruments refused). */
  readonly kinds?: readonly InstrumentKind[];
}

const CODE = '[A-Za-z0-9]+';
const SYMBOL_RE = new RegExp(
  `^(${CODE})/(${CODE})(?::(${CODE})(?:-(\\d{6})(?:-((?:0|[1-9]\\d*)(?:\\.\\d*[1-9])?)-([CP]))?)?)?$`,
);

export const SYMBOL_GRAMMAR =
  'BASE/QUOTE (spot), BASE/QUOTE:SETTLE (perpetual), BASE/QUOTE:SETTLE-YYMMDD (future) or ' +
  'BASE/QUOTE:SETTLE-YYMMDD-STRIKE-C|P (option), BASE, QUOTE and SETTLE letters and digits ' +
  '(e.g. BTC/USDT, BTC/USDT:USDT, BTC/USD:BTC-261225, BTC/USD:BTC-261225-100000-C)';

const DEFAULT_KINDS: readonly InstrumentKind[] = ['spot', 'swap'];
const ALL_KINDS: readonly InstrumentKind[] = ['spot', 'swap', 'future', 'option'];

function describe(symbol: unknown): string {
  return typeof symbol === 'string' ? JSON.stringify(symbol) : String(symbol);
}

function who(venue: string | undefined): string {
  return venue === undefined ? '' : `${venue}: `;
}

/** The symbol with every currency code upper-cased (the expiry, strike and C/P are left alone). */
function upperCodes(m: RegExpExecArray): string {
  let s = `${m[1].toUpperCase()}/${m[2].toUpperCase()}`;
  if (m[3] !== undefined) s += `:${m[3].toUpperCase()}`;
  if (m[4] !== undefined) s += `-${m[4]}`;
  if (m[5] !== undefined) s += `-${m[5]}-${m[6]}`;
  return s;
}

/** true when `yymmdd` is a calendar date (20YY). */
function isDate(yymmdd: string): boolean {
  const y = 2000 + Number(yymmdd.slice(0, 2));
  const mo = Number(yymmdd.slice(2, 4));
  const d = Number(yymmdd.slice(4, 6));
  if (mo < 1 || mo > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

/** The reason a string is not a symbol of the grammar (undefined when the grammar fits). */
function grammarProblem(symbol: string, m: RegExpExecArray | null): string | undefined {
  if (m === null) {
    if (/[^A-Za-z0-9/:.-]/.test(symbol)) return 'it has a character other than letters, digits and / : - .';
    return undefined;
  }
  if (m[4] !== undefined && !isDate(m[4])) return `${m[4]} is not a date YYMMDD`;
  if (m[5] !== undefined && Number(m[5]) <= 0) return 'the strike must be positive';
  return undefined;
}

/**
 * Parse a normalized symbol by `rules` (default: upper-case venue, spot and perpetuals only).
 * Throws an Error naming the symbol, what is wrong and the grammar.
 */
export function parseInstrument(symbol: string, rules: SymbolRules = {}): ParsedSymbol {
  const venue = rules.venue;
  const m = typeof symbol === 'string' ? SYMBOL_RE.exec(symbol) : null;
  const problem = typeof symbol === 'string' ? grammarProblem(symbol, m) : undefined;
  if (m === null || problem !== undefined) {
    throw new Error(
      `${who(venue)}invalid symbol ${describe(symbol)}${problem === undefined ? '' : ` (${problem})`}: ` +
        `expected ${SYMBOL_GRAMMAR}`,
    );
  }
  const codes = m[3] === undefined ? [m[1], m[2]] : [m[1], m[2], m[3]];
  const lowerOnly = codes.some((c) => /[a-z]/.test(c) && !/[A-Z]/.test(c));
  const anyLower = codes.some((c) => /[a-z]/.test(c));
  if (lowerOnly || (anyLower && (rules.case ?? 'upper') === 'upper')) {
    const why = lowerOnly
      ? `${codes.filter((c) => /[a-z]/.test(c) && !/[A-Z]/.test(c)).join(', ')} is all lower-case, which no venue's currency code is`
      : `${venue ?? 'this venue'} spells symbols in upper case`;
    throw new Error(
      `${who(venue)}invalid symbol ${describe(symbol)}: ${why}; did you mean ${upperCodes(m)}? (expected ${SYMBOL_GRAMMAR})`,
    );
  }
  const kind: InstrumentKind =
    m[3] === undefined ? 'spot' : m[4] === undefined ? 'swap' : m[5] === undefined ? 'future' : 'option';
  const kinds = rules.kinds ?? DEFAULT_KINDS;
  if (!kinds.includes(kind)) {
    throw new Error(
      `${who(venue)}symbol ${describe(symbol)} is ${kind === 'option' ? 'an option' : `a ${kind === 'swap' ? 'perpetual' : kind}`}; ` +
        `${venue ?? 'this venue'} takes ${kinds.map((k) => (k === 'swap' ? 'perpetual' : k)).join(', ')} symbols only`,
    );
  }
  return {
    base: m[1],
    quote: m[2],
    settle: m[3],
    kind,
    expiry: m[4],
    strike: m[5],
    optionType: m[6] as 'C' | 'P' | undefined,
  };
}

/** true when `symbol` is a well-formed normalized symbol of any kind (case as the grammar allows). */
export function isValidSymbol(symbol: unknown): symbol is string {
  if (typeof symbol !== 'string') return false;
  try {
    parseInstrument(symbol, { case: 'preserve', kinds: ALL_KINDS });
    return true;
  } catch {
    return false;
  }
}

/**
 * Split a spot or perpetual symbol of an upper-case venue (`venue` named in errors); throws an
 * Error naming the symbol for anything else (lower case, dated futures and options included).
 */
export function parseSymbol(symbol: string, venue?: string): SymbolParts {
  const { base, quote, settle } = parseInstrument(symbol, { venue });
  return { base, quote, settle };
}

/** Parse a spot symbol `BASE/QUOTE`; throws (naming the symbol and venue) for anything else. */
export function parseSpotSymbol(symbol: string, venue?: string, rules: Omit<SymbolRules, 'venue' | 'kinds'> = {}): SymbolParts {
  const p = parseInstrument(symbol, { ...rules, venue, kinds: ALL_KINDS });
  if (p.kind !== 'spot') {
    throw new Error(`${who(venue)}symbol ${describe(symbol)} is a derivative; expected a spot symbol BASE/QUOTE`);
  }
  return { base: p.base, quote: p.quote, settle: undefined };
}

/** Assert a normalized symbol (spot or perpetual, upper case); returns it unchanged. */
export function assertSymbol(symbol: string): string {
  parseSymbol(symbol);
  return symbol;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const;

/** `261225` → `25DEC26` (day without a leading zero when `padDay` is false: `260105` → `5JAN26`). */
export function expiryDMY(yymmdd: string, padDay = true): string {
  const day = padDay ? yymmdd.slice(4, 6) : String(Number(yymmdd.slice(4, 6)));
  return `${day}${MONTHS[Number(yymmdd.slice(2, 4)) - 1]}${yymmdd.slice(0, 2)}`;
}

/** `25DEC26` or `5JAN26` → `261225` / `260105`; undefined when it is not such a date. */
export function expiryYYMMDD(dmy: string): string | undefined {
  const m = /^(\d{1,2})([A-Z]{3})(\d{2})$/.exec(dmy);
  if (m === null) return undefined;
  const mo = MONTHS.indexOf(m[2] as (typeof MONTHS)[number]);
  if (mo < 0) return undefined;
  const out = `${m[3]}${String(mo + 1).padStart(2, '0')}${m[1].padStart(2, '0')}`;
  return isDate(out) ? out : undefined;
}
