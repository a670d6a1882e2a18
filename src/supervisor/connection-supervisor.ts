import { EventEmitter } from 'node:events';
import { MessageChannel, type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Piscina } from 'piscina';
import type { StreamSpec } from '../venues/contract.js';
import { describeStreams, type RejectionCode, upgradeStatus } from '../venues/rejection.js';
import type {
  ConnectionResult,
  ConnectionTask,
  ControlMessage,
  WorkerMessage,
} from '../worker/protocol.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.js';

export type ConnectionState = 'connecting' | 'connected' | 'stale' | 'reconnecting' | 'failed' | 'closed';

export interface StateChange {
  readonly connectionId: number;
  readonly exchange: string;
  readonly state: ConnectionState;
  readonly previous: ConnectionState;
  /** Why (end reason of the last attempt, or a note). */
  readonly reason: string;
  /** Delay before the next attempt, ms (for `reconnecting` and `failed`). */
  readonly delayMs: number;
}

/** Streams the venue refused (the `rejected` event of a supervisor); already out of its list. */
export interface StreamsRejected {
  readonly streams: readonly StreamSpec[];
  readonly code: RejectionCode;
  readonly message: string;
}

/** Consecutive HTTP 400 answers to the upgrade after which the whole stream set counts as refused. */
export const UPGRADE_REFUSALS_LIMIT = 3;

export interface SupervisorOptions {
  readonly backoff: BackoffOptions;
  readonly circuitBreaker: CircuitBreakerOptions;
  readonly stableAfterMs: number;
  readonly random?: () => number;
}

type TaskTemplate = Omit<ConnectionTask, 'port' | 'streams'>;

/**
 * Main-thread owner of one logical connection: runs its task in the pool, restarts it with
 * backoff when it ends, resubscribes everything, and opens a circuit after repeated failures.
 * States: connecting → connected ⇄ stale → reconnecting → connecting …; failed (circuit open);
 * closed (stopped for good).
 *
 * Streams the venue refuses (the task's `rejected` message) leave the list for good: a
 * reconnect does not resubscribe them, and a connection left with none ends (`closed`) instead
 * of reconnecting. A venue that answers the upgrade with HTTP 400 `UPGRADE_REFUSALS_LIMIT`
 * times in a row refuses the whole set (ERR_SUBSCRIPTION_REJECTED): a 400 does not heal by
 * retrying, unlike a 5xx or a network failure.
 */
export class ConnectionSupervisor extends EventEmitter {
  state: ConnectionState = 'connecting';
  reconnects = 0;
  private streams: StreamSpec[] = [];
  private readonly backoff: Backoff;
  private readonly breaker: CircuitBreaker;
  private port: MessagePort | undefined;
  private stopping = false;
  /** Ended because the venue refused every stream (not a stop or an unsubscribe). */
  private refusedAll = false;
  private wake: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;
  private upgradeRefusals = 0;

  constructor(
    private readonly pool: Piscina,
    private readonly template: TaskTemplate,
    private readonly options: SupervisorOptions,
    private readonly log: Logger,
    /** Pool task file when it is not the pool's default (another transport). */
    private readonly taskFile?: string,
  ) {
    super();
    this.backoff = new Backoff(options.backoff, options.random);
    this.breaker = new CircuitBreaker(options.circuitBreaker);
  }

  get id(): number {
    return this.template.connectionId;
  }

  get exchange(): string {
    return this.template.venue;
  }

  get streamList(): readonly StreamSpec[] {
    return this.streams;
  }

  start(streams: readonly StreamSpec[]): void {
    this.streams = [...streams];
    this.loopDone = this.loop();
  }

  /** Adds streams now (live socket) and to every future attempt. */
  addStreams(streams: readonly StreamSpec[]): void {
    this.streams.push(...streams);
    this.control({ type: 'subscribe', streams });
  }

  removeStreams(streams: readonly StreamSpec[]): void {
    this.streams = this.streams.filter((s) => !streams.includes(s));
    this.control({ type: 'unsubscribe', streams });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.control({ type: 'stop' });
    this.wake?.();
    await this.loopDone;
  }

  private control(message: ControlMessage): void {
    this.port?.postMessage(message);
  }

