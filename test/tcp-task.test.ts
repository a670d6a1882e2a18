/**
 * The TCP transport against a loopback `net` server started by each test: framing (split and
 * coalesced reads, OpenD-style and TWS frames), the frame-size limit, the dead-peer check, the
 * stale watchdog and a peer that closes.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { TcpSession, TcpVenue } from '../src/venues/contract.js';
import { FrameCorrupt, FrameTooLarge, type Framing, lengthPrefixed, twsFraming, twsMessage } from '../src/worker/framing.js';
import type { ConnectionLimits } from '../src/worker/protocol.js';
import { runTcpTask } from '../src/worker/tcp-task.js';
import { RIG_EXCHANGE_CODE, taskRig } from './helpers/task-rig.js';
import { waitFor } from './helpers/wait.js';

/** OpenD's header: "FT", protoID u32, fmt u8, ver u8, serial u32, bodyLen u32 (LE, at 12), SHA1 20, reserved 8. */
const openDFraming = lengthPrefixed({ headerBytes: 44, lengthAt: 12, littleEndian: true, magic: 'FT' });

function openDFrame(protoId: number, body: string): Buffer {
  const b = Buffer.from(body, 'utf8');
  const h = Buffer.alloc(44);
  h.write('FT', 0, 'latin1');
  h.writeUInt32LE(protoId, 2);
  h.writeUInt32LE(b.length, 12);
  return Buffer.concat([h, b]);
}
const protoOf = (f: Buffer) => f.readUInt32LE(2);
const bodyOf = (f: Buffer) => f.toString('utf8', 44);
const KEEP_ALIVE = 1004;

