/**
 * THE venue-cases table: one row per native venue holding everything the per-venue suites need
 * (property tests and the fuzzer, fault-proxy scenarios, kit rules, unknown-symbol rejections).
 * Adding a venue is one row here. The adapter and the simulator come from the registries
 * (src/venues/registry.ts, src/simulator/venues.ts); a row states only what is particular to the
 * venue's tests.
 */
import { VENUE_SIMULATORS } from '../../src/simulator/venues.js';
import { createBinanceSession } from '../../src/venues/binance/session.js';
import { USDM_FLAVOR } from '../../src/venues/binance/usdm.js';
import { createBybitSession } from '../../src/venues/bybit/session.js';
import { createCoinbaseSession } from '../../src/venues/coinbase/session.js';
import type { Channel, SessionContext, StreamSpec, VenueAdapter, VenueSession } from '../../src/venues/contract.js';
import { encodePacket, packetBody, readHeader } from '../../src/venues/futu/codec.js';
import { createKrakenSession } from '../../src/venues/kraken/session.js';
import { createOkxSession } from '../../src/venues/okx/session.js';
import { venues } from '../../src/venues/registry.js';
import { twsFrame } from '../../src/worker/framing.js';
import { KIT_RULE_TS, type KitRuleCase, type KitRuleEnv, type Level, ruleSpec, subscribes } from './kit-rule-case.js';

/** A WebSocket venue's kit rules: text frames to a `VenueSession`. */
type SocketRules = KitRuleCase<VenueSession, string>;

import type { CapturedCase, CapturedVenueCase } from './captured-frames.js';
import { futuKitRules } from './futu-rules.js';
import { ibKitRules } from './ib-rules.js';
import { ccxtFrames, cryptofeedFrames, specs } from './recorded-frames.js';

/** Real recorded frames for the property tests and the fuzzer. */
export interface RecordedCase {
  /** Text frames as received from the venue (real recordings). */
  readonly frames: readonly string[];
  /** Streams those frames belong to (symbol ids from 1). */
  readonly streams: readonly StreamSpec[];
  /**
   * Sanity floor: the real frames must make more sink calls than this (default 50). Lower only for
   * venues whose only current-protocol recordings are a handful of frames (Kraken v2, Bybit v5).
   */
  readonly minSinkCalls?: number;
  /** Only where the recordings need other session options than the adapter's. */
  createSession?(ctx: SessionContext): VenueSession;
}

/** The fault-proxy scenarios (test/faults/venue-faults.test.ts; Binance spot has test/faults/scenarios.test.ts). */
export interface FaultCase {
  readonly seed: number;
  /** Simulator base rate (messages per second per stream / product / pair / instrument). */
  readonly rate: number;
  /** Book symbols (trades and book are subscribed for each). */
  readonly symbols: readonly string[];
}

/** An unknown symbol next to a listed one (test/rejections.test.ts, the `symbols` bad-input rows). */
export interface RejectionCase {
  /** A symbol the simulator lists, and one it does not (in ringfeed's spelling). */
  readonly good: string;
  readonly bad: string;
  readonly channels: readonly Channel[];
}

export interface VenueCase {
  /** The registry id (`venues[id]`, `VENUE_SIMULATORS[id]`). */
  readonly id: string;
  readonly adapter: VenueAdapter;
  readonly simulator: (typeof VENUE_SIMULATORS)[string];
  /** Real recorded text frames (WebSocket venues; none exist for the TCP venues). */
  readonly recorded?: RecordedCase;
  readonly faults?: FaultCase;
  /** TCP venues: frames captured from the simulator instead (test/kit/captured-frames.ts). */
  readonly captured?: CapturedCase;
  /** The kit rules (test/kit-rules.test.ts) on one symbol's book and trades. */
  kitRules(env: KitRuleEnv): KitRuleCase;
  readonly rejection: RejectionCase;
}

type Row = Omit<VenueCase, 'adapter' | 'simulator'>;

function venueCase(row: Row): VenueCase {
  const adapter = venues[row.id];
  const simulator = VENUE_SIMULATORS[row.id];
  if (adapter === undefined || simulator === undefined) throw new Error(`venue case ${row.id}: not in the venue or simulator registry`);
  return { ...row, adapter, simulator };
}