  private setState(state: ConnectionState, reason: string, delayMs = 0): void {
    if (state === this.state && state !== 'reconnecting') return;
    const change: StateChange = {
      connectionId: this.id,
      exchange: this.exchange,
      state,
      previous: this.state,
      reason,
      delayMs,
    };
    this.state = state;
    const level = state === 'failed' ? 'error' : state === 'reconnecting' || state === 'stale' ? 'warn' : 'info';
    this.log[level](change, `connection ${state}`);
    this.emit('state', change);
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const result = await this.runOnce();
      if (this.stopping) break;
      if (this.streams.length === 0) {
        this.stopping = true;
        break;
      }
      if (upgradeStatus(result.message) === 400 && result.connectedMs === 0) {
        if (++this.upgradeRefusals >= UPGRADE_REFUSALS_LIMIT) {
          this.refuseAll(result.message);
          break;
        }
      } else this.upgradeRefusals = 0;
      this.reconnects++;
      const stable = result.connectedMs >= this.options.stableAfterMs;
      if (stable) {
        this.backoff.reset();
        this.breaker.recordSuccess();
      } else {
        this.breaker.recordFailure(Date.now());
      }
      const why = result.message ? `${result.reason}: ${result.message}` : result.reason;
      const openFor = this.breaker.waitMs(Date.now());
      if (openFor > 0) {
        this.setState('failed', `circuit open after repeated failures (${why})`, openFor);
        await this.sleep(openFor);
        continue;
      }
      const delay = this.backoff.next();
      this.setState('reconnecting', why, delay);
      await this.sleep(delay);
    }
    this.setState('closed', this.refusedAll ? 'no stream left: the venue refused every one' : 'stopped');
  }

  /** Drops refused streams from the list and reports them; with none left, the connection ends. */
  private dropRejected(streams: readonly StreamSpec[], code: RejectionCode, message: string): void {
    if (streams.length === 0) return;
    this.streams = this.streams.filter((s) => !streams.includes(s));
    this.log.warn({ connectionId: this.id, exchange: this.exchange, code, streams: streams.length }, message);
    const rejected: StreamsRejected = { streams, code, message };
    this.emit('rejected', rejected);
    if (this.streams.length === 0 && !this.stopping) {
      this.refusedAll = true;
      this.stopping = true;
      this.control({ type: 'stop' });
      this.wake?.();
    }
  }

  private refuseAll(why: string): void {
    const all = [...this.streams];
    this.dropRejected(
      all,
      'ERR_SUBSCRIPTION_REJECTED',
      `${describeStreams(this.exchange, all)}: the venue refused the WebSocket upgrade ${UPGRADE_REFUSALS_LIMIT} times in a row (${why})`,
    );
  }

  private async runOnce(): Promise<ConnectionResult> {
    this.setState('connecting', this.reconnects === 0 ? 'start' : 'retry');
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    port1.on('message', (m: WorkerMessage) => this.onWorkerMessage(m));
    const task: ConnectionTask = { ...this.template, streams: this.streams, port: port2 };
    try {
      return await this.pool.run(task, { transferList: [port2] as never, filename: this.taskFile });
    } catch (err) {
      // The worker thread died (crash, exit, memory limit); piscina replaces it.
      const message = err instanceof Error ? err.message : String(err);
      this.log.error({ connectionId: this.id, exchange: this.exchange, err: message }, 'connection task crashed');
      return { reason: 'error', closeCode: 0, message: `worker crashed: ${message}`, connectedMs: 0 };
    } finally {
      // The result travels on piscina's channel and may overtake the task's last messages
      // (its final logs, `stale`): take whatever is still queued before closing.
      for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1)) {
        this.onWorkerMessage(m.message as WorkerMessage);
      }
      port1.close();
      this.port = undefined;
    }
  }

  private onWorkerMessage(m: WorkerMessage): void {
    switch (m.type) {
      case 'open':
        this.setState('connected', 'socket open, subscriptions sent');
        return;
      case 'stale':
        this.setState('stale', `no data for ${m.idleMs} ms`);
        return;
      case 'rejected': {
        const refused = this.streams.filter((s) =>
          m.streams.some((r) => r.channel === s.channel && r.symbolId === s.symbolId && r.interval === s.interval),
        );
        this.dropRejected(refused, m.code, m.message);
        return;
      }
      case 'rotating':
        this.log.info({ connectionId: this.id, exchange: this.exchange }, 'planned rotation');
        return;
      case 'log':
        this.log[m.level]({ connectionId: this.id, exchange: this.exchange, ...m.fields }, m.msg);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    }).then(() => {
      this.wake = undefined;
    });
  }
}
