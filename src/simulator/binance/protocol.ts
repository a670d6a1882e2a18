/**
 * Binance spot public market-data protocol, as the simulator speaks it: stream-name grammar,
 * connect-URL parsing (`/stream?streams=…`, `/ws`, `/ws/<a>/<b>`), client control frames
 * (SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY), framing and
 * REST error bodies, plus the capture adapter used by replay.
 *
 * Server-side plumbing (sockets, pacing, faults) lives in `server.ts`; the market state in
 * `market.ts`. Other venues are meant to be added as sibling modules exporting a `VenueProtocol`.
 */

import { readClientRequest } from '../kit/client-request.js';
import type { CaptureAdapter } from '../kit/replay.js';
import { KLINE_INTERVALS } from './market.js';

export type StreamKind =
  | 'trade'
  | 'aggTrade'
  | 'bookTicker'
  | 'ticker'
  | 'miniTicker'
  | 'depth'
  | 'partialDepth'
  | 'kline'
  | 'markPrice';

export interface ParsedStream {
  /** Canonical stream name (lower-case symbol), as used for routing and in `"stream"` fields. */
  stream: string;
  /** Upper-case symbol, e.g. `BTCUSDT`. */
  symbol: string;
  kind: StreamKind;
  interval?: string;
}

/** Maximum streams per connection (Binance limit). */
export const MAX_STREAMS_PER_CONNECTION = 1024;

const STREAM_RE =
  /^([a-zA-Z0-9]+)@(trade|aggTrade|bookTicker|ticker|miniTicker|depth(?:5|10|20)?(?:@(?:100|1000)ms)?|kline_([0-9]+[smhdwM]))$/;

const MARK_PRICE_RE = /^([a-zA-Z0-9]+)@markPrice@1s$/;

/**
 * Parse and canonicalise a Binance stream name; undefined if it is not one. `futures`: USDⓈ-M
 * grammar, which adds `<symbol>@markPrice@1s`.
 */
export function parseStreamName(name: string, futures = false): ParsedStream | undefined {
  if (futures) {
    const mp = MARK_PRICE_RE.exec(name);
    if (mp) {
      const lower = mp[1].toLowerCase();
      return { stream: `${lower}@markPrice@1s`, symbol: mp[1].toUpperCase(), kind: 'markPrice' };
    }
  }
  const m = STREAM_RE.exec(name);
  if (!m) return undefined;
  const lower = m[1].toLowerCase();
  const symbol = m[1].toUpperCase();
  const type = m[2];
  if (m[3] !== undefined) {
    if (KLINE_INTERVALS[m[3]] === undefined) return undefined;
    return { stream: `${lower}@kline_${m[3]}`, symbol, kind: 'kline', interval: m[3] };
  }
  if (type.startsWith('depth')) {
    // `@depth@1000ms` is the same stream as `@depth`.
    const canon = type.endsWith('@1000ms') ? type.slice(0, -'@1000ms'.length) : type;
    const kind: StreamKind = /^depth\d/.test(canon) ? 'partialDepth' : 'depth';
    return { stream: `${lower}@${canon}`, symbol, kind };
  }
  return { stream: `${lower}@${type}`, symbol, kind: type as StreamKind };
}

export interface ConnectRequest {
  streams: string[];
  combined: boolean;
}

/** Streams and framing from a WS upgrade URL (path without query) and raw query string. */
export function parseConnectUrl(path: string, query: string): ConnectRequest {
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  if (path === '/stream' || path === '/stream/') {
    const param = new URLSearchParams(query).get('streams') ?? '';
    return { streams: param.split('/').map(decode).filter((s) => s.length > 0), combined: true };
  }
  const rest = path.startsWith('/ws/') ? path.slice(4) : '';
  return { streams: rest.split('/').map(decode).filter((s) => s.length > 0), combined: false };
}

/** Wire frame for one data payload. */
export function frame(stream: string, data: string, combined: boolean): string {
  return combined ? `{"stream":"${stream}","data":${data}}` : data;
}

/** What the protocol needs from a connection to execute control frames. */
export interface ControlTarget {
  /** Returns an error message for the first invalid stream, or undefined after subscribing all. */
  subscribe(streams: string[]): string | undefined;
  unsubscribe(streams: string[]): void;
  list(): string[];
  combined: boolean;
}

function errorFrame(code: number, msg: string, id: unknown): string {
  return JSON.stringify({ error: { code, msg }, id: id ?? null });
}

