/**
 * A TCP fault proxy between the engine and a simulator, in the spirit of Toxiproxy, built on
 * node's `net`. Every switch applies to live connections at once and to new ones.
 *
 * Server → client traffic of a WebSocket connection (after the `101` upgrade answer) is cut at
 * WebSocket frame boundaries, so that a crafted frame can be injected between two real frames
 * and slicing can split frames deliberately. Plain HTTP (REST) is passed through byte for byte,
 * and so is everything with `raw` (a TCP venue's own protocol: Futu OpenD, TWS).
 */
import net from 'node:net';
import { mulberry32 } from '../../src/simulator/kit/rng.js';

export interface ProxyToxics {
  /** Added one-way delay per chunk, ms (both directions). */
  latencyMs: number;
  /** Uniform random extra delay 0..jitterMs per chunk (order is kept). */
  jitterMs: number;
  /** Bytes per second per direction and connection (0 = unlimited). */
  bandwidthBytesPerSec: number;
  /** Split server → client bytes into chunks of at most this many bytes, each a separate write (0 = off). */
  sliceBytes: number;
  /** Delay before a close from one side is passed on to the other, ms. */
  slowCloseMs: number;
  /** Half-open blackhole: sockets stay open, bytes in both directions are discarded. */
  blackhole: boolean;
}

export interface ProxyStats {
  accepted: number;
  refused: number;
  active: number;
  bytesUp: number;
  bytesDown: number;
  resets: number;
  injected: number;
  /** Status codes of the close frames clients sent, in order (what the engine said on the wire). */
  clientCloseCodes: number[];
}

export interface FaultProxy {
  readonly port: number;
  readonly wsUrl: string;
  readonly restUrl: string;
  /** The same port as a TCP venue's endpoint. */
  readonly tcpUrl: string;
  readonly toxics: ProxyToxics;
  set(toxics: Partial<ProxyToxics>): void;
  /** Reset every live connection (TCP RST). */
  reset(): void;
  /** Server restart: cut every connection and refuse new ones for `downMs`, then accept again. */
  restart(downMs: number): Promise<void>;
  /** Write raw bytes to every live WebSocket client at the next frame boundary. */
  injectToClients(bytes: Buffer): number;
  stats(): ProxyStats;
  close(): Promise<void>;
}

export const NO_TOXICS: ProxyToxics = {
  latencyMs: 0,
  jitterMs: 0,
  bandwidthBytesPerSec: 0,
  sliceBytes: 0,
  slowCloseMs: 0,
  blackhole: false,
};

/** A server → client WebSocket frame header (unmasked, FIN set) for `length` payload bytes. */
export function wsFrameHeader(opcode: number, length: number): Buffer {
  if (length < 126) return Buffer.from([0x80 | opcode, length]);
  if (length < 65536) {
    const b = Buffer.alloc(4);
    b[0] = 0x80 | opcode;
    b[1] = 126;
    b.writeUInt16BE(length, 2);
    return b;
  }
  const b = Buffer.alloc(10);
  b[0] = 0x80 | opcode;
  b[1] = 127;
  b.writeBigUInt64BE(BigInt(length), 2);
  return b;
}

/** Splits a server → client byte stream into whole WebSocket frames. */
class FrameCutter {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      const size = frameSize(this.pending);
      if (size < 0 || size > this.pending.length) break;
      out.push(this.pending.subarray(0, size));
      this.pending = this.pending.subarray(size);
    }
    return out;
  }
}

/** The status code of a masked client close frame (0 when it carries none), or -1 if not a close. */
function clientCloseCode(frame: Buffer): number {
  if ((frame[0]! & 0x0f) !== 0x8) return -1;
  const masked = (frame[1]! & 0x80) !== 0;
  const len = frame[1]! & 0x7f;
  if (len < 2) return 0;
  const head = 2 + (masked ? 4 : 0);
  const mask = masked ? frame.subarray(2, 6) : Buffer.alloc(4);
  return ((frame[head]! ^ mask[0]!) << 8) | (frame[head + 1]! ^ mask[1]!);
}