/** A venue case with recorded text frames. */
export type RecordedVenueCase = VenueCase & { readonly recorded: RecordedCase };

/** A session of `c` for its recorded frames. */
export function recordedSession(c: RecordedVenueCase, ctx: SessionContext): VenueSession {
  if (c.recorded.createSession) return c.recorded.createSession(ctx);
  if (c.adapter.transport !== undefined && c.adapter.transport !== 'socket') throw new Error(`${c.id}: recorded frames are WebSocket text`);
  return c.adapter.createSession(ctx);
}

const binanceSymbols: Array<[string, string]> = [
  ['NKN/USDT', 'NKNUSDT'],
  ['BLZ/ETH', 'BLZETH'],
  ['LRC/BTC', 'LRCBTC'],
  ['RUNE/EUR', 'RUNEEUR'],
  ['BTC/USDT', 'BTCUSDT'],
];

/** Binance spot and USD-M: snapshots by REST; USD-M also waits for a bridging diff. */
function binanceKitRules(env: KitRuleEnv, venue: 'binance' | 'binance-usdm'): SocketRules {
  const usdm = venue === 'binance-usdm';
  let last = 0;
  const good = (L: number) => () => Promise.resolve({ lastUpdateId: L, bids: [['100', '1']], asks: [['101', '1']] });
  let answer: () => Promise<unknown> = good(100);
  let firstAnswer: (() => Promise<unknown>) | undefined;
  const depth = (U: number, u: number, b: Level[]) =>
    JSON.stringify({
      stream: 'btcusdt@depth@100ms',
      data: { e: 'depthUpdate', E: 1000 + u, T: 999 + u, s: 'BTCUSDT', U, u, pu: U - 1, b, a: [] },
    });
  return {
    open(rc) {
      answer = firstAnswer ?? good(100);
      firstAnswer = undefined;
      rc.rest = () => answer();
      const s = createBinanceSession(rc.ctx, {
        minResyncIntervalMs: env.timing.minResyncIntervalMs,
        ...(usdm ? { flavor: USDM_FLAVOR } : {}),
      });
      const symbol = usdm ? 'BTC/USDT:USDT' : 'BTC/USDT';
      s.addStreams([ruleSpec('book', symbol, 'BTCUSDT'), ruleSpec('trades', symbol, 'BTCUSDT')]);
      return s;
    },
    async snapshot(_rc, s, n) {
      const L = 100 * n;
      answer = good(L);
      await env.advance(n === 1 ? 0 : env.timing.minResyncIntervalMs);
      last = L;
      // USD-M holds the snapshot until a diff bridges it (U <= L <= u).
      if (usdm) {
        s.onMessage(depth(L - 1, L + 1, [['100', '1']]));
        last = L + 1;
      }
    },
    badRestSnapshot(bad) {
      firstAnswer = () => Promise.resolve({ lastUpdateId: 100, bids: [['100', '1'], bad], asks: [['101', '1']] });
    },
    update: (_n, bad) => depth(last + 1, last + 1, [['100', '2'], bad]),
    trade: (p, q) =>
      JSON.stringify({ stream: 'btcusdt@trade', data: { e: 'trade', E: 1, s: 'BTCUSDT', t: 1, p, q, T: 1, m: false, M: true } }),
    asks: (rc) => rc.fetched.length - 1,
    refuse() {
      answer = () => Promise.reject(new Error('HTTP 503'));
    },
  };
}

