/**
 * The TCP transport on the task base, for venues that speak a framed binary or text protocol over
 * a plain socket (Futu OpenD, the Interactive Brokers TWS API): `TcpVenueAdapter` in the venue
 * contract.
 *
 * - Endpoint: `task.wsUrl` holds the venue's endpoint as `tcp://host:port`.
 * - Connect within `limits.connectTimeoutMs` (else `connect-failed`).
 * - Frames: cut by the venue's `framing` (see `framing.ts`), at most `limits.maxFrameBytes`
 *   (larger ends the task with `too-large`; bytes that cannot be framed end it with `error`).
 * - Dead peer: the venue's keep-alive request every `limits.pingIntervalMs`, its answer within
 *   `limits.pongTimeoutMs` (else `pong-timeout`); keep-alive answers are the task's, not the
 *   session's. Data frames feed the stale watchdog as for every transport.
 * - All frames of one socket read carry that read's receive time and are published together.
 */
import { connect, type Socket } from 'node:net';
import { nowMs } from '../clock.js';
import type { StreamSpec, TcpSession, TcpVenue } from '../venues/contract.js';
import type { RejectionCode } from '../venues/rejection.js';
import { FrameTooLarge } from './framing.js';
import type { ConnectionResult, ConnectionTask, ControlMessage, EndReason } from './protocol.js';
import { StreamList } from './streams.js';
import { TaskBase, type Transport } from './task-base.js';

export function runTcpTask<F>(task: ConnectionTask, venue: TcpVenue<F>): Promise<ConnectionResult> {
  const base = new TaskBase(task, venue.exchangeCode);
  return base.run(new TcpTransport(base, venue));
}

class TcpTransport<F> implements Transport {
  private readonly session: TcpSession<F>;
  private readonly streams: StreamList;
  private socket: Socket | undefined;
  private connected = false;
  /** Receive time of the read being framed. */
  private recvTs = 0;
  private framesInRead = 0;
  private readonly current = () => this.socket;
  private readonly parse = (frame: F): void => this.session.onFrame(frame);
  private readonly onFrame = (frame: F): void => {
    this.framesInRead++;
    if (this.base.ended) return;
    if (this.venue.keepAlive?.isAnswer(frame)) this.base.peerAnswered();
    else this.base.read(this.recvTs, this.parse, frame);
  };

  constructor(
    private readonly base: TaskBase,
    private readonly venue: TcpVenue<F>,
  ) {
    const { limits } = base.task;
    this.streams = new StreamList(base.task.streams);
    this.session = venue.createSession({
      sink: base.sink,
      log: base.log,
      send: (bytes) => this.write(bytes),
      onResync: () => base.countResync(),
      reject: (streams, code, message) => this.reject(streams, code, message),
      limits,
      credentials: base.task.credentials,
      clientId: base.task.clientId,
    });
  }

  start(): void {
    const { wsUrl, limits } = this.base.task;
    const endpoint = new URL(wsUrl);
    const host = endpoint.hostname.replace(/^\[(.*)\]$/, '$1');
    const socket = connect({ host, port: Number(endpoint.port) });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(limits.connectTimeoutMs, () => {
      if (!this.connected) this.base.end('connect-failed', 0, `no TCP connection to ${endpoint.host} within ${limits.connectTimeoutMs} ms`);
    });
    const decoder = this.venue.framing.decoder(limits.maxFrameBytes);
    socket.on('connect', () => this.onConnect(socket));
    socket.on('data', (chunk: Buffer) => {
      this.recvTs = nowMs();
      this.framesInRead = 0;
      try {
        decoder.push(chunk, this.onFrame);
      } catch (err) {
        this.base.end(err instanceof FrameTooLarge ? 'too-large' : 'error', 0, (err as Error).message);
      }
      this.base.countFrames(this.framesInRead, chunk.length);
      this.base.pauseWhileBacklogged(this.current);
    });
    socket.on('error', (err) => this.base.end(this.connected ? 'error' : 'connect-failed', 0, err.message));
    socket.on('close', () => this.base.end('closed', 0, 'the peer closed the connection'));
  }

  private onConnect(socket: Socket): void {
    this.connected = true;
    socket.setTimeout(0);
    for (const bytes of this.session.openMessages(this.streams.all)) socket.write(bytes);
    this.session.addStreams(this.streams.all);
    this.base.opened();
    const { keepAlive } = this.venue;
    if (keepAlive) {
      this.base.startDeadPeerCheck(() => this.write(keepAlive.request()));
    }
    this.base.startStaleWatchdog(
      (idle) => `no data for ${idle} ms while the peer answers keep-alives`,
      // A quiet period (a closed market) is not idleness: it restarts the stale clock.
      () => {
        if (!this.session.quietExpected?.()) return true;
        this.base.noteData(nowMs());
        return false;
      },
    );
  }

  /** Writes when connected; false when it could not. */
  private write(bytes: Uint8Array): boolean {
    if (!this.connected || this.base.ended) return false;
    this.socket!.write(bytes);
    return true;
  }

  private reject(streams: readonly StreamSpec[], code: RejectionCode, message: string): void {
    const gone = this.streams.remove(streams);
    if (gone.length === 0) return;
    this.session.removeStreams(gone);
    this.base.reportRejected(gone, code, message);
  }

  onControl(m: Exclude<ControlMessage, { type: 'stop' }>): void {
    const changed = m.type === 'subscribe' ? this.streams.add(m.streams) : this.streams.remove(m.streams);
    if (changed.length === 0 || !this.connected) return;
    if (m.type === 'subscribe') this.session.addStreams(changed);
    else this.session.removeStreams(changed);
    const messages =
      m.type === 'subscribe' ? this.session.subscribeMessages(changed) : this.session.unsubscribeMessages(changed);
    for (const bytes of messages) this.write(bytes);
  }

  close(_reason: EndReason): void {
    this.session.onDisconnect();
    this.connected = false;
    const socket = this.socket;
    if (!socket) return;
    socket.removeAllListeners();
    socket.on('error', () => {});
    socket.destroy();
  }
}
