/**
 * Replay of recorded exchange traffic in the cryptofeed capture format:
 *
 *   <url> <-> <ts>            connection opened
 *   <url> <- <ts>: <payload>  frame sent by the client
 *   <ts>: <payload>           frame received by the client
 *   <url> -> <ts>: <body>     one REST GET and its response body
 *   configuration: <json>     recorder configuration
 *
 * The parser is venue-neutral. What is venue-specific (which stream a frame belongs to, how to
 * unwrap a combined frame, how to key REST responses) is a `CaptureAdapter`; Binance's lives in
 * `binance.ts`, other venues add theirs next to their protocol module.
 */
import { readFileSync } from 'node:fs';

export type CaptureLine =
  | { kind: 'connect'; ts: number; url: string }
  | { kind: 'sent'; ts: number; url: string; payload: string }
  | { kind: 'received'; ts: number; /** URL of the most recent connect line, if any. */ url?: string; payload: string }
  | { kind: 'rest'; ts: number; url: string; payload: string }
  | { kind: 'config'; payload: string };

const CONNECT_RE = /^(\S+) <-> (\d+(?:\.\d+)?)$/;
const SENT_RE = /^(\S+) <- (\d+(?:\.\d+)?): /;
const REST_RE = /^(\S+) -> (\d+(?:\.\d+)?): /;
const RECV_RE = /^(\d+(?:\.\d+)?): /;

/** Parse a capture file's text. Unrecognised and empty lines are skipped. */
export function parseCapture(text: string): CaptureLine[] {
  const out: CaptureLine[] = [];
  let url: string | undefined;
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    let m = RECV_RE.exec(line);
    if (m) {
      out.push({ kind: 'received', ts: Number(m[1]), url, payload: line.slice(m[0].length) });
      continue;
    }
    m = CONNECT_RE.exec(line);
    if (m) {
      url = m[1];
      out.push({ kind: 'connect', ts: Number(m[2]), url: m[1] });
      continue;
    }
    m = SENT_RE.exec(line);
    if (m) {
      out.push({ kind: 'sent', ts: Number(m[2]), url: m[1], payload: line.slice(m[0].length) });
      continue;
    }
    m = REST_RE.exec(line);
    if (m) {
      out.push({ kind: 'rest', ts: Number(m[2]), url: m[1], payload: line.slice(m[0].length) });
      continue;
    }
    if (line.startsWith('configuration: ')) out.push({ kind: 'config', payload: line.slice(15) });
  }
  return out;
}

/** Venue-specific knowledge replay needs. */
export interface CaptureAdapter {
  /** Subscription key of a received frame, or undefined if it is not stream-addressed (sent to everyone). */
  streamOf(payload: string): string | undefined;
  /** The frame as a raw (non-combined) connection would receive it. */
  unwrap(payload: string): string;
  /** Key for a recorded REST URL; the server looks requests up by `<pathname>?symbol=<SYMBOL>` or `<pathname>`. */
  restKey(url: string): string | undefined;
}

export type ReplaySpeed = 'recorded' | 'max' | number;

export interface ReplayOptions {
  /** Capture file(s) of WS connections; multiple files are merged by timestamp. */
  ws: string | string[];
  /** REST capture file(s) (`*.http.*`) answering snapshot requests. */
  rest?: string | string[];
  /** `recorded` timing, `max` (as fast as the socket drains) or a speed multiplier. Default `recorded`. */
  speed?: ReplaySpeed;
  /** Start over at the end. */
  loop?: boolean;
}

export interface ReplayFrame {
  /** Capture timestamp (seconds). */
  ts: number;
  stream: string | undefined;
  /** Verbatim payload (combined form when the capture was combined). */
  payload: string;
  /** Raw form (unwrapped). */
  data: string;
}

export class ReplaySource {
  readonly frames: ReplayFrame[] = [];
  readonly rest = new Map<string, string>();
  readonly speed: ReplaySpeed;
  readonly loop: boolean;
  /** True when frames carry stream names, so delivery waits for and filters by subscriptions. */
  readonly hasStreams: boolean;

  constructor(
    wsTexts: string[],
    restTexts: string[],
    readonly adapter: CaptureAdapter,
    opts: { speed?: ReplaySpeed; loop?: boolean },
  ) {
    this.speed = opts.speed ?? 'recorded';
    if (typeof this.speed === 'number' && !(this.speed > 0)) throw new Error('replay speed must be > 0');
    this.loop = opts.loop ?? false;
    for (const text of wsTexts) {
      for (const l of parseCapture(text)) {
        if (l.kind !== 'received') continue;
        this.frames.push({ ts: l.ts, stream: adapter.streamOf(l.payload), payload: l.payload, data: adapter.unwrap(l.payload) });
      }
    }
    if (wsTexts.length > 1) this.frames.sort((a, b) => a.ts - b.ts);
    this.hasStreams = this.frames.some((f) => f.stream !== undefined);
    for (const text of restTexts) {
      for (const l of parseCapture(text)) {
        if (l.kind !== 'rest') continue;
        const key = adapter.restKey(l.url);
        if (key !== undefined) this.rest.set(key, l.payload);
      }
    }
  }

  /** Recorded REST body for a request, if any. `limit` trims `bids`/`asks` arrays. */
  restBody(pathname: string, symbol: string | undefined, limit?: number): string | undefined {
    const body = this.rest.get(symbol ? `${pathname}?symbol=${symbol.toUpperCase()}` : pathname);
    if (body === undefined || limit === undefined) return body;
    try {
      const v = JSON.parse(body) as { bids?: unknown[]; asks?: unknown[] };
      if (!Array.isArray(v.bids) || !Array.isArray(v.asks)) return body;
      if (v.bids.length <= limit && v.asks.length <= limit) return body;
      v.bids = v.bids.slice(0, limit);
      v.asks = v.asks.slice(0, limit);
      return JSON.stringify(v);
    } catch {
      return body;
    }
  }
}

export function loadReplay(opts: ReplayOptions, adapter: CaptureAdapter): ReplaySource {
  const list = (x: string | string[] | undefined): string[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
  return new ReplaySource(
    list(opts.ws).map((p) => readFileSync(p, 'utf8')),
    list(opts.rest).map((p) => readFileSync(p, 'utf8')),
    adapter,
    opts,
  );
}

/** Per-connection replay position. */
export class ReplayCursor {
  i = 0;
  done = false;
  private startWall: number;
  private t0: number;

  constructor(
    private readonly src: ReplaySource,
    now: number,
  ) {
    this.startWall = now;
    this.t0 = src.frames.length > 0 ? src.frames[0].ts : 0;
    if (src.frames.length === 0) this.done = true;
  }

  /**
   * Next frame if it is due at wall time `now` (ms), advancing past it; undefined if none is due
   * yet or the capture is exhausted.
   */
  next(now: number): ReplayFrame | undefined {
    const frames = this.src.frames;
    if (this.done) return undefined;
    if (this.i >= frames.length) {
      if (!this.src.loop) {
        this.done = true;
        return undefined;
      }
      this.i = 0;
      this.startWall = now;
    }
    const f = frames[this.i];
    const speed = this.src.speed;
    if (speed !== 'max') {
      const mult = speed === 'recorded' ? 1 : speed;
      if (((f.ts - this.t0) * 1000) / mult > now - this.startWall) return undefined;
    }
    this.i++;
    return f;
  }
}
