/**
 * The venue-server base, for every venue simulator: a taken port is refused (never shared), and
 * the common faults (closeAll, raw, stall → burst) behave the same on every WebSocket venue of
 * the venue-cases table (the TCP venues' simulators have their own faults, in their tests and
 * the fault-proxy scenarios).
 */
import { connect as connectTcp } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startReplayServer } from '../src/simulator/ccxt/replay-server.js';
import { VENUE_SIMULATORS } from '../src/simulator/index.js';
import { readClientRequest } from '../src/simulator/kit/client-request.js';
import type { BaseStats, CommonFaults } from '../src/simulator/kit/venue-server.js';
import type { RecordSink, SocketVenueAdapter, StreamSpec, VenueSession } from '../src/venues/contract.js';
import { waitFor } from './helpers/wait.js';
import { NO_SINK, quietContext } from './kit/recording-context.js';
import { VENUE_CASES } from './kit/venue-cases.js';

interface KitSimulator {
  readonly wsUrl: string;
  readonly faults: CommonFaults;
  stats(): BaseStats;
  close(): Promise<void>;
}

/**
 * The WebSocket rows of the venue-cases table. A client is the venue's own session: its
 * `connectUrl` and open messages subscribe trades of the row's listed symbol, and a data frame
 * is one the session turns into a trade.
 */
interface VenueRow {
  readonly venue: string;
  readonly adapter: SocketVenueAdapter;
  readonly stream: StreamSpec;
  start(): Promise<KitSimulator>;
}

const RATE = 200;
const ROWS: readonly VenueRow[] = VENUE_CASES.flatMap((c) => {
  const adapter = c.adapter;
  if (adapter.transport !== undefined && adapter.transport !== 'socket') return [];
  const symbol = c.rejection.good;
  return [
    {
      venue: c.id,
      adapter,
      stream: { channel: 'trades', symbol, symbolId: 1, native: adapter.nativeSymbol(symbol) },
      async start() {
        const sim = await c.simulator.start({ port: 0, rate: RATE });
        if (!('faults' in sim && 'stats' in sim)) throw new Error(`${c.id}: its simulator is not on the venue-server base`);
        return sim as unknown as KitSimulator;
      },
    },
  ];
});

