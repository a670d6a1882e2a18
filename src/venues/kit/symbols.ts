/**
 * Normalized symbols: `BASE/QUOTE` for spot, `BASE/QUOTE:SETTLE` for derivatives (perps).
 * Every part is one or more uppercase ASCII letters or digits.
 */

export interface ParsedSymbol {
  readonly base: string;
  readonly quote: string;
  /** Settlement currency for derivatives; undefined for spot. */
  readonly settle: string | undefined;
}

const SYMBOL_RE = /^([A-Z0-9]+)\/([A-Z0-9]+)(?::([A-Z0-9]+))?$/;

function describe(symbol: unknown): string {
  return typeof symbol === 'string' ? JSON.stringify(symbol) : String(symbol);
}

/** true when `symbol` is a well-formed normalized symbol (spot or derivative). */
export function isValidSymbol(symbol: unknown): symbol is string {
  return typeof symbol === 'string' && SYMBOL_RE.test(symbol);
}

/** Split a normalized symbol; throws an Error naming the symbol when it is malformed. */
export function parseSymbol(symbol: string): ParsedSymbol {
  const m = typeof symbol === 'string' ? SYMBOL_RE.exec(symbol) : null;
  if (m === null) {
    throw new Error(
      `invalid symbol ${describe(symbol)}: expected BASE/QUOTE or BASE/QUOTE:SETTLE ` +
        '(uppercase letters and digits, e.g. BTC/USDT or BTC/USDT:USDT)',
    );
  }
  return { base: m[1], quote: m[2], settle: m[3] };
}

/** Parse a spot symbol `BASE/QUOTE`; throws (naming the symbol and venue) for anything else. */
export function parseSpotSymbol(symbol: string, venue?: string): ParsedSymbol {
  const p = parseSymbol(symbol);
  if (p.settle !== undefined) {
    const who = venue === undefined ? '' : `${venue}: `;
    throw new Error(
      `${who}symbol ${describe(symbol)} is a derivative (BASE/QUOTE:SETTLE); expected a spot symbol BASE/QUOTE`,
    );
  }
  return p;
}

/** Assert a normalized symbol (spot or derivative); returns it unchanged. */
export function assertSymbol(symbol: string): string {
  parseSymbol(symbol);
  return symbol;
}
