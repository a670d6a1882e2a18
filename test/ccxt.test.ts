import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ResyncReason, StatusCode } from '../src/records/types.js';
import { CCXT_FIRST_EXCHANGE_CODE, ccxtChannels, createCcxtAdapter } from '../src/venues/ccxt/adapter.js';
import { CCXT_PRO_CATALOG } from '../src/venues/ccxt/catalog.js';
import { BookNormalizer, CandleNormalizer, diffSide, TradeNormalizer, timeframeSeconds } from '../src/venues/ccxt/normalize.js';
import { ccxtVenueOptions } from '../src/venues/ccxt/types.js';
import { overrideUrls } from '../src/venues/ccxt/urls.js';
import type { RecordSink } from '../src/venues/contract.js';
import { getVenue } from '../src/venues/registry.js';

type Call = [string, ...unknown[]];

function recordingSink(): { sink: RecordSink; calls: Call[] } {
  const calls: Call[] = [];
  const sink: RecordSink = {
    trade: (...a) => calls.push(['trade', ...a]),
    quote: (...a) => calls.push(['quote', ...a]),
    ticker: (...a) => calls.push(['ticker', ...a]),
    book: (id, _ts, _first, seq, snap, bids, nb, asks, na) =>
      calls.push(['book', id, seq, snap, Array.from(bids).slice(0, 2 * nb), Array.from(asks).slice(0, 2 * na)]),
    candle: (...a) => calls.push(['candle', ...a]),
    status: (...a) => calls.push(['status', ...a]),
  };
  return { sink, calls };
}

describe('ccxt adapter and registry (main thread, no ccxt loaded)', () => {
  it('resolves ccxt venues by id, via ccxt, and with the ccxt: prefix', () => {
    const kucoin = getVenue('kucoinfutures');
    expect(kucoin).toMatchObject({ id: 'kucoinfutures', transport: 'ccxt' });
    expect(getVenue('kucoinfutures')).toBe(kucoin);
    expect(getVenue('binance').transport).not.toBe('ccxt');
    const viaCcxt = getVenue('binance', 'ccxt');
    expect(viaCcxt).toMatchObject({ id: 'ccxt:binance', transport: 'ccxt' });
    expect(getVenue('ccxt:binance')).toBe(viaCcxt);
    expect(() => getVenue('kucoinfutures', 'native')).toThrow(/unknown venue "kucoinfutures" via native/);
    expect(() => getVenue('nosuchexchange')).toThrow(/unknown venue "nosuchexchange"/);
  });

  it('takes channels from the has flags and gives each venue a stable code from 32', () => {
    expect(ccxtChannels('binance')).toEqual(['trades', 'book', 'ticker', 'candles', 'quotes']);
    expect(createCcxtAdapter('bingx').channels).not.toContain('quotes');
    const codes = Object.keys(CCXT_PRO_CATALOG).map((id) => createCcxtAdapter(id).exchangeCode);
    expect(new Set(codes).size).toBe(codes.length);
    expect(Math.min(...codes)).toBe(CCXT_FIRST_EXCHANGE_CODE);
    expect(Math.max(...codes)).toBeLessThanOrEqual(255);
    expect(() => createCcxtAdapter('nosuch')).toThrow(/ccxt has no pro \(WebSocket\) exchange "nosuch"/);
  });

  it('checks symbol syntax only and names the venue', () => {
    const a = createCcxtAdapter('kucoinfutures');
    expect(a.nativeSymbol('XBT/USDT:USDT')).toBe('XBT/USDT:USDT');
    expect(() => a.nativeSymbol('btc-usdt')).toThrow(/kucoinfutures: invalid symbol "btc-usdt"/);
    expect(a.wsUrlEnv).toBe('RINGFEED_CCXT_KUCOINFUTURES_WS_URL');
    // ccxt owns the sockets: the adapter has no socket session to create.
    expect(a.transport).toBe('ccxt');
    expect('createSession' in a).toBe(false);
  });

  it('loads ccxt nowhere but in the ccxt worker and the catalog generator', () => {
    const importers: string[] = [];
    const walk = (d: string) => {
      const dir = new URL(d, import.meta.url);
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(`${d}${e.name}/`);
        else if (e.name.endsWith('.ts')) {
          const text = readFileSync(new URL(e.name, dir), 'utf8');
          if (/from 'ccxt'|import\('ccxt'\)/.test(text)) importers.push(`${d}${e.name}`);
        }
      }
    };
    walk('../src/');
    walk('../workers/');
    expect(importers.sort()).toEqual(['../src/venues/ccxt/catalog-generate.ts', '../workers/ccxt-connection.ts']);
  });

  it('the generated catalog matches the installed ccxt', async () => {
    const ccxt = (await import('ccxt')).default as unknown as { pro: Record<string, unknown> };
    const ids = Object.keys(ccxt.pro).filter((k) => /^[a-z0-9]+$/.test(k) && typeof ccxt.pro[k] === 'function');
    expect(Object.keys(CCXT_PRO_CATALOG).sort()).toEqual(ids.sort());
  });

  it('reads per-exchange options from the environment and rejects malformed JSON', () => {
    expect(ccxtVenueOptions('kucoin', '{"kucoin":{"bookLimit":5}}')).toEqual({ bookLimit: 5 });
    expect(ccxtVenueOptions('bingx', '{"kucoin":{}}')).toEqual({});
    expect(() => ccxtVenueOptions('kucoin', '{')).toThrow(/RINGFEED_CCXT_OPTIONS is not valid JSON/);
  });
});

