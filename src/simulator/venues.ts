import { type ReplayOptions, startSimulator } from './binance/server.js';
import { startBybitSimulator } from './bybit/server.js';
import { startCoinbaseSimulator } from './coinbase/server.js';
import { startFutuSimulator } from './futu/server.js';
import { startIbSimulator } from './ib/server.js';
import { startKrakenSimulator } from './kraken/server.js';
import { startOkxSimulator } from './okx/server.js';

/** What every venue simulator has in common: where it listens and how to stop it. */
export interface VenueSimulator {
  readonly wsUrl: string;
  readonly restUrl: string;
  /** A second port speaking the venue's WebSocket framing (Futu: OpenD's, for `futu-api`); -1 or absent: none. */
  readonly wsPort?: number;
  close(): Promise<void>;
}

export interface VenueSimulatorOptions {
  readonly host?: string;
  readonly port?: number;
  readonly seed?: number;
  /** Messages per second per stream (each simulator's own notion of its base rate). */
  readonly rate?: number;
  /** Binance spot only (other venues ignore it): replay a capture instead of the synthetic market. */
  readonly replay?: ReplayOptions;
  /** Binance venues only: the client message-rate limit (default Binance's; 0 = none). */
  readonly maxClientMessagesPerSec?: number;
}

/** The simulator of each venue the CLI can run, with the streams `ringfeed run` subscribes. */
export const VENUE_SIMULATORS: Readonly<
  Record<string, { symbols: string; channels: string; start(o: VenueSimulatorOptions): Promise<VenueSimulator> }>
> = {
  binance: {
    symbols: 'BTC/USDT,ETH/USDT,SOL/USDT,BNB/USDT,XRP/USDT,ADA/USDT',
    channels: 'trades,quotes,book,candles',
    start: (o) =>
      startSimulator({ host: o.host, port: o.port, seed: o.seed, ratePerStream: o.rate, replay: o.replay, maxClientMessagesPerSec: o.maxClientMessagesPerSec }),
  },
  'binance-usdm': {
    symbols: 'BTC/USDT:USDT,ETH/USDT:USDT,SOL/USDT:USDT',
    channels: 'trades,quotes,book,candles,funding',
    start: (o) =>
      startSimulator({ host: o.host, port: o.port, seed: o.seed, ratePerStream: o.rate, futures: true, maxClientMessagesPerSec: o.maxClientMessagesPerSec }),
  },
  coinbase: {
    symbols: 'BTC/USD,ETH/USD,SOL/USD',
    channels: 'trades,quotes,ticker,book',
    start: (o) => startCoinbaseSimulator({ host: o.host, port: o.port, seed: o.seed, ratePerProduct: o.rate }),
  },
  kraken: {
    symbols: 'BTC/USD,ETH/USD,SOL/USD',
    channels: 'trades,ticker,book,candles',
    start: (o) => startKrakenSimulator({ host: o.host, port: o.port, seed: o.seed, ratePerPair: o.rate }),
  },
  bybit: {
    symbols: 'BTC/USDT,ETH/USDT,BTC/USDT:USDT,ETH/USDT:USDT',
    channels: 'trades,quotes,book,candles',
    start: (o) => startBybitSimulator({ host: o.host, port: o.port, seed: o.seed, ratePerStream: o.rate }),
  },
  futu: {
    symbols: 'HK.00700,US.AAPL,SH.600519',
    channels: 'trades,quotes,ticker,book,candles',
    start: (o) => startFutuSimulator({ host: o.host, port: o.port, seed: o.seed, ratePerSecurity: o.rate }),
  },
  /** TWS: a tcp:// endpoint; its candles are 5-second bars (run subscribes no candles: its default interval is 1m). */
  ib: {
    symbols: 'AAPL,MSFT,CASH:EUR.USD@IDEALPRO',
    channels: 'trades,quotes,ticker,book',
    start: (o) => startIbSimulator({ host: o.host, port: o.port, seed: o.seed, rate: o.rate }),
  },
  okx: {
    symbols: 'BTC/USDT,ETH/USDT,BTC/USDT:USDT',
    channels: 'trades,quotes,ticker,book,candles',
    start: (o) => startOkxSimulator({ host: o.host, port: o.port, seed: o.seed, ratePerInstrument: o.rate }),
  },
};

export function venueSimulator(venue: string) {
  const entry = VENUE_SIMULATORS[venue];
  if (!entry) {
    throw new Error(`no simulator for venue ${venue}; simulated venues: ${Object.keys(VENUE_SIMULATORS).join(', ')}`);
  }
  return entry;
}