/** A client that records every text message with its arrival time, and how the socket closed. */
class Recorder {
  readonly messages: { at: number; text: string; data: boolean }[] = [];
  closed: { code: number; reason: string } | undefined;
  private trades = 0;
  private readonly session: VenueSession;
  constructor(
    readonly ws: WebSocket,
    row: VenueRow,
  ) {
    const sink: RecordSink = { ...NO_SINK, trade: () => this.trades++ };
    this.session = row.adapter.createSession({ ...quietContext(sink), send: (text) => ws.send(text) });
    this.session.addStreams([row.stream]);
    ws.on('open', () => {
      for (const m of this.session.openMessages([row.stream])) ws.send(m);
    });
    ws.on('message', (raw) => {
      const text = raw.toString();
      const before = this.trades;
      try {
        this.session.onMessage(text);
      } catch {
        // Not the venue's frame (a raw fault): recorded, not data.
      }
      this.messages.push({ at: performance.now(), text, data: this.trades > before });
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.session.onDisconnect();
    });
  }
  data(): { at: number; text: string }[] {
    return this.messages.filter((m) => m.data);
  }
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function started<T extends { close(): Promise<void> }>(p: Promise<T>): Promise<T> {
  const s = await p;
  open.push(s);
  return s;
}

async function connect(row: VenueRow, sim: KitSimulator): Promise<Recorder> {
  const ws = new WebSocket(row.adapter.connectUrl(sim.wsUrl, [row.stream]));
  const rec = new Recorder(ws, row);
  open.push({ close: async () => ws.terminate() });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  await waitFor(() => rec.data().length > 0, `${row.venue}: a first data frame`);
  return rec;
}

const portOf = (url: string): number => Number(new URL(url).port);

/** True once a TCP connection to 127.0.0.1:port is accepted, false when it is refused. */
function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('simulator kit: a taken port is refused', () => {
  it.each(Object.keys(VENUE_SIMULATORS))('%s: a second simulator on the same port fails, naming host:port', async (venue) => {
    const entry = VENUE_SIMULATORS[venue]!;
    const first = await started(entry.start({ host: '127.0.0.1', port: 0 }));
    const port = portOf(first.wsUrl);
    const err = await entry.start({ host: '127.0.0.1', port }).then(
      async (second) => {
        await second.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    // The holder still serves its port: HTTP answers a 404; a TCP venue (tcp:// endpoint) accepts a connection.
    if (first.wsUrl.startsWith('tcp://')) await expect(tcpAccepts(port)).resolves.toBe(true);
    else expect((await fetch(`${first.restUrl}/no-such-route`)).status).toBe(404);
  });

  it('ccxt replay server: EADDRINUSE rejects the start with an Error naming the port (no crash)', async () => {
    const first = await started(startReplayServer({ cases: [] }));
    const port = portOf(first.wsUrl);
    const err = await startReplayServer({ cases: [], port }).then(
      async (second) => {
        await second.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\)`));
    // A free port still works after the failure.
    const again = await started(startReplayServer({ cases: [] }));
    expect(portOf(again.wsUrl)).toBeGreaterThan(0);
  });
});

describe.each(ROWS)('simulator kit: common faults, $venue', (row) => {
  it('closeAll sends a close frame with the code and reason', async () => {
    const sim = await started(row.start());
    const rec = await connect(row, sim);
    sim.faults.closeAll(4001, 'kit test');
    await waitFor(() => rec.closed !== undefined, `${row.venue}: close`);
    expect(rec.closed).toEqual({ code: 4001, reason: 'kit test' });
    await waitFor(() => sim.stats().connections === 0, `${row.venue}: connection gone from stats`);
  });

  it('raw sends a text frame as given and counts it', async () => {
    const sim = await started(row.start());
    const rec = await connect(row, sim);
    const before = sim.stats().framesSent;
    const frame = `not json { ${row.venue}`;
    sim.faults.raw([frame]);
    await waitFor(() => rec.messages.some((m) => m.text === frame), `${row.venue}: the raw frame`);
    expect(sim.stats().framesSent).toBeGreaterThan(before);
  });

  it('stall (buffer) holds data frames back, then delivers them in one burst', async () => {
    const sim = await started(row.start());
    const rec = await connect(row, sim);
    const stallMs = 400;
    const stallAt = performance.now();
    sim.faults.stall(stallMs);
    await waitFor(() => rec.data().some((m) => m.at >= stallAt + stallMs), `${row.venue}: data after the stall`, 5000);
    const data = rec.data();
    // Frames already on the wire when the stall began may still land in its first moments.
    const during = data.filter((m) => m.at > stallAt + 100 && m.at < stallAt + stallMs - 20);
    expect(during).toEqual([]);
    const first = data.find((m) => m.at >= stallAt + stallMs - 20)!;
    await waitFor(() => rec.data().filter((m) => m.at >= first.at && m.at < first.at + 50).length >= 5, `${row.venue}: the burst`, 2000);
    expect(sim.stats().framesDropped).toBe(0);
  });
});

describe('simulator kit: reading a client request', () => {
  it('gives the object, or says whether the text was not JSON or not a JSON object', () => {
    expect(readClientRequest('{"op":"subscribe"}')).toEqual({ ok: true, body: { op: 'subscribe' } });
    const notJson = readClientRequest('{"op":');
    expect(notJson.ok).toBe(false);
    expect(notJson.ok === false && notJson.notJson && notJson.parseError.length > 0).toBe(true);
    for (const text of ['null', '[]', '5', '"subscribe"']) expect(readClientRequest(text)).toEqual({ ok: false, notJson: false });
  });
});
