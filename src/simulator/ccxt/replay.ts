/**
 * Replays a recorded ccxt WebSocket session file (`ccxt-ws/<venue>.json`: per watch method, the
 * frames ccxt sent and received) to a real ccxt client running in our worker, so that a ccxt
 * venue can be run end to end — engine, CLI — with no network. Venue specifics (KuCoin's token
 * endpoint, BingX's gzip frames) and the markets ccxt would otherwise load over REST live here.
 * A session file may also be hand-written (test/fixtures/kucoinfutures.json says so in `note`).
 */
import { readFileSync } from 'node:fs';
import type { CcxtVenueOptions } from '../../venues/ccxt/types.js';
import { type ReplayCase, type ReplayServer, startReplayServer } from './replay-server.js';

export interface CcxtFixtureCase {
  readonly description: string;
  readonly input: unknown[];
  readonly url: string;
  readonly messages: unknown[];
  readonly sentMessages?: Record<string, unknown>[];
  readonly parsedResponses?: unknown[];
  readonly httpResponse?: unknown;
  /** REST documents the case needs besides the token, by path (e.g. a book snapshot). */
  readonly httpResponses?: Readonly<Record<string, unknown>>;
}

export interface CcxtFixture {
  readonly exchange: string;
  /** Provenance, e.g. that the file is hand-written rather than recorded. */
  readonly note?: string;
  readonly methods: Record<string, CcxtFixtureCase[]>;
}

/** The public market-data watch methods, and the channel each one is. */
export const CCXT_REPLAY_CHANNEL = {
  watchTrades: 'trades',
  watchTicker: 'ticker',
  watchOHLCV: 'candles',
  watchOrderBook: 'book',
} as const;

export type CcxtReplayMethod = keyof typeof CCXT_REPLAY_CHANNEL;

export interface CcxtReplayEntry {
  readonly method: CcxtReplayMethod;
  readonly c: CcxtFixtureCase;
  readonly replay: ReplayCase;
}

export function loadCcxtFixture(file: string | URL): CcxtFixture {
  const fixture = JSON.parse(readFileSync(file, 'utf8')) as CcxtFixture;
  if (typeof fixture?.exchange !== 'string' || typeof fixture.methods !== 'object' || fixture.methods === null) {
    throw new Error(`${String(file)} is not a ccxt session recording (needs "exchange" and "methods")`);
  }
  return fixture;
}

/** The recorded public market-data cases that have a subscribe frame to match. */
export function ccxtReplayEntries(fixture: CcxtFixture): CcxtReplayEntry[] {
  const out: CcxtReplayEntry[] = [];
  for (const method of Object.keys(CCXT_REPLAY_CHANNEL) as CcxtReplayMethod[]) {
    for (const c of fixture.methods[method] ?? []) {
      const sent = c.sentMessages?.[0];
      if (sent !== undefined) out.push({ method, c, replay: { sent, messages: c.messages } });
    }
  }
  return out;
}

/** A minimal ccxt unified market (enough for ccxt's parsers and market lookups). */
export function ccxtMarket(id: string, symbol: string): Record<string, unknown> {
  const [pair, settle] = symbol.split(':') as [string, string | undefined];
  const [base, quote] = pair.split('/') as [string, string];
  const swap = settle !== undefined;
  return {
    id,
    symbol,
    base,
    quote,
    settle,
    baseId: base,
    quoteId: quote,
    settleId: settle,
    type: swap ? 'swap' : 'spot',
    spot: !swap,
    margin: false,
    swap,
    future: false,
    option: false,
    contract: swap,
    linear: swap ? true : undefined,
    inverse: swap ? false : undefined,
    contractSize: swap ? 1 : undefined,
    active: true,
    precision: { amount: 1e-8, price: 1e-8 },
    limits: { amount: {}, price: {}, cost: {}, leverage: {} },
    info: {},
  };
}

interface VenueSetup {
  /** REST documents the replay server answers (path → body; `{{wsUrl}}` is substituted). */
  rest(fixture: CcxtFixture): Record<string, string>;
  readonly gzip: boolean;
  /** Settings ccxt needs beyond the markets (e.g. the recorded book depth). */
  readonly options: CcxtVenueOptions;
  /** The market for a recorded symbol, when the venue id is not `BASE-QUOTE` (see `ccxtMarket`). */
  market?(symbol: string): Record<string, unknown>;
}

type BulletResponse = { data: { instanceServers: { endpoint: string }[] } };

