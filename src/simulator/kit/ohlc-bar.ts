/**
 * OHLC, base and quote volume and trade count, in a synthetic market's own units (integer ticks
 * and lots, or prices and sizes): a candle's period, or the 24 h figures a ticker reports (`close`
 * is then the last price; the simulators never roll that window, so its `open` stays the start price).
 */
export interface OhlcBar {
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  /** Quote volume (0 where the market does not track it). */
  quote: number;
  trades: number;
}

/** A bar with no trades, every price at `price` (the last trade before its period). */
export function emptyBar(price: number): OhlcBar {
  return { open: price, high: price, low: price, close: price, volume: 0, quote: 0, trades: 0 };
}

/** Adds a fill; `open` stays (the 24 h figures). */
export function addFill(bar: OhlcBar, price: number, amount: number, quote = 0): void {
  bar.close = price;
  bar.high = Math.max(bar.high, price);
  bar.low = Math.min(bar.low, price);
  bar.volume += amount;
  bar.quote += quote;
  bar.trades++;
}

/** Adds a fill to a candle: one with no trades yet opens at this fill. */
export function fillBar(bar: OhlcBar, price: number, amount: number, quote: number): void {
  if (bar.trades === 0) {
    bar.open = price;
    bar.high = price;
    bar.low = price;
  }
  addFill(bar, price, amount, quote);
}
