/**
 * Piscina task: one exchange connection. It owns the socket (and, during a planned rotation,
 * its successor), the venue session (protocol, book sync) and the ring producer side. It ends
 * when its socket ends and returns why; the main thread's supervisor decides what comes next.
 */
import WebSocket from 'ws';
import { PolicySink } from '../src/backpressure/policy-sink.js';
import { nowMs } from '../src/clock.js';
import { fetchJsonBounded } from '../src/net/fetch-json.js';
import { DataCountingSink } from '../src/records/data-counting-sink.js';
import { RecordEncoder } from '../src/records/encoder.js';
import { StatusCode } from '../src/records/types.js';
import { Doorbell } from '../src/ring/doorbell.js';
import { RingWriter } from '../src/ring/ring.js';
import { getVenue } from '../src/venues/registry.js';
import { CHANNEL_RECORD_TYPE, describeStreams, type RejectionCode, upgradeFailure } from '../src/venues/rejection.js';
import type { AdapterLog, StreamSpec, VenueSession } from '../src/venues/types.js';
import {
  type ConnectionResult,
  type ConnectionTask,
  type ControlMessage,
  CounterSlot,
  type EndReason,
  type WorkerMessage,
} from '../src/worker-protocol.js';

/** Bad frames logged in full per task before logging only every Nth. */
const BAD_FRAME_LOG_LIMIT = 20;
const BAD_FRAME_LOG_EVERY = 1000;
/** A bad frame's problem is logged up to this many characters (a hostile field can be megabytes). */
const BAD_FRAME_PROBLEM_CHARS = 300;
/** How long the successor socket overlaps the old one during a planned rotation. */
const ROTATION_OVERLAP_MS = 1000;
/** Frames buffered from the successor socket during the overlap, at most. */
const ROTATION_QUEUE_LIMIT = 100_000;
/** Bytes of a refused upgrade's response body kept for the log and the end message. */
const UPGRADE_BODY_LIMIT = 2048;

export default function runConnection(task: ConnectionTask): Promise<ConnectionResult> {
  return new Promise((resolve) => new Connection(task, resolve).start());
}