/**
 * Execute one client text frame; returns the reply frame. Error codes follow Binance's
 * documentation: 0 unknown property, 1 invalid value type, 2 invalid request, 3 invalid JSON.
 */
export function handleControl(text: string, target: ControlTarget): string {
  const req = readClientRequest(text);
  if (!req.ok) {
    return req.notJson ? errorFrame(3, `Invalid JSON: ${req.parseError}`, null) : errorFrame(2, 'Invalid request: expected a JSON object', null);
  }
  const { method, params, id } = req.body;
  if (id !== undefined && id !== null && !(typeof id === 'number' && Number.isInteger(id) && id >= 0) && typeof id !== 'string') {
    return errorFrame(2, 'Invalid request: request ID must be an unsigned integer', null);
  }
  const reqId = id ?? null;
  const strings = (): string[] | undefined =>
    Array.isArray(params) && params.every((p) => typeof p === 'string') ? (params as string[]) : undefined;
  switch (method) {
    case 'SUBSCRIBE': {
      const list = strings();
      if (!list) return errorFrame(1, "Invalid value type: expected array of strings for 'params'", reqId);
      const err = target.subscribe(list);
      if (err) return errorFrame(2, `Invalid request: ${err}`, reqId);
      return JSON.stringify({ result: null, id: reqId });
    }
    case 'UNSUBSCRIBE': {
      const list = strings();
      if (!list) return errorFrame(1, "Invalid value type: expected array of strings for 'params'", reqId);
      target.unsubscribe(list);
      return JSON.stringify({ result: null, id: reqId });
    }
    case 'LIST_SUBSCRIPTIONS':
      return JSON.stringify({ result: target.list(), id: reqId });
    case 'SET_PROPERTY': {
      if (!Array.isArray(params) || params[0] !== 'combined' || typeof params[1] !== 'boolean') {
        return errorFrame(0, 'Unknown property', reqId);
      }
      target.combined = params[1];
      return JSON.stringify({ result: null, id: reqId });
    }
    case 'GET_PROPERTY': {
      if (!Array.isArray(params) || params[0] !== 'combined') return errorFrame(0, 'Unknown property', reqId);
      return JSON.stringify({ result: target.combined, id: reqId });
    }
    default:
      return errorFrame(2, `Invalid request: unknown method ${JSON.stringify(method ?? null)}`, reqId);
  }
}

/** A deliberately truncated frame for the `malformed` fault. */
export function malformedFrame(stream: string, combined: boolean, i: number): string {
  const inner = `{"e":"trade","E":${Date.now()},"s":"${stream.split('@')[0].toUpperCase()}","t":${i},"p":"1.0`;
  return combined ? `{"stream":"${stream}","data":${inner}` : inner;
}

export const REST_ERRORS = {
  invalidSymbol: '{"code":-1121,"msg":"Invalid symbol."}',
  missingSymbol: `{"code":-1102,"msg":"Mandatory parameter 'symbol' was not sent, was empty/malformed."}`,
  badLimit: `{"code":-1100,"msg":"Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'."}`,
  notFound: '{"code":-1,"msg":"Not found."}',
};

/** Parse the `limit` query parameter of `/api/v3/depth` (default 100, max 5000). */
export function depthLimit(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return 100;
  if (!/^[0-9]{1,20}$/.test(raw)) return undefined;
  const n = Number(raw);
  if (n < 1) return undefined;
  return Math.min(n, 5000);
}

const COMBINED_PREFIX = /^\{"stream":"([^"]+)","data":/;

/** Replay adapter for Binance captures (combined-stream frames carry `stream`). */
export const binanceCaptureAdapter: CaptureAdapter = {
  streamOf(payload: string): string | undefined {
    const m = COMBINED_PREFIX.exec(payload);
    if (m) return m[1];
    if (payload.startsWith('{"stream"')) {
      try {
        const v = JSON.parse(payload) as { stream?: unknown };
        return typeof v.stream === 'string' ? v.stream : undefined;
      } catch {
        return undefined;
      }
    }
    return undefined;
  },
  unwrap(payload: string): string {
    const m = COMBINED_PREFIX.exec(payload);
    if (m && payload.endsWith('}')) return payload.slice(m[0].length, -1);
    return payload;
  },
  restKey(url: string): string | undefined {
    try {
      const u = new URL(url);
      const symbol = u.searchParams.get('symbol');
      return symbol ? `${u.pathname}?symbol=${symbol.toUpperCase()}` : u.pathname;
    } catch {
      return undefined;
    }
  },
};