const servers: Server[] = [];
const peers: Socket[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.destroy();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** A loopback server; `onClient` scripts the peer. */
async function peer(onClient: (socket: Socket) => void): Promise<string> {
  const server = createServer((socket) => {
    peers.push(socket);
    onClient(socket);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return `tcp://127.0.0.1:${port}`;
}

/** A venue whose session records each frame and writes one trade per frame (price = index). */
function venue<F>(framing: Framing<F>, keepAlive?: TcpVenue<F>['keepAlive']) {
  const frames: F[] = [];
  const v: TcpVenue<F> = {
    id: 'rig',
    exchangeCode: RIG_EXCHANGE_CODE,
    framing,
    keepAlive,
    createSession(ctx): TcpSession<F> {
      return {
        openMessages: () => [Buffer.from('hello')],
        subscribeMessages: () => [],
        unsubscribeMessages: () => [],
        addStreams: () => {},
        removeStreams: () => {},
        onFrame(frame) {
          frames.push(Buffer.isBuffer(frame) ? (Buffer.from(frame) as F) : frame);
          ctx.sink.trade(1, 0, frames.length, 1, frames.length, 1);
        },
        onDisconnect: () => {},
      };
    },
  };
  return { v, frames };
}

function run<F>(url: string, v: TcpVenue<F>, limits: Partial<ConnectionLimits> = {}) {
  const rig = taskRig({ url, limits: { pingIntervalMs: 0, ...limits } });
  const result = runTcpTask(rig.task, v);
  void result.finally(() => rig.close());
  return { rig, result };
}

describe('framing (bytes pushed by hand)', () => {
  const frames = [openDFrame(3001, 'a'), openDFrame(3002, 'bb'.repeat(100)), openDFrame(3003, '')];
  const all = Buffer.concat(frames);

  it('delivers whole frames in order for every way of splitting the bytes', () => {
    for (const cut of [1, 3, 43, 44, 45, 100, all.length]) {
      const got: string[] = [];
      const d = openDFraming.decoder(1 << 20);
      for (let i = 0; i < all.length; i += cut) d.push(all.subarray(i, i + cut), (f) => got.push(`${protoOf(f)}:${bodyOf(f)}`));
      expect(got, `chunks of ${cut}`).toEqual(['3001:a', `3002:${'bb'.repeat(100)}`, '3003:']);
    }
  });

  it('refuses a frame over the limit from its header alone, and bytes without the magic', () => {
    const d = openDFraming.decoder(100);
    expect(() => d.push(openDFrame(1, 'x'.repeat(57)).subarray(0, 44), () => {})).toThrow(FrameTooLarge);
    expect(() => openDFraming.decoder(100).push(Buffer.alloc(44), () => {})).toThrow(FrameCorrupt);
  });

  it('TWS: fields of NUL-terminated text behind a big-endian length', () => {
    const got: string[][] = [];
    const d = twsFraming.decoder(1 << 20);
    const bytes = Buffer.concat([twsMessage([1, 2, 'BTC', '']), twsMessage(['4', 'x'])]);
    d.push(bytes.subarray(0, 6), (f) => got.push(f));
    d.push(bytes.subarray(6), (f) => got.push(f));
    expect(got).toEqual([
      ['1', '2', 'BTC', ''],
      ['4', 'x'],
    ]);
  });
});

describe('tcp task against a loopback server', () => {
  it('frames split across reads and several in one read reach the session whole and in order, one record each', async () => {
    const frames = Array.from({ length: 30 }, (_, i) => openDFrame(3000 + i, `body ${i} ${'z'.repeat(i * 50)}`));
    let hello = '';
    const url = await peer((socket) => {
      socket.once('data', (d) => {
        hello = d.toString();
        const bytes = Buffer.concat(frames);
        // The first ten byte by byte (each write its own read, as far as the kernel keeps them apart),
        // the rest in one write (many frames in one read).
        const split = frames.slice(0, 10).reduce((n, f) => n + f.length, 0);
        let at = 0;
        const next = (): void => {
          if (at < split) {
            socket.write(bytes.subarray(at, ++at));
            setImmediate(next);
          } else socket.write(bytes.subarray(split));
        };
        next();
      });
    });
    const { v, frames: got } = venue(openDFraming);
    const { rig, result } = run(url, v);
    await waitFor(() => got.length === 30, 'thirty frames');
    expect(hello).toBe('hello');
    expect(got.map((f) => `${protoOf(f)}|${bodyOf(f)}`)).toEqual(frames.map((f) => `${protoOf(f)}|${bodyOf(f)}`));
    await waitFor(() => rig.records().filter((r) => r.type === 'trade').length === 30, 'thirty trades');
    expect(rig.records().filter((r) => r.type === 'trade').map((r) => r.price)).toEqual(got.map((_, i) => i + 1));
    expect(rig.counters[0]).toBe(30); // CounterSlot.frames
    rig.control({ type: 'stop' });
    expect((await result).reason).toBe('stopped');
  });

  it('TWS framing over the socket', async () => {
    const url = await peer((socket) => socket.write(Buffer.concat([twsMessage(['49', '1', '1700000000']), twsMessage(['4', '2'])])));
    const { v, frames } = venue(twsFraming);
    const { rig, result } = run(url, v);
    await waitFor(() => frames.length === 2, 'two TWS messages');
    expect(frames).toEqual([
      ['49', '1', '1700000000'],
      ['4', '2'],
    ]);
    rig.control({ type: 'stop' });
    await result;
  });

  it('an oversized frame ends the task with too-large', async () => {
    const url = await peer((socket) => socket.write(openDFrame(3001, 'y'.repeat(5000))));
    const { v, frames } = venue(openDFraming);
    const { result } = run(url, v, { maxFrameBytes: 1024 });
    const r = await result;
    expect(r.reason).toBe('too-large');
    expect(r.message).toMatch(/5044 bytes exceeds limits\.maxFrameBytes \(1024\)/);
    expect(frames).toEqual([]);
  });

  it('a silent peer (keep-alive never answered) ends the task with pong-timeout', async () => {
    let asked = 0;
    const url = await peer((socket) => socket.on('data', () => asked++));
    const keepAlive = { request: () => openDFrame(KEEP_ALIVE, '{}'), isAnswer: (f: Buffer) => protoOf(f) === KEEP_ALIVE };
    const { v } = venue(openDFraming, keepAlive);
    const { result } = run(url, v, { pingIntervalMs: 50, pongTimeoutMs: 100 });
    const r = await result;
    expect(r.reason).toBe('pong-timeout');
    expect(asked).toBeGreaterThan(0);
  });

  it('a peer that answers keep-alives but sends no data ends the task as stale; answers never reach the session', async () => {
    const url = await peer((socket) =>
      socket.on('data', (d) => {
        if (d.includes('FT')) socket.write(openDFrame(KEEP_ALIVE, 'pong'));
      }),
    );
    const keepAlive = { request: () => openDFrame(KEEP_ALIVE, '{}'), isAnswer: (f: Buffer) => protoOf(f) === KEEP_ALIVE };
    const { v, frames } = venue(openDFraming, keepAlive);
    const { rig, result } = run(url, v, { pingIntervalMs: 30, pongTimeoutMs: 200, staleTimeoutMs: 300 });
    const r = await result;
    expect(r.reason).toBe('stale');
    expect(frames).toEqual([]);
    expect(rig.records().map((x) => x.status)).toEqual(['connected', 'stale', 'disconnected']);
  });

  it('a peer that closes ends the task with closed', async () => {
    const url = await peer((socket) => socket.end(openDFrame(3001, 'last')));
    const { v, frames } = venue(openDFraming);
    const { result } = run(url, v);
    const r = await result;
    expect(r.reason).toBe('closed');
    expect(r.connectedMs).toBeGreaterThanOrEqual(0);
    expect(frames.map(bodyOf)).toEqual(['last']);
  });

  it('nothing listening: connect-failed', async () => {
    const url = await peer(() => {});
    await new Promise((r) => servers.pop()!.close(r));
    const { v } = venue(openDFraming);
    expect((await run(url, v).result).reason).toBe('connect-failed');
  });
});