class Connection {
  private readonly adapter;
  private readonly counters: Float64Array;
  private readonly writer: RingWriter;
  private readonly encoder: RecordEncoder;
  private readonly sink: PolicySink;
  /** What the session writes to: counts data records, so the stale watchdog ignores heartbeats. */
  private readonly sessionSink: DataCountingSink;
  private readonly session: VenueSession;
  private readonly log: AdapterLog;
  private streams: StreamSpec[];
  /** Streams asked for by `subscribe` while the venue's instrument list is being consulted. */
  private pendingAdds: StreamSpec[] = [];
  /** The initial streams went through the instrument check (the socket may open). */
  private admitted = false;
  /** Verdicts of the venue's instrument list (`listedSymbols`), kept for the task's life. */
  private readonly listed = new Set<string>();
  private readonly unlisted = new Set<string>();
  /** The venue's answer covered every instrument it has: a native not in `listed` is unlisted. */
  private listComplete = false;
  private socket: WebSocket | undefined;
  private successor: WebSocket | undefined;
  private successorQueue: Array<{ text: string; recvTs: number }> = [];
  private openedAt = 0;
  private ended = false;
  private closed = false;
  private stopRequested = false;
  private publishScheduled = false;
  private draining = false;
  private badFrames = 0;
  private pongDeadline: NodeJS.Timeout | undefined;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly task: ConnectionTask,
    private readonly resolve: (r: ConnectionResult) => void,
  ) {
    this.adapter = getVenue(task.venue);
    this.counters = new Float64Array(task.counters);
    this.writer = new RingWriter(task.ring, new Doorbell(task.doorbell));
    this.encoder = new RecordEncoder(this.writer, this.adapter.exchangeCode, this.counters[CounterSlot.records]!);
    this.sink = new PolicySink(this.encoder, task.policy);
    this.sessionSink = new DataCountingSink(this.sink);
    this.streams = [...task.streams];
    this.log = {
      debug: (msg, fields) => this.post({ type: 'log', level: 'debug', msg, fields }),
      info: (msg, fields) => this.post({ type: 'log', level: 'info', msg, fields }),
      warn: (msg, fields) => this.post({ type: 'log', level: 'warn', msg, fields }),
      error: (msg, fields) => this.post({ type: 'log', level: 'error', msg, fields }),
    };
    const { restUrl } = task;
    this.session = this.adapter.createSession({
      sink: this.sessionSink,
      log: this.log,
      restUrl,
      fetchJson: (url) => this.fetchJson(url),
      send: (text) => this.sendAll(text),
      onResync: () => {
        this.counters[CounterSlot.resyncs]!++;
      },
      credentials: task.credentials,
      maxBookLevels: task.limits.maxBookLevels,
      maxBufferedUpdates: task.limits.maxBufferedUpdates,
      reject: (streams, code, message) => this.reject(streams, code, message),
    });
  }

  /**
   * The venue refused these streams: a `rejected` status record each, forgotten here and in the
   * session (never resubscribed, not even after a reconnect), and the main thread is told.
   */
  private reject(streams: readonly StreamSpec[], code: RejectionCode, message: string): void {
    const gone = streams.filter(
      (s) => this.streams.some((t) => sameStream(s, t)) || this.pendingAdds.some((t) => sameStream(s, t)),
    );
    if (gone.length === 0) return;
    this.streams = this.streams.filter((t) => !gone.some((s) => sameStream(s, t)));
    this.pendingAdds = this.pendingAdds.filter((t) => !gone.some((s) => sameStream(s, t)));
    this.session.removeStreams(gone);
    this.encoder.recvTs = nowMs();
    for (const s of gone) this.sink.status(s.symbolId, StatusCode.rejected, CHANNEL_RECORD_TYPE[s.channel]);
    this.schedulePublish();
    this.post({
      type: 'rejected',
      streams: gone.map((s) => ({ channel: s.channel, symbolId: s.symbolId, interval: s.interval })),
      code,
      message,
    });
  }

  /**
   * Streams whose symbol the venue lists (per its published instrument list, when the adapter
   * has one); the others are rejected with ERR_BAD_SYMBOL. When the list cannot be had, every
   * stream passes (logged): the check must never be what stops a feed.
   */
  private async admit(streams: readonly StreamSpec[]): Promise<StreamSpec[]> {
    const lister = this.adapter.listedSymbols;
    if (lister === undefined) return [...streams];
    const undecided = this.listComplete
      ? []
      : [...new Set(streams.map((s) => s.native).filter((n) => !this.listed.has(n) && !this.unlisted.has(n)))];
    if (undecided.length > 0) {
      try {
        const answer = await lister.call(this.adapter, undecided, {
          restUrl: this.task.restUrl,
          fetchJson: (url) => fetchJsonBounded(url, this.task.restUrl, this.task.limits.restTimeoutMs, this.task.limits.maxRestBytes),
        });
        for (const n of answer.listed) this.listed.add(n);
        for (const n of undecided) if (!answer.listed.has(n)) this.unlisted.add(n);
        if (answer.complete) this.listComplete = true;
      } catch (err) {
        this.log.warn('instrument list unavailable; subscribing without checking symbols', {
          problem: (err as Error).message,
          symbols: undecided,
        });
        return [...streams];
      }
    }
    const refused = new Map<string, StreamSpec[]>();
    for (const s of streams) {
      if (this.listed.has(s.native)) continue;
      if (!this.unlisted.has(s.native) && !this.listComplete) continue;
      refused.set(s.native, [...(refused.get(s.native) ?? []), s]);
    }
    for (const [native, list] of refused) {
      this.reject(
        list,
        'ERR_BAD_SYMBOL',
        `${describeStreams(this.adapter.id, list)}: unknown symbol, ${this.adapter.id} does not list ${native}`,
      );
    }
    return streams.filter((s) => !refused.has(s.native));
  }

  /** REST answers become records outside any socket read: stamp and publish them too. */
  private async fetchJson(url: string): Promise<unknown> {
    const { restUrl, limits } = this.task;
    const body = await fetchJsonBounded(url, restUrl, limits.restTimeoutMs, limits.maxRestBytes);
    this.encoder.recvTs = nowMs();
    setImmediate(() => this.schedulePublish());
    return body;
  }

  start(): void {
    this.task.port.on('message', (m: ControlMessage) => this.onControl(m));
    void this.admit(this.streams).then(() => {
      this.admitted = true;
      if (this.ended) return;
      if (this.streams.length > 0) this.socket = this.open(false);
      // Nothing left and nothing coming: the supervisor, told of the rejections, ends here too.
      else if (this.pendingAdds.length === 0) this.end('closed', 0, 'no stream left: the venue refused every one');
    });
  }

  private post(message: WorkerMessage): void {
    if (!this.closed) this.task.port.postMessage(message);
  }

  private open(isSuccessor: boolean): WebSocket {
    const { limits } = this.task;
    const url = this.adapter.connectUrl(this.task.wsUrl, this.streams);
    const ws = new WebSocket(url, {
      handshakeTimeout: limits.connectTimeoutMs,
      maxPayload: limits.maxFrameBytes,
      perMessageDeflate: false,
      allowSynchronousEvents: true,
    });
    ws.on('open', () => (isSuccessor ? this.onSuccessorOpen(ws) : this.onOpen(ws)));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (ws === this.socket) this.onFrame(data, isBinary);
      else if (ws === this.successor) this.queueSuccessorFrame(data);
    });
    ws.on('pong', () => {
      if (ws === this.socket) this.clearPongDeadline();
    });
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      let body = '';
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        // Both paths end (terminate) the socket after removing its listeners.
        if (ws === this.socket) this.upgradeRefused(status, body);
        else if (ws === this.successor) this.abandonSuccessor(ws, `HTTP ${status} on upgrade`);
        else ws.terminate();
      };
      // The body says why (e.g. which stream); read a little of it, never wait long for it.
      const timer = setTimeout(finish, 500);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < UPGRADE_BODY_LIMIT) body += chunk.slice(0, UPGRADE_BODY_LIMIT - body.length);
      });
      res.on('end', finish);
      res.on('error', finish);
    });
    ws.on('error', (err) => {
      if (ws !== this.socket) {
      this.abandonSuccessor(ws, err.message);
      return;
    }
      const tooLarge = /max payload/i.test(err.message);
      this.end(tooLarge ? 'too-large' : this.openedAt ? 'error' : 'connect-failed', failCloseCode(err), err.message);
    });
    ws.on('close', (code, reason) => {
      if (ws === this.socket) this.end('closed', code, reason.toString() || `closed with ${code}`);
      else if (ws === this.successor) this.abandonSuccessor(ws, `closed with ${code}`);
    });
    return ws;
  }

  /**
   * The venue answered the upgrade with an HTTP error. A 400 whose body names some of our
   * symbols refuses those: they are rejected so that the next attempt goes without them. Any
   * other refusal ends the attempt as before; the supervisor retries, and gives the set up
   * after repeated 400s (see `ConnectionSupervisor`).
   */
  private upgradeRefused(status: number, body: string): void {
    this.log.warn('WebSocket upgrade refused', { status, body: body.slice(0, 300) });
    if (status === 400) {
      const named = this.streams.filter((s) => namesSymbol(body, s.native));
      if (named.length > 0 && named.length < this.streams.length) {
        const code: RejectionCode = /symbol/i.test(body) ? 'ERR_BAD_SYMBOL' : 'ERR_SUBSCRIPTION_REJECTED';
        for (const native of new Set(named.map((s) => s.native))) {
          const list = named.filter((s) => s.native === native);
          this.reject(list, code, `${describeStreams(this.adapter.id, list)}: refused on upgrade (HTTP 400): ${body.slice(0, 200)}`);
        }
      }
    }
    this.end('connect-failed', 0, upgradeFailure(status, body));
  }

  private onOpen(ws: WebSocket): void {
    const now = nowMs();
    this.encoder.recvTs = now;
    this.openedAt = now;
    this.counters[CounterSlot.connectedTs] = now;
    this.counters[CounterSlot.lastDataTs] = now;
    for (const text of this.session.openMessages(this.streams)) ws.send(text);
    this.session.addStreams(this.streams);
    this.sink.status(0, StatusCode.connected, 0);
    this.schedulePublish();
    this.post({ type: 'open' });
    this.startTimers();
  }

  private startTimers(): void {
    const { limits } = this.task;
    if (limits.pingIntervalMs > 0) {
      this.timers.push(setInterval(() => this.ping(), limits.pingIntervalMs));
    }
    const appPing = this.adapter.appPing;
    if (appPing) this.timers.push(setInterval(() => this.sendAll(appPing.text), appPing.intervalMs));
    if (limits.staleTimeoutMs > 0) {
      const every = Math.max(10, Math.min(1000, limits.staleTimeoutMs / 4));
      this.timers.push(setInterval(() => this.checkStale(), every));
    }
    if (limits.rotateAfterMs > 0) {
      this.timers.push(setTimeout(() => this.rotate(), limits.rotateAfterMs));
    }
  }

  private ping(): void {
    const ws = this.socket;
    if (!ws || ws.readyState !== WebSocket.OPEN || this.pongDeadline) return;
    ws.ping();
    this.pongDeadline = setTimeout(() => {
      this.end('pong-timeout', 0, `no pong within ${this.task.limits.pongTimeoutMs} ms`);
    }, this.task.limits.pongTimeoutMs);
  }

  private clearPongDeadline(): void {
    if (this.pongDeadline) clearTimeout(this.pongDeadline);
    this.pongDeadline = undefined;
  }

  private checkStale(): void {
    const idle = nowMs() - this.counters[CounterSlot.lastDataTs]!;
    if (idle < this.task.limits.staleTimeoutMs || this.sink.queued) return;
    this.encoder.recvTs = nowMs();
    this.sink.status(0, StatusCode.stale, Math.round(idle));
    this.writer.publish();
    this.post({ type: 'stale', idleMs: Math.round(idle) });
    this.end('stale', 0, `no data for ${Math.round(idle)} ms while the peer answers pings`);
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    const recvTs = nowMs();
    const counters = this.counters;
    counters[CounterSlot.frames]!++;
    counters[CounterSlot.bytes]! += data.length;
    if (isBinary) {
      this.badFrame('binary frame where text was expected');
      return;
    }
    this.deliver(data.toString('utf8'), recvTs);
  }

  private deliver(text: string, recvTs: number): void {
    this.encoder.recvTs = recvTs;
    if (this.sink.backlogged) this.sink.flush();
    const dataBefore = this.sessionSink.count;
    try {
      this.session.onMessage(text);
    } catch (err) {
      this.badFrame(String((err as Error)?.message ?? err), text);
    }
    // Only frames that carried data feed the stale watchdog (not heartbeats, pongs, acks, bad frames).
    if (this.sessionSink.count !== dataBefore) this.counters[CounterSlot.lastDataTs] = recvTs;
    this.schedulePublish();
    if (this.sink.queued) this.pauseUntilDrained();
  }

  private badFrame(problem: string, text?: string): void {
    const n = ++this.badFrames;
    this.counters[CounterSlot.badMessages]!++;
    this.sink.status(0, StatusCode.badMessage, n);
    if (n <= BAD_FRAME_LOG_LIMIT || n % BAD_FRAME_LOG_EVERY === 0) {
      this.log.warn('bad frame skipped', {
        problem: problem.length > BAD_FRAME_PROBLEM_CHARS ? `${problem.slice(0, BAD_FRAME_PROBLEM_CHARS)}…` : problem,
        badFrames: n,
        frame: text === undefined ? undefined : text.slice(0, 200),
      });
    }
  }

  /** Publication is batched: all frames of one socket read become visible with one store. */
  private schedulePublish(): void {
    if (this.publishScheduled) return;
    this.publishScheduled = true;
    queueMicrotask(() => {
      this.publishScheduled = false;
      this.publish();
    });
  }

  private publish(): void {
    this.writer.publish();
    this.counters[CounterSlot.records] = this.encoder.recordsWritten;
    this.counters[CounterSlot.dropped] = this.sink.dropped;
    this.counters[CounterSlot.conflated] = this.sink.conflated;
  }

  /** `block` backpressure: stop reading the socket until the ring has room for the backlog. */
  private async pauseUntilDrained(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.counters[CounterSlot.pauses]!++;
    this.socket?.pause();
    try {
      while (!this.ended && !this.sink.flush()) {
        this.publish();
        await this.writer.waitForSpace(this.writer.capacity / 4, 100);
      }
      this.publish();
    } finally {
      this.draining = false;
      if (!this.ended) this.socket?.resume();
    }
  }

  private onControl(m: ControlMessage): void {
    switch (m.type) {
      case 'subscribe': {
        const added = m.streams.filter(
          (s) => !this.streams.some((t) => sameStream(s, t)) && !this.pendingAdds.some((t) => sameStream(s, t)),
        );
        if (added.length === 0) return;
        this.pendingAdds.push(...added);
        void this.admit(added).then((passed) => this.addAdmitted(passed));
        return;
      }
      case 'unsubscribe': {
        this.pendingAdds = this.pendingAdds.filter((t) => !m.streams.some((s) => sameStream(s, t)));
        const removed = this.streams.filter((t) => m.streams.some((s) => sameStream(s, t)));
        if (removed.length === 0) return;
        this.streams = this.streams.filter((t) => !removed.includes(t));
        this.session.removeStreams(removed);
        for (const text of this.session.unsubscribeMessages(removed)) this.sendAll(text);
        return;
      }
      case 'stop':
        this.stopRequested = true;
        this.end('stopped', 1000, 'stopped by the engine');
    }
  }

  /** Streams that passed the instrument check join the connection (unless unsubscribed meanwhile). */
  private addAdmitted(passed: readonly StreamSpec[]): void {
    const added = passed.filter((s) => this.pendingAdds.includes(s));
    this.pendingAdds = this.pendingAdds.filter((s) => !added.includes(s));
    if (added.length === 0 || this.ended) return;
    this.streams.push(...added);
    if (!this.admitted) return; // the first socket opens with them
    if (this.socket === undefined) {
      this.socket = this.open(false);
      return;
    }
    this.session.addStreams(added);
    for (const text of this.session.subscribeMessages(added)) this.sendAll(text);
  }

  private sendAll(text: string): void {
    for (const ws of [this.socket, this.successor]) {
      if (ws?.readyState === WebSocket.OPEN) ws.send(text);
    }
  }

  /**
   * Planned rotation (Binance ends connections at 24 h): open a successor with the same
   * streams, let both overlap, then switch. Frames from the successor are held until the
   * switch and then pass through the session, which drops what it already emitted by
   * sequence, so the consumer sees no gap and no duplicate.
   */
  private rotate(): void {
    if (this.ended || this.successor) return;
    this.log.info('planned rotation: opening successor connection', {
      ageMs: Math.round(nowMs() - this.openedAt),
    });
    this.encoder.recvTs = nowMs();
    this.sink.status(0, StatusCode.rotating, 0);
    this.schedulePublish();
    this.post({ type: 'rotating' });
    this.successorQueue = [];
    this.successor = this.open(true);
  }

  private onSuccessorOpen(ws: WebSocket): void {
    for (const text of this.session.openMessages(this.streams)) ws.send(text);
    this.timers.push(setTimeout(() => this.switchToSuccessor(ws), ROTATION_OVERLAP_MS));
  }

  private queueSuccessorFrame(data: Buffer): void {
    if (this.successorQueue.length >= ROTATION_QUEUE_LIMIT) {
      this.abandonSuccessor(this.successor!, 'overlap queue full');
      return;
    }
    this.successorQueue.push({ text: data.toString('utf8'), recvTs: nowMs() });
  }

  private switchToSuccessor(ws: WebSocket): void {
    if (this.ended || ws !== this.successor) return;
    const old = this.socket!;
    this.socket = ws;
    this.successor = undefined;
    old.removeAllListeners('message');
    old.on('error', () => {});
    old.close(1000, 'rotated');
    this.clearPongDeadline();
    const queued = this.successorQueue;
    this.successorQueue = [];
    for (const frame of queued) this.deliver(frame.text, frame.recvTs);
    this.openedAt = nowMs();
    this.counters[CounterSlot.connectedTs] = this.openedAt;
    this.log.info('planned rotation complete', { replayedFrames: queued.length });
    this.timers.push(setTimeout(() => this.rotate(), this.task.limits.rotateAfterMs));
  }

  private abandonSuccessor(ws: WebSocket, why: string): void {
    if (ws !== this.successor) return;
    this.successor = undefined;
    this.successorQueue = [];
    ws.terminate();
    this.log.warn('planned rotation failed; keeping the current connection', { problem: why });
    this.timers.push(setTimeout(() => this.rotate(), Math.min(60_000, this.task.limits.rotateAfterMs)));
  }

  private end(reason: EndReason, closeCode: number, message: string): void {
    if (this.ended) return;
    this.ended = true;
    for (const t of this.timers) clearTimeout(t);
    this.clearPongDeadline();
    const connectedMs = this.openedAt ? Math.round(nowMs() - this.openedAt) : 0;
    this.session.onDisconnect();
    this.encoder.recvTs = nowMs();
    if (this.openedAt) this.sink.status(0, StatusCode.disconnected, closeCode);
    for (const ws of [this.socket, this.successor]) {
      if (!ws) continue;
      ws.removeAllListeners();
      ws.on('error', () => {});
      if (reason === 'stopped' && ws.readyState === WebSocket.OPEN) ws.close(1000, 'client stopping');
      else ws.terminate();
    }
    void this.drainBacklog().then(() => {
      this.closed = true;
      this.task.port.close();
      this.resolve({ reason, closeCode, message, connectedMs });
    });
  }

  /**
   * Records already accepted are owed to the consumer: the task does not end before its
   * backlog is in the ring, unless the engine itself is stopping.
   */
  private async drainBacklog(): Promise<void> {
    while (!this.sink.flush() && !this.stopRequested) {
      this.publish();
      await this.writer.waitForSpace(this.writer.capacity / 4, 100);
    }
    this.publish();
  }
}

/** `body` mentions `native` as a whole word (any case): `'foobar@trade'` names FOOBAR, not FOOBARX. */
function namesSymbol(body: string, native: string): boolean {
  const escaped = native.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^a-z0-9])${escaped}([^a-z0-9]|$)`, 'i').test(body);
}

/**
 * The close code the ws client sent when it failed the socket on a frame (its documented error
 * codes): 1009 above `maxPayload`, 1007 for invalid UTF-8, 1008 for too many fragments, 1002 for
 * other protocol errors; 0 when
 * the error was not about a frame.
 */
function failCloseCode(err: Error): number {
  const code = (err as Error & { code?: unknown }).code;
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || code === 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH') return 1009;
  if (code === 'WS_ERR_TOO_MANY_BUFFERED_PARTS') return 1008;
  if (code === 'WS_ERR_INVALID_UTF8') return 1007;
  return typeof code === 'string' && code.startsWith('WS_ERR_') ? 1002 : 0;
}

function sameStream(a: StreamSpec, b: StreamSpec): boolean {
  return a.channel === b.channel && a.symbolId === b.symbolId && a.interval === b.interval;
}
