/**
 * The naive peer: what one would write first. One thread, one `ws` socket on the same combined
 * stream URL ringfeed uses, `JSON.parse` per frame, normalization to the same plain record objects
 * ringfeed's `onRecord` yields, books kept in `Map`s and synced from the REST snapshot by Binance's
 * rules, and every record emitted through an `EventEmitter`.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { distributionOf, Histograms, nowMs, summaryOf, TradeIdCheck, until, Window } from '../measure.js';
import type { Target } from '../targets/target.js';
import type { PhaseResult, PhaseSpec } from '../types.js';

type Level = [number, number];

interface NaiveBook {
  bids: Map<number, number>;
  asks: Map<number, number>;
  lastU: number;
  synced: boolean;
  buffer: DepthEvent[];
}

interface DepthEvent {
  E: number;
  s: string;
  U: number;
  u: number;
  b: [string, string][];
  a: [string, string][];
}

const SUFFIX: Record<string, string> = { trades: '@trade', quotes: '@bookTicker', book: '@depth@100ms' };

function levels(raw: [string, string][]): Level[] {
  return raw.map(([p, q]) => [Number(p), Number(q)]);
}

function apply(side: Map<number, number>, lv: Level[]): void {
  for (const [p, q] of lv) {
    if (q === 0) side.delete(p);
    else side.set(p, q);
  }
}

/** The feed itself: emits `record` (plain objects) and `synced` (symbol). */
export class NaiveFeed extends EventEmitter {
  private ws: WebSocket | undefined;
  private readonly books = new Map<string, NaiveBook>();
  private readonly symbolOf = new Map<string, string>();
  private streamSeq = 0;
  recvTs = 0;

  constructor(private readonly spec: PhaseSpec) {
    super();
    for (const s of spec.symbols) this.symbolOf.set(s.replace('/', ''), s);
  }

  open(): void {
    const streams: string[] = [];
    for (const symbol of this.spec.symbols) {
      const lower = symbol.replace('/', '').toLowerCase();
      for (const c of this.spec.channels) {
        streams.push(c === 'candles' ? `${lower}@kline_${this.spec.candleInterval}` : lower + SUFFIX[c]);
      }
    }
    const ws = new WebSocket(`${this.spec.wsUrl}/stream?streams=${streams.join('/')}`);
    this.ws = ws;
    ws.on('message', (data: Buffer) => this.onMessage(data));
    ws.on('error', (err) => this.emit('error', err));
    ws.on('open', () => {
      if (!this.spec.channels.includes('book')) return;
      for (const native of this.symbolOf.keys()) {
        this.books.set(native, { bids: new Map(), asks: new Map(), lastU: 0, synced: false, buffer: [] });
        void this.snapshot(native);
      }
    });
  }

  close(): Promise<void> {
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      ws.once('close', () => resolve());
      ws.close();
    });
  }

  private async snapshot(native: string): Promise<void> {
    const res = await fetch(`${this.spec.restUrl}/api/v3/depth?symbol=${native}&limit=1000`);
    const snap = (await res.json()) as { lastUpdateId: number; bids: [string, string][]; asks: [string, string][] };
    const book = this.books.get(native)!;
    book.bids = new Map(levels(snap.bids));
    book.asks = new Map(levels(snap.asks));
    book.lastU = snap.lastUpdateId;
    book.synced = true;
    const pending = book.buffer;
    book.buffer = [];
    for (const ev of pending) this.onDepth(ev, book);
    this.emit('synced', this.symbolOf.get(native));
  }

  private onMessage(data: Buffer): void {
    this.recvTs = nowMs();
    const msg = JSON.parse(data.toString()) as { stream: string; data: Record<string, unknown> };
    const d = msg.data;
    const symbol = this.symbolOf.get(d.s as string) ?? (d.s as string);
    switch (d.e) {
      case 'trade':
        this.emit('record', {
          type: 'trade',
          exchange: 'binance',
          symbol,
          exchangeTs: d.T as number,
          recvTs: this.recvTs,
          seq: d.t as number,
          streamSeq: this.streamSeq++,
          side: d.m ? 'sell' : 'buy',
          price: Number(d.p),
          amount: Number(d.q),
        });
        return;
      case 'depthUpdate': {
        const book = this.books.get(d.s as string);
        if (!book) return;
        const ev = d as unknown as DepthEvent;
        if (!book.synced) book.buffer.push(ev);
        else this.onDepth(ev, book);
        return;
      }
      case 'kline': {
        const k = d.k as Record<string, unknown>;
        this.emit('record', {
          type: 'candle',
          exchange: 'binance',
          symbol,
          exchangeTs: d.E as number,
          recvTs: this.recvTs,
          seq: Number.NaN,
          streamSeq: this.streamSeq++,
          intervalSec: 60,
          openTs: k.t as number,
          open: Number(k.o),
          high: Number(k.h),
          low: Number(k.l),
          close: Number(k.c),
          volume: Number(k.v),
          closed: k.x as boolean,
        });
        return;
      }
      default:
        if (d.u !== undefined && d.b !== undefined) {
          this.emit('record', {
            type: 'quote',
            exchange: 'binance',
            symbol,
            exchangeTs: Number.NaN,
            recvTs: this.recvTs,
            seq: d.u as number,
            streamSeq: this.streamSeq++,
            bidPrice: Number(d.b),
            bidAmount: Number(d.B),
            askPrice: Number(d.a),
            askAmount: Number(d.A),
          });
        }
    }
  }

  private onDepth(ev: DepthEvent, book: NaiveBook): void {
    if (ev.u <= book.lastU) return;
    if (ev.U > book.lastU + 1) {
      // Gap: start over from a new snapshot.
      book.synced = false;
      book.buffer = [ev];
      this.emit('gap', ev.s);
      void this.snapshot(ev.s);
      return;
    }
    const bids = levels(ev.b);
    const asks = levels(ev.a);
    apply(book.bids, bids);
    apply(book.asks, asks);
    book.lastU = ev.u;
    this.emit('record', {
      type: 'book',
      exchange: 'binance',
      symbol: this.symbolOf.get(ev.s) ?? ev.s,
      exchangeTs: ev.E,
      recvTs: this.recvTs,
      seq: ev.u,
      streamSeq: this.streamSeq++,
      snapshot: false,
      firstSeq: ev.U,
      bids,
      asks,
    });
  }
}

