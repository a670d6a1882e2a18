// Compiled by test/engine-types.test.ts: every @ts-expect-error line must be a type error, and
// everything else must compile. Not run.
import { createEngine } from '../../src/index.js';

const engine = createEngine();

engine.on('state', (change) => {
  const state: 'connecting' | 'connected' | 'stale' | 'reconnecting' | 'failed' | 'closed' = change.state;
  const id: number = change.connectionId;
  // @ts-expect-error StateChange has no field `status`
  change.status;
  return [state, id];
});
engine.on('rejected', (r) => {
  const code: 'ERR_BAD_SYMBOL' | 'ERR_BAD_CHANNEL' | 'ERR_SUBSCRIPTION_REJECTED' = r.code;
  return [code, r.symbol, r.channel];
});
engine.on('backpressure', (info) => info.paused === true);
engine.once('closed', () => {});

// @ts-expect-error no event named `stat`
engine.on('stat', () => {});
// @ts-expect-error `state` handlers get a StateChange, not a string
engine.on('state', (change: string) => change);

const book = engine.book('binance', 'BTC/USDT');
book?.levels('bids', 5);
// @ts-expect-error sides are 'bids' | 'asks'
book?.levels('bid');

// @ts-expect-error record types are singular
engine.onRecord(() => {}, { types: ['trades'] });
engine.onRecord((r) => r.type, { types: ['trade', 'quote'] });

// @ts-expect-error via is 'native' | 'ccxt'
engine.subscribe({ exchange: 'binance', channels: ['trades'], symbols: ['BTC/USDT'], via: 'magic' });
