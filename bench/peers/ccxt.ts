/**
 * The ccxt pro peer: `ccxt.pro.binance` pointed at the simulator through its `urls` option
 * (`urls.api.ws.spot` for streams, `urls.api.public` for the REST depth snapshot), with markets
 * set locally (the simulator has no `exchangeInfo`). One consumer loop per channel with the
 * `watch*ForSymbols` calls: trades, bids/asks (bookTicker), order books, OHLCV.
 *
 * Counting: ccxt folds updates that arrive while a loop is busy into its caches (books, tickers)
 * and hands trades over in batches, so "messages" is what ccxt ingested (every data frame its
 * `handleMessage` applied); latency is measured on what the loops actually received. Trade ids are
 * checked for holes (ccxt's trade cache keeps 1000 per symbol; overflowing it loses trades).
 */
import ccxt from 'ccxt';
import { distributionOf, Histograms, nowMs, summaryOf, TradeIdCheck, until, Window } from '../measure.js';
import type { Target } from '../targets/target.js';
import type { PhaseResult, PhaseSpec } from '../types.js';

/** The combined-stream path ccxt appends `/<n>` to; `/stream` also tells ccxt it is a spot URL. */
export function ccxtUrls(wsUrl: string, restUrl: string) {
  return { api: { ws: { spot: `${wsUrl}/stream?ccxt=`, margin: `${wsUrl}/stream?ccxt=` }, public: `${restUrl}/api/v3` } };
}

/** Minimal spot market descriptions (what `fetchMarkets` would give for these symbols). */
export function ccxtMarkets(symbols: readonly string[]): Record<string, unknown>[] {
  return symbols.map((symbol) => {
    const [base, quote] = symbol.split('/') as [string, string];
    return {
      id: base + quote,
      lowercaseId: (base + quote).toLowerCase(),
      symbol,
      base,
      quote,
      baseId: base,
      quoteId: quote,
      type: 'spot',
      spot: true,
      margin: false,
      swap: false,
      future: false,
      option: false,
      contract: false,
      active: true,
      linear: undefined,
      inverse: undefined,
      precision: { amount: 1e-8, price: 1e-8 },
      limits: { amount: {}, price: {}, cost: {}, leverage: {} },
      info: {},
    };
  });
}

interface Loop {
  stop: boolean;
  done: Promise<void>;
}

export function ccxtTarget(): Target {
  // biome-ignore lint/suspicious/noExplicitAny: ccxt's exchange classes are loosely typed here on purpose.
  let ex: any;
  let loops: Loop[] = [];
  const window = new Window();
  const hist = new Histograms();
  let trades = new TradeIdCheck();
  let ingested = 0;
  let delivered = 0;
  let bookMsgs = 0;
  let bookLevels = 0;
  let errors = 0;
  let lastError = '';

  const seen = (exchangeTs: number | undefined, recvTs: number): void => {
    const now = nowMs();
    hist.recv.record((now - recvTs) * 1000);
    if (typeof exchangeTs === 'number' && Number.isFinite(exchangeTs)) hist.exchange.record((now - exchangeTs) * 1000);
  };

  function loop(body: () => Promise<void>): Loop {
    const l: Loop = { stop: false, done: Promise.resolve() };
    l.done = (async () => {
      while (!l.stop) {
        try {
          await body();
        } catch (err) {
          if (l.stop) return;
          errors++;
          lastError = (err as Error).message;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    })();
    return l;
  }

  return {
    async start(spec: PhaseSpec) {
      ex = new ccxt.pro.binance({ urls: ccxtUrls(spec.wsUrl, spec.restUrl), enableRateLimit: false });
      ex.setMarkets(ccxtMarkets(spec.symbols));
      // ccxt wants an http agent before it opens a plain ws:// socket.
      await ex.loadHttpProxyAgent();
      const handle = ex.handleMessage.bind(ex);
      let lastRecv = 0;
      ex.handleMessage = (client: unknown, message: Record<string, unknown>) => {
        lastRecv = nowMs();
        if (message && (message.data !== undefined || message.e !== undefined)) ingested++;
        handle(client, message);
      };
      const symbols = [...spec.symbols];
      loops = [];
      if (spec.channels.includes('trades')) {
        loops.push(
          loop(async () => {
            const batch = (await ex.watchTradesForSymbols(symbols)) as Array<{ id: string; symbol: string; timestamp: number }>;
            for (const t of batch) {
              delivered++;
              trades.see(t.symbol, Number(t.id));
              seen(t.timestamp, lastRecv);
            }
          }),
        );
      }
      if (spec.channels.includes('quotes')) {
        loops.push(
          loop(async () => {
            const r = (await ex.watchBidsAsks(symbols)) as Record<string, { timestamp?: number }>;
            for (const k in r) {
              delivered++;
              seen(r[k]!.timestamp, lastRecv);
            }
          }),
        );
      }
      if (spec.channels.includes('book')) {
        loops.push(
          loop(async () => {
            const ob = (await ex.watchOrderBookForSymbols(symbols)) as { timestamp: number; bids: unknown[]; asks: unknown[] };
            delivered++;
            bookMsgs++;
            bookLevels += Math.min(ob.bids.length, 20) + Math.min(ob.asks.length, 20);
            seen(ob.timestamp, lastRecv);
          }),
        );
      }
      if (spec.channels.includes('candles')) {
        const pairs = symbols.map((s) => [s, spec.candleInterval]);
        loops.push(
          loop(async () => {
            const r = (await ex.watchOHLCVForSymbols(pairs)) as Record<string, Record<string, number[][]>>;
            for (const s in r) {
              for (const tf in r[s]) {
                delivered += r[s]![tf]!.length;
                seen(undefined, lastRecv);
              }
            }
          }),
        );
      }
      const books = spec.channels.includes('book') ? symbols.length : 0;
      const ok = await until(() => ingested > 0 && Object.keys(ex.orderbooks ?? {}).filter((s) => ex.orderbooks[s].nonce !== undefined).length >= books, 20_000);
      if (!ok) throw new Error(`ccxt: not warm after 20 s (ingested ${ingested}, errors ${errors}: ${lastError})`);
    },
    mark() {
      hist.reset();
      trades = new TradeIdCheck();
      ingested = 0;
      delivered = 0;
      bookMsgs = 0;
      bookLevels = 0;
      errors = 0;
      window.mark();
    },
    async finish(): Promise<PhaseResult> {
      const w = window.read();
      const result: PhaseResult = {
        messages: ingested,
        seconds: w.seconds,
        cpuUs: w.cpuUs,
        rssMb: w.rssMb,
        drops: trades.missing,
        gaps: trades.holes,
        tradeIdHoles: trades.holes,
        latencyUs: summaryOf(hist.exchange),
        recvToConsumeUs: summaryOf(hist.recv),
        distribution: distributionOf(hist.exchange),
        levelsPerBookMsg: bookMsgs > 0 ? bookLevels / bookMsgs : 0,
        extra: { deliveredToLoops: delivered, errors },
      };
      for (const l of loops) l.stop = true;
      await ex.close().catch(() => {});
      await Promise.race([Promise.all(loops.map((l) => l.done)), new Promise((r) => setTimeout(r, 2000))]);
      ex = undefined;
      return result;
    },
  };
}