function frameSize(b: Buffer): number {
  if (b.length < 2) return -1;
  const masked = (b[1]! & 0x80) !== 0;
  let len = b[1]! & 0x7f;
  let head = 2;
  if (len === 126) {
    if (b.length < 4) return -1;
    len = b.readUInt16BE(2);
    head = 4;
  } else if (len === 127) {
    if (b.length < 10) return -1;
    len = Number(b.readBigUInt64BE(2));
    head = 10;
  }
  return head + (masked ? 4 : 0) + len;
}

/** One direction of one connection: a time-ordered queue applying latency, jitter, bandwidth, slicing. */
class Pipe {
  private queue: Array<{ at: number; data: Buffer }> = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private lastAt = 0;
  private ended = false;
  constructor(
    private readonly to: net.Socket,
    private readonly toxics: () => ProxyToxics,
    private readonly rng: () => number,
    private readonly slice: boolean,
    private readonly onBytes: (n: number) => void,
  ) {}

  write(data: Buffer): void {
    const t = this.toxics();
    if (t.blackhole) return;
    const pieces: Buffer[] = [];
    const step = this.slice && t.sliceBytes > 0 ? t.sliceBytes : data.length;
    for (let i = 0; i < data.length; i += step) pieces.push(data.subarray(i, i + step));
    const now = Date.now();
    for (const piece of pieces) {
      let at = now + t.latencyMs + (t.jitterMs > 0 ? this.rng() * t.jitterMs : 0);
      if (t.bandwidthBytesPerSec > 0) at = Math.max(at, this.lastAt + (piece.length * 1000) / t.bandwidthBytesPerSec);
      at = Math.max(at, this.lastAt); // never reorder
      this.lastAt = at;
      this.queue.push({ at, data: piece });
    }
    this.pump();
  }

  /** Ends the far side once everything queued has been written. */
  end(delayMs: number): void {
    this.ended = true;
    this.lastAt = Math.max(this.lastAt, Date.now() + delayMs);
    this.pump();
  }

  private pump(): void {
    if (this.timer || this.immediate) return;
    const now = Date.now();
    while (this.queue.length > 0 && this.queue[0]!.at <= now) {
      const { data } = this.queue.shift()!;
      if (this.toxics().blackhole) continue;
      this.onBytes(data.length);
      if (!this.to.destroyed) this.to.write(data);
      // Sliced pieces: one piece per timer turn so the reader sees separate reads.
      if (this.slice && this.toxics().sliceBytes > 0 && this.queue.length > 0) {
        this.immediate = setImmediate(() => {
          this.immediate = undefined;
          this.pump();
        });
        return;
      }
    }
    if (this.queue.length > 0) {
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          this.pump();
        },
        Math.max(0, this.queue[0]!.at - now),
      );
      return;
    }
    if (this.ended) {
      const wait = this.lastAt - now;
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      this.to.end();
    }
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.queue = [];
  }
}

interface Link {
  client: net.Socket;
  upstream: net.Socket;
  up: Pipe;
  down: Pipe;
  /** Set once the server answered `101 Switching Protocols`. */
  cutter: FrameCutter | undefined;
  headerSeen: boolean;
  headerBuf: Buffer;
  /** Client → server frames after the upgrade request (only inspected, never altered). */
  upCutter: FrameCutter | undefined;
  upHeaderBuf: Buffer;
}

