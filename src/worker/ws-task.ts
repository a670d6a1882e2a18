/**
 * The native WebSocket transport on the task base: one `ws` client socket (and, during a planned
 * rotation, its successor) feeding one venue session.
 *
 * - Frames: text only (binary is a bad frame), at most `limits.maxFrameBytes` (the client closes
 *   with 1009 above it: `too-large`), no compression negotiated.
 * - Dead peer: WebSocket ping every `limits.pingIntervalMs`, pong within `limits.pongTimeoutMs`;
 *   plus the venue's application ping (`adapter.appPing`) when it has one.
 * - Streams pass the venue's instrument list (`adapter.listedSymbols`) before they reach the
 *   socket; an unlisted symbol is rejected, an unavailable list lets everything through.
 * - Planned rotation (`limits.rotateAfterMs`): the successor's frames are held during the overlap
 *   and replayed through the session, which drops what it already emitted by sequence.
 * - Outgoing pacing (`adapter.outgoing`): every message the session sends goes through one pacer
 *   (application pings do not); subscribe / unsubscribe requests that wait for it merge into one,
 *   built when it is sent.
 */
import WebSocket from 'ws';
import { nowMs } from '../clock.js';
import { fetchJsonBounded } from '../net/fetch-json.js';
import { StatusCode } from '../records/types.js';
import type { SocketVenueAdapter, StreamSpec, VenueSession } from '../venues/contract.js';
import { Pacer } from '../venues/kit/pacer.js';
import { socketVenue } from '../venues/registry.js';
import { describeStreams, type RejectionCode, upgradeFailure } from '../venues/rejection.js';
import { InstrumentCheck } from './instrument-check.js';
import type { ConnectionResult, ConnectionTask, ControlMessage, EndReason } from './protocol.js';
import { StreamList } from './streams.js';
import { TaskBase, type Transport } from './task-base.js';

/** How long the successor socket overlaps the old one during a planned rotation. */
const ROTATION_OVERLAP_MS = 1000;
/** Frames buffered from the successor socket during the overlap, at most. */
const ROTATION_QUEUE_LIMIT = 100_000;
/** Bytes of a refused upgrade's response body kept for the log and the end message. */
const UPGRADE_BODY_LIMIT = 2048;
/** How long a refused upgrade's body is waited for. */
const UPGRADE_BODY_WAIT_MS = 500;

/** A message to the venue: text as the session wrote it, or streams to (un)subscribe, built when sent. */
type Outgoing = { readonly text: string } | { readonly subscribe: readonly StreamSpec[] } | { readonly unsubscribe: readonly StreamSpec[] };

const UNPACED = { perSecond: Number.POSITIVE_INFINITY };

/** Two waiting requests of the same kind become one. */
function mergeRequests(last: Outgoing, next: Outgoing): Outgoing | undefined {
  if ('subscribe' in last && 'subscribe' in next) return { subscribe: [...last.subscribe, ...next.subscribe] };
  if ('unsubscribe' in last && 'unsubscribe' in next) return { unsubscribe: [...last.unsubscribe, ...next.unsubscribe] };
  return undefined;
}

export function runWsTask(task: ConnectionTask, adapter = socketVenue(task.venue)): Promise<ConnectionResult> {
  const base = new TaskBase(task, adapter.exchangeCode);
  return base.run(new WsTransport(base, adapter));
}

class WsTransport implements Transport {
  private readonly task: ConnectionTask;
  private readonly session: VenueSession;
  private readonly streams: StreamList;
  /** Streams asked for by `subscribe` while the venue's instrument list is being consulted. */
  private readonly pendingAdds = new StreamList();
  /** The initial streams went through the instrument check (the socket may open). */
  private admitted = false;
  private readonly instruments: InstrumentCheck;
  private socket: WebSocket | undefined;
  private successor: WebSocket | undefined;
  private successorQueue: Array<{ text: string; recvTs: number }> = [];
  private readonly current = () => this.socket;
  private readonly parse = (text: string): void => this.session.onMessage(text);
  /** Messages to the venue, paced at `adapter.outgoing` (unpaced without). */
  private readonly outbox: Pacer<Outgoing>;

  constructor(
    private readonly base: TaskBase,
    private readonly adapter: SocketVenueAdapter,
  ) {
    const task = base.task;
    this.task = task;
    this.streams = new StreamList(task.streams);
    this.instruments = new InstrumentCheck(
      adapter,
      { restUrl: task.restUrl, fetchJson: (url) => this.fetchJson(url) },
      base.log,
    );
    this.outbox = new Pacer<Outgoing>((m) => this.write(m), adapter.outgoing ?? UNPACED, mergeRequests);
    this.session = adapter.createSession({
      sink: base.sink,
      log: base.log,
      restUrl: task.restUrl,
      fetchJson: (url) => this.fetchJson(url),
      send: (text) => this.outbox.send({ text }),
      onResync: () => base.countResync(),
      credentials: task.credentials,
      limits: task.limits,
      parser: task.parser,
      reject: (streams, code, message) => this.reject(streams, code, message),
    });
  }