describe('ccxt URL overrides', () => {
  it('replaces origins, keeps paths, and keeps colliding hosts apart', () => {
    const urls = {
      api: {
        public: 'https://api.x.com/api/v3',
        ws: { spot: 'wss://a.x.com/market', inverse: 'wss://b.x.com/market', swap: 'wss://c.x.com/swap-market' },
      },
    };
    overrideUrls(urls, 'ws://127.0.0.1:9', 'http://127.0.0.1:8');
    expect(urls.api).toEqual({
      public: 'http://127.0.0.1:8/api/v3',
      ws: { spot: 'ws://127.0.0.1:9/a.x.com/market', inverse: 'ws://127.0.0.1:9/b.x.com/market', swap: 'ws://127.0.0.1:9/swap-market' },
    });
    const untouched = { api: { public: 'https://api.x.com' } };
    overrideUrls(untouched, '', '');
    expect(untouched.api.public).toBe('https://api.x.com');
  });
});

describe('ccxt normalization', () => {
  it('emits each trade once even when ccxt hands a cache back again', () => {
    const { sink, calls } = recordingSink();
    const n = new TradeNormalizer(sink, 7);
    const t1 = { id: '100', timestamp: 1, side: 'buy', price: 10, amount: 1 };
    const t2 = { id: '101', timestamp: 2, side: 'sell', price: 11, amount: 2 };
    expect(n.apply([t1])).toBe(1);
    expect(n.apply([t1, t2])).toBe(1);
    expect(n.apply([{ id: null, timestamp: 3, side: 'buy', price: 1, amount: 1 }])).toBe(1);
    expect(n.apply([{ id: null, timestamp: 3, side: 'buy', price: 1, amount: 1 }])).toBe(0);
    expect(calls.map((c) => c.slice(0, 4))).toEqual([
      ['trade', 7, 1, 100],
      ['trade', 7, 2, 101],
      ['trade', 7, 3, Number.NaN],
    ]);
  });

  it('diffs a book side by a merge walk (changed, added, removed levels)', () => {
    const out: number[] = [];
    const prev = [10, 1, 9, 1, 8, 1];
    const n = diffSide(prev, 3, [[10, 1], [9.5, 2], [8, 3]], true, out);
    expect(out.slice(0, 2 * n)).toEqual([9.5, 2, 9, 0, 8, 3]);
    expect(diffSide([1, 1], 1, [], false, out)).toBe(1);
  });

  it('books: snapshot, deltas, no empty delta, and a crossed book resyncs that symbol', () => {
    const { sink, calls } = recordingSink();
    const resyncs: number[] = [];
    const b = new BookNormalizer(sink, 3, (r) => resyncs.push(r));
    expect(b.apply({ bids: [[9, 1]], asks: [[10, 1]], nonce: 1 })).toBe('snapshot');
    expect(b.apply({ bids: [[9, 2]], asks: [[10, 1]], nonce: 2 })).toBe('delta');
    expect(b.apply({ bids: [[9, 2]], asks: [[10, 1]], nonce: 3 })).toBe('unchanged');
    expect(b.apply({ bids: [[11, 1]], asks: [[10, 1]], nonce: 4 })).toBe('crossed');
    expect(b.apply({ bids: [[11, 1]], asks: [[10, 1]], nonce: 5 })).toBe('crossed');
    expect(b.apply({ bids: [[9, 1]], asks: [[10, 2]], nonce: 6 })).toBe('snapshot');
    expect(resyncs).toEqual([ResyncReason.crossedBook]);
    expect(calls).toEqual([
      ['book', 3, 1, true, [9, 1], [10, 1]],
      ['status', 3, StatusCode.synced, 1],
      ['book', 3, 2, false, [9, 2], []],
      ['status', 3, StatusCode.resync, ResyncReason.crossedBook],
      ['book', 3, 6, true, [9, 1], [10, 2]],
      ['status', 3, StatusCode.synced, 6],
    ]);
  });

  it('candles: closes the previous candle when the next opens', () => {
    const { sink, calls } = recordingSink();
    const c = new CandleNormalizer(sink, 1, timeframeSeconds('1m'));
    c.apply([[60_000, 1, 2, 0.5, 1.5, 10]]);
    c.apply([[120_000, 1.5, 1.6, 1.4, 1.5, 1]]);
    expect(calls.map((k) => [k[5], k[11]])).toEqual([
      [60_000, false],
      [60_000, true],
      [120_000, false],
    ]);
    expect(timeframeSeconds('4h')).toBe(14_400);
    expect(() => timeframeSeconds('1x')).toThrow(/invalid candle interval "1x"/);
  });
});