export async function startFaultProxy(opts: { targetPort: number; targetHost?: string; seed?: number; raw?: boolean }): Promise<FaultProxy> {
  const targetHost = opts.targetHost ?? '127.0.0.1';
  const toxics: ProxyToxics = { ...NO_TOXICS };
  const links = new Set<Link>();
  const counters: ProxyStats = { accepted: 0, refused: 0, active: 0, bytesUp: 0, bytesDown: 0, resets: 0, injected: 0, clientCloseCodes: [] };
  let refuseUntil = 0;
  const rng = mulberry32(opts.seed ?? 1);

  const kill = (link: Link) => {
    link.up.clear();
    link.down.clear();
    link.client.resetAndDestroy();
    link.upstream.resetAndDestroy();
    links.delete(link);
  };

  const server = net.createServer((client) => {
    if (Date.now() < refuseUntil) {
      counters.refused++;
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    counters.accepted++;
    client.setNoDelay(true);
    const upstream = net.connect({ host: targetHost, port: opts.targetPort });
    upstream.setNoDelay(true);
    const link: Link = {
      client,
      upstream,
      up: new Pipe(upstream, () => toxics, rng, false, (n) => {
        counters.bytesUp += n;
      }),
      down: new Pipe(client, () => toxics, rng, true, (n) => {
        counters.bytesDown += n;
      }),
      cutter: undefined,
      headerSeen: opts.raw === true,
      headerBuf: Buffer.alloc(0),
      upCutter: undefined,
      upHeaderBuf: Buffer.alloc(0),
    };
    links.add(link);
    client.on('data', (d: Buffer) => {
      if (opts.raw !== true) watchUp(link, d);
      link.up.write(d);
    });
    upstream.on('data', (d: Buffer) => onDown(link, d));
    client.on('error', () => kill(link));
    upstream.on('error', () => kill(link));
    client.on('end', () => link.up.end(toxics.slowCloseMs));
    upstream.on('end', () => link.down.end(toxics.slowCloseMs));
    client.on('close', () => {
      links.delete(link);
      if (!upstream.destroyed) setTimeout(() => upstream.destroy(), toxics.slowCloseMs);
    });
    upstream.on('close', () => {
      if (!client.destroyed) setTimeout(() => client.destroy(), toxics.slowCloseMs);
    });
  });

  function watchUp(link: Link, data: Buffer): void {
    if (link.upCutter === undefined) {
      link.upHeaderBuf = Buffer.concat([link.upHeaderBuf, data]);
      const end = link.upHeaderBuf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const isUpgrade = /^upgrade: *websocket/im.test(link.upHeaderBuf.subarray(0, end).toString('latin1'));
      if (!isUpgrade) {
        link.upHeaderBuf = Buffer.alloc(0);
        return;
      }
      link.upCutter = new FrameCutter();
      data = link.upHeaderBuf.subarray(end + 4);
      link.upHeaderBuf = Buffer.alloc(0);
    }
    for (const frame of link.upCutter.push(data)) {
      const code = clientCloseCode(frame);
      if (code >= 0) counters.clientCloseCodes.push(code);
    }
  }

  function onDown(link: Link, data: Buffer): void {
    if (!link.headerSeen) {
      link.headerBuf = Buffer.concat([link.headerBuf, data]);
      const end = link.headerBuf.indexOf('\r\n\r\n');
      if (end < 0) return;
      link.headerSeen = true;
      const head = link.headerBuf.subarray(0, end + 4);
      const rest = link.headerBuf.subarray(end + 4);
      link.headerBuf = Buffer.alloc(0);
      link.down.write(head);
      if (head.subarray(0, 12).toString('latin1') === 'HTTP/1.1 101') link.cutter = new FrameCutter();
      else {
        // Plain HTTP (REST, keep-alive): pass everything through as it comes.
        link.cutter = undefined;
      }
      if (rest.length > 0) onDown(link, rest);
      return;
    }
    if (!link.cutter) {
      link.down.write(data);
      return;
    }
    for (const frame of link.cutter.push(data)) link.down.write(frame);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    wsUrl: `ws://127.0.0.1:${port}`,
    restUrl: `http://127.0.0.1:${port}`,
    tcpUrl: `tcp://127.0.0.1:${port}`,
    toxics,
    set(next) {
      Object.assign(toxics, next);
    },
    reset() {
      for (const link of [...links]) {
        counters.resets++;
        kill(link);
      }
    },
    async restart(downMs) {
      refuseUntil = Date.now() + downMs;
      for (const link of [...links]) kill(link);
      await new Promise((r) => setTimeout(r, downMs));
    },
    injectToClients(bytes) {
      let n = 0;
      for (const link of links) {
        if (!link.cutter) continue;
        // Frames are queued whole, so a write here lands between two frames.
        link.down.write(bytes);
        counters.injected++;
        n++;
      }
      return n;
    },
    stats() {
      return { ...counters, active: links.size, clientCloseCodes: [...counters.clientCloseCodes] };
    },
    async close() {
      for (const link of [...links]) kill(link);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