  /** REST answers become records outside any socket read: the task sink stamps and publishes them. */
  private fetchJson(url: string): Promise<unknown> {
    const { restUrl, limits } = this.task;
    return fetchJsonBounded(url, restUrl, limits.restTimeoutMs, limits.maxRestBytes);
  }

  start(): void {
    void this.admit(this.streams.all).then(() => {
      this.admitted = true;
      if (this.base.ended) return;
      if (this.streams.size > 0) this.socket = this.open(false);
      // Nothing left and nothing coming: the supervisor, told of the rejections, ends here too.
      else if (this.pendingAdds.size === 0) this.base.end('closed', 0, 'no stream left: the venue refused every one');
    });
  }

  /**
   * The venue refused these streams: forgotten here and in the session (never resubscribed, not
   * even after a reconnect), reported by the base.
   */
  private reject(streams: readonly StreamSpec[], code: RejectionCode, message: string): void {
    const gone = [...this.streams.remove(streams), ...this.pendingAdds.remove(streams)];
    if (gone.length === 0) return;
    this.session.removeStreams(gone);
    this.base.reportRejected(gone, code, message);
  }

  /** The streams whose symbol the venue lists; the others are rejected with ERR_BAD_SYMBOL. */
  private async admit(streams: readonly StreamSpec[]): Promise<StreamSpec[]> {
    const refused = await this.instruments.unlistedOf(streams);
    for (const [native, list] of refused) {
      this.reject(
        list,
        'ERR_BAD_SYMBOL',
        `${describeStreams(this.adapter.id, list)}: unknown symbol, ${this.adapter.id} does not list ${native}`,
      );
    }
    return refused.size === 0 ? [...streams] : streams.filter((s) => !refused.has(s.native));
  }

