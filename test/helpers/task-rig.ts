/**
 * A connection task's surroundings without the engine: ring, doorbell, counters and control
 * port as the engine makes them, the records read back from the ring and the worker's messages.
 */
import { MessageChannel } from 'node:worker_threads';
import { DEFAULT_LIMITS } from '../../src/engine/options.js';
import { SymbolTable } from '../../src/records/symbols.js';
import { RecordView } from '../../src/records/view.js';
import { Doorbell } from '../../src/ring/doorbell.js';
import { createRing, RingReader } from '../../src/ring/ring.js';
import type { StreamSpec } from '../../src/venues/contract.js';
import {
  type BackpressurePolicy,
  COUNTER_SLOTS,
  type ConnectionLimits,
  type ConnectionTask,
  type ControlMessage,
  type WorkerMessage,
} from '../../src/worker/protocol.js';

export const RIG_EXCHANGE_CODE = 200;

export interface RigRecord {
  readonly type: string;
  readonly recvTs: number;
  readonly symbolId: number;
  /** Trades: the price; status records: the status name. */
  readonly price?: number;
  readonly status?: string;
  readonly detail?: number;
}

export function taskRig(options: {
  url?: string;
  limits?: Partial<ConnectionLimits>;
  streams?: StreamSpec[];
  policy?: BackpressurePolicy;
}) {
  const ring = createRing(1 << 16);
  const counters = new SharedArrayBuffer(COUNTER_SLOTS * 8);
  const { port1, port2 } = new MessageChannel();
  const messages: WorkerMessage[] = [];
  port2.on('message', (m: WorkerMessage) => messages.push(m));
  const task: ConnectionTask = {
    connectionId: 1,
    venue: 'rig',
    wsUrl: options.url ?? 'tcp://127.0.0.1:1',
    restUrl: 'http://127.0.0.1:1',
    streams: options.streams ?? [],
    policy: options.policy ?? 'drop',
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    ring,
    doorbell: Doorbell.create(),
    counters,
    port: port1,
  };
  const reader = new RingReader(ring);
  const symbols = new SymbolTable();
  symbols.registerExchange(RIG_EXCHANGE_CODE, 'rig');
  const view = new RecordView(symbols);
  const records: RigRecord[] = [];
  /** Reads every published record (call before looking at `records`). */
  const drain = (): RigRecord[] => {
    for (let o = reader.next(); o >= 0; o = reader.next()) {
      view.bind(reader, o);
      const type = view.type;
      records.push({
        type,
        recvTs: view.recvTs,
        symbolId: view.symbolId,
        price: type === 'trade' ? view.price : undefined,
        status: type === 'status' ? view.status : undefined,
        detail: type === 'status' ? view.detail : undefined,
      });
      reader.advance();
    }
    reader.release();
    return records;
  };
  return {
    task,
    messages,
    records: drain,
    counters: new Float64Array(counters),
    control: (m: ControlMessage) => port2.postMessage(m),
    close: () => port2.close(),
  };
}