const ROWS: readonly Row[] = [
  {
    id: 'binance',
    rejection: { good: 'BTC/USDT', bad: 'FOO/BAR', channels: ['trades', 'book'] },
    recorded: {
      frames: [...cryptofeedFrames('BINANCE.ws.1.0'), ...ccxtFrames('binance', 'wss://stream.binance.com')],
      streams: specs(
        binanceSymbols.flatMap(([s, n]) => [
          [s, n, 'book'],
          [s, n, 'quotes'],
          [s, n, 'candles', '1m'],
          [s, n, 'aggTrades'],
          [s, n, 'trades'],
          [s, n, 'ticker'],
        ]),
      ),
    },
    kitRules: (env) => binanceKitRules(env, 'binance'),
  },
  {
    // USD-M combined streams (cryptofeed, 2021) and ccxt's single-stream USD-M frames (BTCUSDT).
    id: 'binance-usdm',
    rejection: { good: 'BTC/USDT:USDT', bad: 'FOO/BAR:BAR', channels: ['trades', 'book'] },
    faults: { seed: 11, rate: 40, symbols: ['BTC/USDT:USDT', 'ETH/USDT:USDT'] },
    recorded: {
      frames: [...cryptofeedFrames('BINANCE_FUTURES.ws.1.0'), ...ccxtFrames('binance', 'wss://fstream.binance.com')],
      streams: specs(
        [
          ['SUSHI/USDT:USDT', 'SUSHIUSDT'],
          ['AKRO/USDT:USDT', 'AKROUSDT'],
          ['KEEP/USDT:USDT', 'KEEPUSDT'],
          ['CTK/USDT:USDT', 'CTKUSDT'],
          ['BTC/USDT:USDT', 'BTCUSDT'],
        ].flatMap(([s, n]): Array<[string, string, Channel, string?]> => [
          [s!, n!, 'book'],
          [s!, n!, 'quotes'],
          [s!, n!, 'candles', '1m'],
          [s!, n!, 'aggTrades'],
          [s!, n!, 'trades'],
          [s!, n!, 'ticker'],
          [s!, n!, 'funding'],
        ]),
      ),
    },
    kitRules: (env) => binanceKitRules(env, 'binance-usdm'),
  },
  {
    // Coinbase Exchange feed (legacy host, same protocol). ccxt-ws/coinbase.json is Advanced Trade: not spoken.
    id: 'coinbase',
    rejection: { good: 'BTC/USD', bad: 'FOO/BAR', channels: ['trades', 'quotes'] },
    faults: { seed: 12, rate: 40, symbols: ['BTC/USD', 'ETH/USD'] },
    recorded: {
      frames: cryptofeedFrames('COINBASE.ws.28.0'),
      streams: specs(
        ['SKL-USD', 'SKL-BTC', 'BAND-GBP', 'NMR-EUR', 'BAND-BTC', 'YFI-BTC', 'DASH-BTC', 'NU-GBP', 'CRV-EUR', 'SKL-GBP'].flatMap(
          (p): Array<[string, string, Channel]> => {
            const s = p.replace('-', '/');
            return [
              [s, p, 'book'],
              [s, p, 'trades'],
              [s, p, 'ticker'],
              [s, p, 'quotes'],
            ];
          },
        ),
      ),
    },
    kitRules: (env): SocketRules => ({
        open(rc) {
          const s = createCoinbaseSession(rc.ctx, env.timing);
          s.addStreams([ruleSpec('book', 'BTC/USD', 'BTC-USD'), ruleSpec('trades', 'BTC/USD', 'BTC-USD')]);
          return s;
        },
        async snapshot(_rc, s) {
          s.onMessage(JSON.stringify({ type: 'snapshot', product_id: 'BTC-USD', bids: [['100', '1']], asks: [['101', '1']] }));
        },
        badSnapshot: (bad) => JSON.stringify({ type: 'snapshot', product_id: 'BTC-USD', bids: [['100', '1'], bad], asks: [['101', '1']] }),
        update: (_n, bad) =>
          JSON.stringify({ type: 'l2update', product_id: 'BTC-USD', time: KIT_RULE_TS, changes: [['buy', '100', '2'], ['buy', ...bad]] }),
        trade: (price, size) =>
          JSON.stringify({
            type: 'match',
            trade_id: 1,
            sequence: 1,
            maker_order_id: 'a',
            taker_order_id: 'b',
            time: KIT_RULE_TS,
            product_id: 'BTC-USD',
            size,
            price,
            side: 'buy',
          }),
        asks: (rc) => subscribes(rc, 'type'),
        refuse(_rc, s) {
          s.onMessage(JSON.stringify({ type: 'error', message: 'Failed to subscribe', reason: 'try again' }));
        },
    }),
  },
  {
    // WS v2 (ccxt-ws/kraken.json). cryptofeed's KRAKEN.ws.* are WS v1 (positional arrays): not spoken.
    // No `instrument` frame was recorded: precisions stay unknown and checksums count as unverified.
    id: 'kraken',
    rejection: { good: 'BTC/USD', bad: 'FOO/BAR', channels: ['trades', 'book'] },
    faults: { seed: 13, rate: 60, symbols: ['BTC/USD', 'ETH/USD'] },
    recorded: {
      frames: ccxtFrames('kraken', 'wss://ws.kraken.com/v2'),
      streams: specs([
        ['BTC/USD', 'BTC/USD', 'ticker'],
        ['BTC/USD', 'BTC/USD', 'candles', '1m'],
        ['BTC/USD', 'BTC/USD', 'book'],
        ['BTC/USD', 'BTC/USD', 'trades'],
        ['DOGE/USDT', 'DOGE/USDT', 'book'],
      ]),
      minSinkCalls: 25,
      createSession: (ctx) => createKrakenSession(ctx, { bookDepth: 10 }),
    },
    kitRules: (env): SocketRules => ({
        open(rc) {
          const s = createKrakenSession(rc.ctx, env.timing);
          s.addStreams([ruleSpec('book', 'BTC/USD', 'BTC/USD'), ruleSpec('trades', 'BTC/USD', 'BTC/USD')]);
          return s;
        },
        async snapshot(_rc, s) {
          s.onMessage(
            JSON.stringify({
              channel: 'book',
              type: 'snapshot',
              data: [{ symbol: 'BTC/USD', bids: [{ price: 100, qty: 1 }], asks: [{ price: 101, qty: 1 }], timestamp: KIT_RULE_TS }],
            }),
          );
        },
        badSnapshot: ([price, qty]) =>
          JSON.stringify({
            channel: 'book',
            type: 'snapshot',
            data: [{ symbol: 'BTC/USD', bids: [{ price: 100, qty: 1 }, { price, qty }], asks: [{ price: 101, qty: 1 }], timestamp: KIT_RULE_TS }],
          }),
        update: (_n, [price, qty]) =>
          JSON.stringify({
            channel: 'book',
            type: 'update',
            data: [{ symbol: 'BTC/USD', bids: [{ price: 100, qty: 2 }, { price, qty }], asks: [], timestamp: KIT_RULE_TS }],
          }),
        trade: (price, qty) =>
          JSON.stringify({
            channel: 'trade',
            type: 'update',
            data: [{ symbol: 'BTC/USD', side: 'buy', price, qty, ord_type: 'market', trade_id: 1, timestamp: KIT_RULE_TS }],
          }),
        asks: (rc) => subscribes(rc, 'method'),
        refuse(rc, s) {
          const req = JSON.parse(rc.sent.filter((t) => JSON.parse(t).method === 'subscribe').at(-1)!).req_id;
          s.onMessage(JSON.stringify({ method: 'subscribe', success: false, error: 'Already subscribed', symbol: 'BTC/USD', req_id: req }));
        },
    }),
  },
  {
    // Bybit v5 (ccxt-ws/bybit.json); cryptofeed's BYBIT.ws.26.0 is the retired v1 API. Spot and
    // linear BTCUSDT share topic names, so one linear session takes both categories' frames (spot
    // first: they are older, and the session drops what is older than what it emitted).
    id: 'bybit',
    rejection: { good: 'BTC/USDT', bad: 'FOO/BAR', channels: ['trades', 'book'] },
    // Faults: spot and linear, two connections (`/v5/public/spot` and `/v5/public/linear`) through one proxy.
    faults: { seed: 14, rate: 40, symbols: ['BTC/USDT', 'BTC/USDT:USDT'] },
    recorded: {
      frames: [...ccxtFrames('bybit', 'wss://stream.bybit.com/v5/public/spot'), ...ccxtFrames('bybit', 'wss://stream.bybit.com/v5/public/linear')],
      minSinkCalls: 20,
      streams: specs([
        ['BTC/USDT:USDT', 'BTCUSDT', 'trades'],
        ['BTC/USDT:USDT', 'BTCUSDT', 'ticker'],
        ['BTC/USDT:USDT', 'BTCUSDT', 'funding'],
        ['BTC/USDT:USDT', 'BTCUSDT', 'quotes'],
        ['BTC/USDT:USDT', 'BTCUSDT', 'book'],
        ['BTC/USDT:USDT', 'BTCUSDT', 'candles', '1m'],
      ]),
    },
    kitRules: (env): SocketRules => ({
        open(rc) {
          const s = createBybitSession(rc.ctx, env.timing);
          s.addStreams([ruleSpec('book', 'BTC/USDT', 'BTCUSDT'), ruleSpec('trades', 'BTC/USDT', 'BTCUSDT')]);
          return s;
        },
        async snapshot(_rc, s, n) {
          s.onMessage(
            JSON.stringify({
              topic: 'orderbook.50.BTCUSDT',
              type: 'snapshot',
              ts: 1,
              data: { s: 'BTCUSDT', b: [['100', '1']], a: [['101', '1']], u: 10 * n, seq: 1 },
            }),
          );
        },
        badSnapshot: (bad) =>
          JSON.stringify({
            topic: 'orderbook.50.BTCUSDT',
            type: 'snapshot',
            ts: 1,
            data: { s: 'BTCUSDT', b: [['100', '1'], bad], a: [['101', '1']], u: 5, seq: 1 },
          }),
        update: (n, bad) =>
          JSON.stringify({
            topic: 'orderbook.50.BTCUSDT',
            type: 'delta',
            ts: 2,
            data: { s: 'BTCUSDT', b: [['100', '2'], bad], a: [], u: 10 * n + 1, seq: 2 },
          }),
        trade: (p, v) =>
          JSON.stringify({ topic: 'publicTrade.BTCUSDT', type: 'snapshot', ts: 1, data: [{ T: 1, s: 'BTCUSDT', S: 'Buy', v, p, i: 't1', seq: 5 }] }),
        asks: (rc) => subscribes(rc, 'op'),
        refuse(rc, s) {
          const req = JSON.parse(rc.sent.filter((t) => JSON.parse(t).op === 'subscribe').at(-1)!).req_id;
          s.onMessage(JSON.stringify({ success: false, ret_msg: 'error:already subscribed', conn_id: 'c', req_id: req, op: 'subscribe' }));
        },
    }),
  },
  {
    // OKX v5: cryptofeed capture (books with checksum, trades, tickers) and ccxt's frames.
    id: 'okx',
    rejection: { good: 'BTC/USDT', bad: 'FOO/BAR', channels: ['trades', 'book'] },
    faults: { seed: 15, rate: 40, symbols: ['BTC/USDT', 'ETH/USDT:USDT'] },
    recorded: {
      frames: [...cryptofeedFrames('OKX.ws.1.0'), ...ccxtFrames('okx', 'wss://ws.okx.com:8443/ws/v5/')],
      streams: specs(
        [
          ['BTC/USD:BTC-220527', 'BTC-USD-220527'],
          ['UNI/USD:UNI', 'UNI-USD-SWAP'],
          ['BTC/USDT', 'BTC-USDT'],
          ['BTC/USDT:USDT', 'BTC-USDT-SWAP'],
        ].flatMap(([s, n]): Array<[string, string, Channel, string?]> => [
          [s!, n!, 'book'],
          [s!, n!, 'trades'],
          [s!, n!, 'ticker'],
          [s!, n!, 'quotes'],
          [s!, n!, 'candles', '1m'],
          ...(n!.endsWith('-SWAP') ? [[s!, n!, 'funding'] as [string, string, Channel]] : []),
        ]),
      ),
    },
    kitRules: (env): SocketRules => ({
        open(rc) {
          const s = createOkxSession(rc.ctx, env.timing);
          s.addStreams([ruleSpec('book', 'BTC/USDT', 'BTC-USDT'), ruleSpec('trades', 'BTC/USDT', 'BTC-USDT')]);
          return s;
        },
        async snapshot(_rc, s, n) {
          s.onMessage(
            JSON.stringify({
              arg: { channel: 'books', instId: 'BTC-USDT' },
              action: 'snapshot',
              data: [{ asks: [['101', '1', '0', '1']], bids: [['100', '1', '0', '1']], ts: '1', checksum: 0, seqId: 10 * n, prevSeqId: -1 }],
            }),
          );
        },
        badSnapshot: (bad) =>
          JSON.stringify({
            arg: { channel: 'books', instId: 'BTC-USDT' },
            action: 'snapshot',
            data: [{ asks: [['101', '1', '0', '1']], bids: [['100', '1', '0', '1'], [...bad, '0', '1']], ts: '1', checksum: 0, seqId: 5, prevSeqId: -1 }],
          }),
        update: (n, bad) =>
          JSON.stringify({
            arg: { channel: 'books', instId: 'BTC-USDT' },
            action: 'update',
            data: [{ asks: [], bids: [['100', '2', '0', '1'], [...bad, '0', '1']], ts: '2', checksum: 0, seqId: 10 * n + 1, prevSeqId: 10 * n }],
          }),
        trade: (px, sz) =>
          JSON.stringify({
            arg: { channel: 'trades', instId: 'BTC-USDT' },
            data: [{ instId: 'BTC-USDT', tradeId: '1', px, sz, side: 'buy', ts: '1' }],
          }),
        asks: (rc) => subscribes(rc, 'op'),
        refuse(_rc, s) {
          s.onMessage(JSON.stringify({ event: 'error', code: '60012', msg: 'channel:books,instId:BTC-USDT busy, try again' }));
        },
    }),
  },
  {
    // OpenD over TCP (protobuf bodies); no public recording of the protocol exists. The simulator
    // lists every code but those starting 99 or ZZ.
    id: 'futu',
    faults: { seed: 16, rate: 40, symbols: ['HK.00700', 'US.AAPL'] },
    captured: {
      streams: specs(
        (['trades', 'quotes', 'ticker', 'book', 'candles'] as const).flatMap((ch) =>
          ['HK.00700', 'US.AAPL'].map((sym): [string, string, Channel, string?] => [sym, sym, ch, ch === 'candles' ? '1m' : undefined]),
        ),
      ),
      frames: 300,
      rate: 200,
      payload: (frame) => packetBody(frame),
      reframe: (frame, payload) => {
        const { protoId, serial } = readHeader(frame);
        return encodePacket(protoId, serial, payload);
      },
      minSinkCalls: 100,
    },
    rejection: { good: 'HK.00700', bad: 'US.ZZFOOBAR', channels: ['trades', 'book'] },
    kitRules: futuKitRules,
  },
  {
    // TWS API over TCP; no public recording of the protocol exists.
    id: 'ib',
    faults: { seed: 17, rate: 40, symbols: ['AAPL', 'MSFT'] },
    captured: {
      streams: specs(
        (['trades', 'quotes', 'ticker', 'book', 'candles'] as const).flatMap((ch) =>
          ['AAPL', 'CASH:EUR.USD@IDEALPRO'].map((sym): [string, string, Channel, string?] => [
            sym,
            venues.ib!.nativeSymbol(sym),
            ch,
            ch === 'candles' ? '5s' : undefined,
          ]),
        ),
      ),
      frames: 400,
      rate: 200,
      payload: (frame) => frame.subarray(4),
      reframe: (_frame, payload) => twsFrame(payload),
      fieldSeparator: 0,
      minSinkCalls: 100,
    },
    rejection: { good: 'AAPL', bad: 'FOOBAR', channels: ['trades', 'book'] },
    kitRules: ibKitRules,
  },
];

export const VENUE_CASES: readonly VenueCase[] = ROWS.map(venueCase);
/** The cases the property tests and the fuzzer run on: those with recorded frames. */
export const RECORDED_CASES: readonly RecordedVenueCase[] = VENUE_CASES.filter((c): c is RecordedVenueCase => c.recorded !== undefined);
/** The TCP cases the property tests and the fuzzer run on: frames captured from their simulators. */
export const CAPTURED_CASES: readonly CapturedVenueCase[] = VENUE_CASES.filter((c): c is CapturedVenueCase => c.captured !== undefined);