  private open(isSuccessor: boolean): WebSocket {
    const { limits } = this.task;
    const url = this.adapter.connectUrl(this.task.wsUrl, this.streams.all);
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
      if (ws === this.socket) this.base.peerAnswered();
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
      const timer = setTimeout(finish, UPGRADE_BODY_WAIT_MS);
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
      const reason = tooLarge ? 'too-large' : this.base.openedAt ? 'error' : 'connect-failed';
      this.base.end(reason, failCloseCode(err), err.message);
    });
    ws.on('close', (code, reason) => {
      if (ws === this.socket) this.base.end('closed', code, reason.toString() || `closed with ${code}`);
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
    this.base.log.warn('WebSocket upgrade refused', { status, body: body.slice(0, 300) });
    if (status === 400) {
      const named = this.streams.all.filter((s) => namesSymbol(body, s.native));
      if (named.length > 0 && named.length < this.streams.size) {
        const code: RejectionCode = /symbol/i.test(body) ? 'ERR_BAD_SYMBOL' : 'ERR_SUBSCRIPTION_REJECTED';
        for (const native of new Set(named.map((s) => s.native))) {
          const list = named.filter((s) => s.native === native);
          const why = `${describeStreams(this.adapter.id, list)}: refused on upgrade (HTTP 400): ${body.slice(0, 200)}`;
          this.reject(list, code, why);
        }
      }
    }
    this.base.end('connect-failed', 0, upgradeFailure(status, body));
  }

  private onOpen(ws: WebSocket): void {
    // The open messages go ahead of anything asked for while connecting.
    this.outbox.sendFirst(this.session.openMessages(this.streams.all).map((text) => ({ text })));
    this.outbox.resume();
    this.session.addStreams(this.streams.all);
    this.base.opened();
    const { base } = this;
    base.startDeadPeerCheck(() => {
      const current = this.socket;
      if (!current || current.readyState !== WebSocket.OPEN) return false;
      current.ping();
      return true;
    });
    const appPing = this.adapter.appPing;
    // Pings are not requests (OKX counts subscribes, not pings): never held behind paced requests.
    if (appPing) base.every(appPing.intervalMs, () => this.sendAll(appPing.text));
    base.startStaleWatchdog((idle) => `no data for ${idle} ms while the peer answers pings`);
    const { rotateAfterMs } = this.task.limits;
    if (rotateAfterMs > 0) base.after(rotateAfterMs, () => this.rotate());
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    const recvTs = nowMs();
    this.base.countFrames(1, data.length);
    if (isBinary) {
      this.base.badFrame('binary frame where text was expected');
      return;
    }
    this.deliver(data.toString('utf8'), recvTs);
  }

  private deliver(text: string, recvTs: number): void {
    this.base.read(recvTs, this.parse, text, text);
    this.base.pauseWhileBacklogged(this.current);
  }

  onControl(m: Exclude<ControlMessage, { type: 'stop' }>): void {
    if (m.type === 'subscribe') {
      const added = m.streams.filter((s) => !this.streams.has(s) && !this.pendingAdds.has(s));
      if (added.length === 0) return;
      this.pendingAdds.add(added);
      void this.admit(added).then((passed) => this.addAdmitted(passed));
      return;
    }
    this.pendingAdds.remove(m.streams);
    const removed = this.streams.remove(m.streams);
    if (removed.length === 0) return;
    this.session.removeStreams(removed);
    this.outbox.send({ unsubscribe: removed });
  }

  /** Streams that passed the instrument check join the connection (unless unsubscribed meanwhile). */
  private addAdmitted(passed: readonly StreamSpec[]): void {
    const added = this.pendingAdds.remove(passed);
    if (added.length === 0 || this.base.ended) return;
    this.streams.add(added);
    if (!this.admitted) return; // the first socket opens with them
    if (this.socket === undefined) {
      this.socket = this.open(false);
      return;
    }
    this.session.addStreams(added);
    this.outbox.send({ subscribe: added });
  }

  /**
   * Writes one paced message; a request is built now, and what it expands into beyond its first
   * frame waits its turn. False while the socket is still connecting: the outbox holds it until
   * `onOpen` (a stream added then is neither in the connect URL nor lost).
   */
  private write(m: Outgoing): boolean {
    const state = this.socket?.readyState;
    if (state === WebSocket.CONNECTING) return false;
    if (state !== WebSocket.OPEN) return true; // no socket, or closing: nothing to send on
    if (!('text' in m)) {
      const texts = 'subscribe' in m ? this.session.subscribeMessages(m.subscribe) : this.session.unsubscribeMessages(m.unsubscribe);
      if (texts.length === 0) return true;
      this.sendAll(texts[0]!);
      this.outbox.sendFirst(texts.slice(1).map((text) => ({ text })));
      return true;
    }
    this.sendAll(m.text);
    return true;
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
    if (this.base.ended || this.successor) return;
    this.base.log.info('planned rotation: opening successor connection', {
      ageMs: Math.round(nowMs() - this.base.openedAt),
    });
    this.base.sink.status(0, StatusCode.rotating, 0);
    this.base.post({ type: 'rotating' });
    this.successorQueue = [];
    this.successor = this.open(true);
  }

  private onSuccessorOpen(ws: WebSocket): void {
    for (const text of this.session.openMessages(this.streams.all)) ws.send(text);
    this.base.after(ROTATION_OVERLAP_MS, () => this.switchToSuccessor(ws));
  }

  private queueSuccessorFrame(data: Buffer): void {
    if (this.successorQueue.length >= ROTATION_QUEUE_LIMIT) {
      this.abandonSuccessor(this.successor!, 'overlap queue full');
      return;
    }
    this.successorQueue.push({ text: data.toString('utf8'), recvTs: nowMs() });
  }

  private switchToSuccessor(ws: WebSocket): void {
    if (this.base.ended || ws !== this.successor) return;
    const old = this.socket!;
    this.socket = ws;
    this.successor = undefined;
    old.removeAllListeners('message');
    old.on('error', () => {});
    old.close(1000, 'rotated');
    this.base.peerAnswered();
    const queued = this.successorQueue;
    this.successorQueue = [];
    for (const frame of queued) this.deliver(frame.text, frame.recvTs);
    this.base.connectedAt(nowMs());
    this.base.log.info('planned rotation complete', { replayedFrames: queued.length });
    this.base.after(this.task.limits.rotateAfterMs, () => this.rotate());
  }

  private abandonSuccessor(ws: WebSocket, why: string): void {
    if (ws !== this.successor) return;
    this.successor = undefined;
    this.successorQueue = [];
    ws.terminate();
    this.base.log.warn('planned rotation failed; keeping the current connection', { problem: why });
    this.base.after(Math.min(60_000, this.task.limits.rotateAfterMs), () => this.rotate());
  }

  close(reason: EndReason): void {
    this.outbox.clear();
    this.session.onDisconnect();
    for (const ws of [this.socket, this.successor]) {
      if (!ws) continue;
      ws.removeAllListeners();
      ws.on('error', () => {});
      if (reason === 'stopped' && ws.readyState === WebSocket.OPEN) ws.close(1000, 'client stopping');
      else ws.terminate();
    }
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
 * other protocol errors; 0 when the error was not about a frame.
 */
function failCloseCode(err: Error): number {
  const code = (err as Error & { code?: unknown }).code;
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || code === 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH') return 1009;
  if (code === 'WS_ERR_TOO_MANY_BUFFERED_PARTS') return 1008;
  if (code === 'WS_ERR_INVALID_UTF8') return 1007;
  return typeof code === 'string' && code.startsWith('WS_ERR_') ? 1002 : 0;
}