/** KuCoin's connect token (`POST /api/v1/bullet-public`) as recorded, pointed at this server. */
function kucoinBullet(fixture: CcxtFixture): Record<string, string> {
  const cases = Object.values(fixture.methods).flat();
  const token = cases.find((c) => (c.httpResponse as Partial<BulletResponse> | undefined)?.data?.instanceServers)
    ?.httpResponse as BulletResponse | undefined;
  if (token === undefined) throw new Error(`the ${fixture.exchange} session has no token (bullet-public) response`);
  const bullet = structuredClone(token);
  for (const s of bullet.data.instanceServers) s.endpoint = '{{wsUrl}}/';
  return { '/api/v1/bullet-public': JSON.stringify(bullet) };
}

/**
 * KuCoin Futures contracts by unified symbol: venue id (`XBTUSDTM`: BTC is `XBT`, linear
 * USDT-margined perpetuals end in `M`) and contract size (multiplier), as ccxt loads them.
 */
const KUCOIN_FUTURES_CONTRACTS: Readonly<Record<string, { id: string; baseId: string; contractSize: number }>> = {
  'BTC/USDT:USDT': { id: 'XBTUSDTM', baseId: 'XBT', contractSize: 0.001 },
};

/** Venues whose recordings replay; each entry is what that venue's protocol needs locally. */
const VENUES: Readonly<Record<string, VenueSetup>> = {
  // ccxt asks for a connect token first.
  kucoin: { rest: kucoinBullet, gzip: false, options: { bookLimit: 5 } },
  // Token from the futures REST host; the incremental book (no bookLimit) needs a REST snapshot.
  kucoinfutures: {
    rest: kucoinBullet,
    gzip: false,
    options: {},
    market(symbol) {
      const c = Object.hasOwn(KUCOIN_FUTURES_CONTRACTS, symbol) ? KUCOIN_FUTURES_CONTRACTS[symbol]! : undefined;
      if (c === undefined) {
        throw new Error(`no kucoinfutures contract for ${symbol}; known: ${Object.keys(KUCOIN_FUTURES_CONTRACTS).join(', ')}`);
      }
      // Sizes are whole contracts, prices in 0.1 steps.
      return { ...ccxtMarket(c.id, symbol), baseId: c.baseId, contractSize: c.contractSize, precision: { amount: 1, price: 0.1 } };
    },
  },
  bingx: { rest: () => ({}), gzip: true, options: {} },
};

/** The cases' extra REST documents (`httpResponses`), path → body. */
function caseRest(fixture: CcxtFixture): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of Object.values(fixture.methods).flat()) {
    for (const [path, body] of Object.entries(c.httpResponses ?? {})) out[path] = JSON.stringify(body);
  }
  return out;
}

export const CCXT_REPLAY_VENUES: readonly string[] = Object.keys(VENUES);

export interface CcxtReplay {
  readonly server: ReplayServer;
  readonly entries: readonly CcxtReplayEntry[];
  /** The symbols recorded (`BASE/QUOTE`, `BASE/QUOTE:SETTLE`). */
  readonly symbols: readonly string[];
  /** For `RINGFEED_CCXT_OPTIONS` / `--ccxt-options`: markets of the recorded symbols, depth. */
  readonly ccxtOptions: Readonly<Record<string, CcxtVenueOptions>>;
  close(): Promise<void>;
}

/**
 * Starts a replay server for a recorded ccxt session. Markets are derived from the recorded
 * symbols (venue id `BASE-QUOTE`, as KuCoin and BingX spell them, unless the venue setup maps
 * them) since recordings hold no market list.
 */
export async function startCcxtReplay(
  fixture: CcxtFixture,
  opts: { host?: string; port?: number; paceMs?: number } = {},
): Promise<CcxtReplay> {
  const venue = fixture.exchange;
  const setup = Object.hasOwn(VENUES, venue) ? VENUES[venue]! : undefined;
  if (setup === undefined) {
    throw new Error(`no replay setup for ccxt venue ${venue}; replayable: ${CCXT_REPLAY_VENUES.join(', ')}`);
  }
  const entries = ccxtReplayEntries(fixture);
  const symbols = [...new Set(entries.map((e) => e.c.input[0] as string))];
  const markets = symbols.map((s) => setup.market?.(s) ?? ccxtMarket(s.split(':')[0]!.replace('/', '-'), s));
  const server = await startReplayServer({
    cases: entries.map((e) => e.replay),
    rest: { ...caseRest(fixture), ...setup.rest(fixture) },
    gzip: setup.gzip,
    paceMs: opts.paceMs,
    host: opts.host,
    port: opts.port,
  });
  return {
    server,
    entries,
    symbols,
    ccxtOptions: { [venue]: { ...setup.options, markets } },
    close: () => server.close(),
  };
}