interface AnyRecord {
  type: string;
  symbol: string;
  exchangeTs: number;
  recvTs: number;
  seq: number;
  price?: number;
  bidPrice?: number;
  bids?: Level[];
  asks?: Level[];
}

export function naiveTarget(): Target {
  let feed: NaiveFeed | undefined;
  const window = new Window();
  const hist = new Histograms();
  let trades = new TradeIdCheck();
  let messages = 0;
  let gaps = 0;
  let synced = 0;
  let bookMsgs = 0;
  let bookLevels = 0;
  let checksum = 0;

  const onRecord = (r: AnyRecord): void => {
    messages++;
    const now = nowMs();
    hist.recv.record((now - r.recvTs) * 1000);
    if (!Number.isNaN(r.exchangeTs)) hist.exchange.record((now - r.exchangeTs) * 1000);
    if (r.type === 'trade') {
      trades.see(r.symbol, r.seq);
      checksum += r.price!;
    } else if (r.type === 'book') {
      bookMsgs++;
      bookLevels += r.bids!.length + r.asks!.length;
      if (r.bids!.length > 0) checksum += r.bids![0]![0];
    } else if (r.type === 'quote') {
      checksum += r.bidPrice!;
    }
  };

  return {
    async start(spec) {
      feed = new NaiveFeed(spec);
      synced = 0;
      feed.on('record', onRecord);
      feed.on('synced', () => synced++);
      feed.on('gap', () => gaps++);
      feed.on('error', (err: Error) => process.stderr.write(`naive: ${err.message}\n`));
      feed.open();
      const books = spec.channels.includes('book') ? spec.symbols.length : 0;
      const ok = await until(() => messages > 0 && synced >= books, 20_000);
      if (!ok) throw new Error(`naive: not warm after 20 s (messages ${messages}, books synced ${synced}/${books})`);
    },
    mark() {
      hist.reset();
      trades = new TradeIdCheck();
      messages = 0;
      gaps = 0;
      bookMsgs = 0;
      bookLevels = 0;
      window.mark();
    },
    async finish(): Promise<PhaseResult> {
      const w = window.read();
      const result: PhaseResult = {
        messages,
        seconds: w.seconds,
        cpuUs: w.cpuUs,
        rssMb: w.rssMb,
        drops: trades.missing,
        gaps: gaps + trades.holes,
        tradeIdHoles: trades.holes,
        latencyUs: summaryOf(hist.exchange),
        recvToConsumeUs: summaryOf(hist.recv),
        distribution: distributionOf(hist.exchange),
        levelsPerBookMsg: bookMsgs > 0 ? bookLevels / bookMsgs : 0,
        extra: { bookResyncs: gaps, checksum: checksum % 1 },
      };
      await feed?.close();
      feed = undefined;
      return result;
    },
  };
}
