/** The simulated TWS's contracts: what `reqContractDetails` finds, with a price to start from. */

export interface SimContract {
  readonly conId: number;
  readonly symbol: string;
  readonly secType: string;
  readonly exchange: string;
  readonly primaryExchange: string;
  readonly currency: string;
  /** Contract month / last trade date ('' for stocks and pairs). */
  readonly expiry: string;
  readonly minTick: number;
  readonly startPrice: number;
  readonly longName: string;
}

export const IB_SIM_CONTRACTS: readonly SimContract[] = [
  { conId: 265598, symbol: 'AAPL', secType: 'STK', exchange: 'SMART', primaryExchange: 'NASDAQ', currency: 'USD', expiry: '', minTick: 0.01, startPrice: 190, longName: 'APPLE INC' },
  { conId: 272093, symbol: 'MSFT', secType: 'STK', exchange: 'SMART', primaryExchange: 'NASDAQ', currency: 'USD', expiry: '', minTick: 0.01, startPrice: 410, longName: 'MICROSOFT CORP' },
  { conId: 756733, symbol: 'SPY', secType: 'STK', exchange: 'SMART', primaryExchange: 'ARCA', currency: 'USD', expiry: '', minTick: 0.01, startPrice: 520, longName: 'SPDR S&P 500 ETF TRUST' },
  { conId: 12087792, symbol: 'EUR', secType: 'CASH', exchange: 'IDEALPRO', primaryExchange: '', currency: 'USD', expiry: '', minTick: 0.00005, startPrice: 1.085, longName: 'European Monetary Union Euro' },
  { conId: 495512563, symbol: 'ES', secType: 'FUT', exchange: 'CME', primaryExchange: '', currency: 'USD', expiry: '202612', minTick: 0.25, startPrice: 5300, longName: 'E-mini S&P 500' },
];

/** `count` more stocks `T000`, `T001` … (for bursts of many subscriptions). */
export function syntheticStocks(count: number): SimContract[] {
  return Array.from({ length: count }, (_, i) => ({
    conId: 900_000 + i,
    symbol: `T${String(i).padStart(3, '0')}`,
    secType: 'STK',
    exchange: 'SMART',
    primaryExchange: 'NYSE',
    currency: 'USD',
    expiry: '',
    minTick: 0.01,
    startPrice: 20 + (i % 50),
    longName: `TEST STOCK ${i}`,
  }));
}

/** The contract a request names: by conId, else by type, symbol, currency (and expiry); exchange SMART matches any. */
export function findContract(
  table: readonly SimContract[],
  q: { conId: number; symbol: string; secType: string; exchange: string; currency: string; expiry: string },
): SimContract | undefined {
  if (q.conId > 0) return table.find((c) => c.conId === q.conId);
  return table.find(
    (c) =>
      c.symbol === q.symbol &&
      c.secType === q.secType &&
      (q.currency === '' || c.currency === q.currency) &&
      (q.exchange === '' || q.exchange === 'SMART' || q.exchange === c.exchange || q.exchange === c.primaryExchange) &&
      (q.expiry === '' || c.expiry.startsWith(q.expiry)),
  );
}
