/**
 * A TWS / IB Gateway stand-in speaking the TWS API socket protocol (server versions up to 193)
 * on 127.0.0.1, so that both ringfeed's `ib` venue and the unmodified `@stoqey/ib` client
 * connect to it: version negotiation, `startApi`, managed accounts, next valid id, farm notices,
 * contract details, market data, tick-by-tick, depth, 5-second bars, current time, and the
 * faults (connectivity lost and restored, farm flaps, entitlement errors, pacing, duplicate ids).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { twsFraming, twsMessage } from '../../worker/framing.js';
import { findContract, IB_SIM_CONTRACTS, type SimContract, syntheticStocks } from './contracts.js';
import { ContractMarket } from './market.js';

/** TWS's limit: more client messages than this in one second closes the socket (after error 100). */
export const TWS_MAX_MESSAGES_PER_SECOND = 50;
const SIM_MAX_VERSION = 193;
const SIM_MIN_VERSION = 100;

export interface IbSimulatorOptions {
  readonly host?: string;
  /** 0 (default): a free port. */
  readonly port?: number;
  readonly seed?: number;
  /** Market steps per second per contract (default 10). */
  readonly rate?: number;
  /** Real milliseconds between 5-second bars (default 5000; tests shorten it). */
  readonly barEveryMs?: number;
  /** Stocks `T000` … added to the symbol table. */
  readonly syntheticStocks?: number;
  /** Symbols whose market data is refused with this entitlement error code (e.g. `{ MSFT: 354 }`). */
  readonly denied?: Readonly<Record<string, number>>;
}

type Kind = 'tbtLast' | 'tbtBidAsk' | 'mktData' | 'depth' | 'bars';

interface Sub {
  readonly client: Client;
  readonly reqId: number;
  readonly kind: Kind;
  readonly market: ContractMarket;
}

interface Client {
  readonly socket: Socket;
  version: number;
  clientId: number | undefined;
  /** Receive times of recent messages (pacing). */
  readonly recent: number[];
  /** 1100 in force: nothing is sent until it is restored. */
  paused: boolean;
  received: number;
}

export interface IbSimulatorStats {
  connections: number;
  messagesReceived: number;
  /** Most messages one client sent in any one second. */
  maxMessagesPerSecond: number;
  pacingViolations: number;
  duplicateClientIds: number;
  subscriptions: number;
  byType: Record<string, number>;
}

export interface IbSimulator {
  readonly wsUrl: string;
  readonly restUrl: string;
  readonly port: number;
  readonly stats: IbSimulatorStats;
  readonly faults: {
    /** 1100 to every client; then 1101 (subscriptions lost) or 1102 (kept) after `afterMs`. */
    connectivityLost(restore: 1101 | 1102, afterMs: number): void;
    /** 2103 farm broken (every market data subscription silently lost), then 2104 after `downMs`. */
    farmFlap(downMs: number): void;
    /** Stops (true) or restarts the market. */
    freeze(on: boolean): void;
    /** Closes every client socket. */
    closeAll(): void;
  };
  /** The simulated book of a symbol (best first), as price-level pairs. */
  book(symbol: string): { bids: [number, number][]; asks: [number, number][] };
  close(): Promise<void>;
}

export async function startIbSimulator(options: IbSimulatorOptions = {}): Promise<IbSimulator> {
  const seed = options.seed ?? 1;
  const table = [...IB_SIM_CONTRACTS, ...syntheticStocks(options.syntheticStocks ?? 0)];
  const markets = new Map<number, ContractMarket>();
  const marketOf = (c: SimContract): ContractMarket => {
    let m = markets.get(c.conId);
    if (m === undefined) {
      m = new ContractMarket(c, 10, seed);
      markets.set(c.conId, m);
    }
    return m;
  };
  const denied = options.denied ?? {};
  const clients = new Set<Client>();
  const subs = new Map<string, Sub>();
  const stats: IbSimulatorStats = {
    connections: 0,
    messagesReceived: 0,
    maxMessagesPerSecond: 0,
    pacingViolations: 0,
    duplicateClientIds: 0,
    subscriptions: 0,
    byType: {},
  };
  const bars = new Map<number, { open: number; high: number; low: number; close: number; volume: number; count: number }>();
  let barTime = Math.floor(Date.now() / 5000) * 5;

  const send = (client: Client, fields: (string | number)[]): void => {
    if (!client.socket.destroyed && !client.paused) client.socket.write(twsMessage(fields));
  };
  const error = (client: Client, id: number, code: number, text: string): void => {
    if (!client.socket.destroyed) client.socket.write(twsMessage([4, 2, id, code, text, '']));
  };
  const subKey = (client: Client, reqId: number) => `${client.socket.remotePort}:${reqId}`;

  const subscribe = (client: Client, reqId: number, kind: Kind, contract: SimContract): void => {
    const code = denied[contract.symbol];
    if (code !== undefined) {
      error(client, reqId, code, `Requested market data is not subscribed. ${contract.symbol} ${contract.exchange}`);
      return;
    }
    const market = marketOf(contract);
    subs.set(subKey(client, reqId), { client, reqId, kind, market });
    stats.subscriptions = subs.size;
    if (kind === 'depth') {
      for (const op of market.snapshotOps()) send(client, [12, 1, reqId, op.position, op.operation, op.side, op.price, op.size]);
    }
  };
  const unsubscribe = (client: Client, reqId: number): void => {
    subs.delete(subKey(client, reqId));
    stats.subscriptions = subs.size;
  };

  /** fields: conId, symbol, secType, expiry, strike, right, multiplier, exchange, primaryExch, currency at `at`. */
  const contractAt = (f: string[], at: number) => {
    const q = {
      conId: Number(f[at]) || 0,
      symbol: f[at + 1] ?? '',
      secType: f[at + 2] ?? '',
      expiry: f[at + 3] ?? '',
      exchange: f[at + 7] ?? '',
      currency: f[at + 9] ?? '',
    };
    return findContract(table, q);
  };

  const contractData = (client: Client, reqId: number, c: SimContract): (string | number)[] => {
    const f: (string | number)[] = [10, reqId, c.symbol, c.secType, c.expiry];
    if (client.version >= 182) f.push(c.expiry);
    f.push(0, '', c.exchange, c.currency, c.secType === 'CASH' ? `${c.symbol}.${c.currency}` : c.symbol, c.symbol, c.symbol, c.conId, c.minTick);
    f.push(c.secType === 'FUT' ? 50 : '', 'LMT,MKT', `SMART,${c.primaryExchange || c.exchange}`, 1, 0, c.longName, c.primaryExchange);
    f.push(c.expiry.slice(0, 6), '', '', '', 'US/Eastern', '', '', '', '', 0); // contractMonth … liquidHours, evRule, evMultiplier, secIdList count
    f.push(1, '', '', '26', '', c.secType === 'STK' ? 'COMMON' : '', 1, 1, 100); // aggGroup … suggestedSizeIncrement
    if (client.version >= 186) f.push(0); // ineligibility reasons
    return f;
  };

  const onMessage = (client: Client, f: string[]): void => {
    if (client.socket.destroyed) return;
    stats.messagesReceived++;
    client.received++;
    const now = performance.now();
    client.recent.push(now);
    while (client.recent.length > 0 && client.recent[0]! <= now - 1000) client.recent.shift();
    stats.maxMessagesPerSecond = Math.max(stats.maxMessagesPerSecond, client.recent.length);
    if (client.recent.length > TWS_MAX_MESSAGES_PER_SECOND) {
      stats.pacingViolations++;
      error(client, -1, 100, 'Max rate of messages per second has been exceeded:max=50 rec=51 (1)');
      client.socket.destroy();
      return;
    }
    const id = Number(f[0]);
    stats.byType[f[0] ?? ''] = (stats.byType[f[0] ?? ''] ?? 0) + 1;
    switch (id) {
      case 71: {
        const clientId = Number(f[2]);
        const taken = [...clients].some((c) => c !== client && c.clientId === clientId && !c.socket.destroyed);
        if (taken) {
          stats.duplicateClientIds++;
          error(client, -1, 326, 'Unable to connect as the client id is already in use. Retry with a unique client id.');
          client.socket.end();
          return;
        }
        client.clientId = clientId;
        send(client, [15, 1, 'DU1234567']);
        send(client, [9, 1, 1]);
        error(client, -1, 2104, 'Market data farm connection is OK:usfarm');
        error(client, -1, 2106, 'HMDS data farm connection is OK:ushmds');
        error(client, -1, 2158, 'Sec-def data farm connection is OK:secdefnj');
        return;
      }
      case 49:
        send(client, [49, 1, Math.floor(Date.now() / 1000)]);
        return;
      case 9: {
        const reqId = Number(f[2]);
        const c = contractAt(f, 3);
        if (c === undefined) {
          error(client, reqId, 200, 'No security definition has been found for the request');
          return;
        }
        send(client, contractData(client, reqId, c));
        send(client, [52, 1, reqId]);
        return;
      }
      case 97: {
        const reqId = Number(f[1]);
        const c = contractAt(f, 2);
        if (c === undefined) {
          error(client, reqId, 200, 'No security definition has been found for the request');
          return;
        }
        const type = f[14];
        if (type !== 'AllLast' && type !== 'BidAsk' && type !== 'Last') {
          error(client, reqId, 321, `Error validating request: tick type ${type}`);
          return;
        }
        subscribe(client, reqId, type === 'BidAsk' ? 'tbtBidAsk' : 'tbtLast', c);
        return;
      }
      case 1:
      case 10:
      case 50: {
        const reqId = Number(f[2]);
        const c = contractAt(f, 3);
        if (c === undefined) {
          error(client, reqId, 200, 'No security definition has been found for the request');
          return;
        }
        subscribe(client, reqId, id === 1 ? 'mktData' : id === 10 ? 'depth' : 'bars', c);
        return;
      }
      case 98:
        unsubscribe(client, Number(f[1]));
        return;
      case 2:
      case 11:
      case 51:
        unsubscribe(client, Number(f[2]));
        return;
      default:
        return;
    }
  };

  const tickTime = () => Math.floor(Date.now() / 1000);
  let frozen = false;
  const stepAll = (): void => {
    if (frozen) return;
    const live = new Set<ContractMarket>();
    for (const s of subs.values()) live.add(s.market);
    for (const m of live) {
      const ev = m.step();
      if (ev.trade) {
        const b = bars.get(m.contract.conId);
        const p = ev.trade.price;
        if (b === undefined) bars.set(m.contract.conId, { open: p, high: p, low: p, close: p, volume: ev.trade.size, count: 1 });
        else {
          b.high = Math.max(b.high, p);
          b.low = Math.min(b.low, p);
          b.close = p;
          b.volume += ev.trade.size;
          b.count++;
        }
      }
      for (const s of subs.values()) {
        if (s.market !== m) continue;
        const { client, reqId } = s;
        if (s.kind === 'tbtLast' && ev.trade) send(client, [99, reqId, 2, tickTime(), ev.trade.price, ev.trade.size, 0, m.contract.primaryExchange, '']);
        else if (s.kind === 'tbtBidAsk') send(client, [99, reqId, 3, tickTime(), ev.bid, ev.ask, ev.bidSize, ev.askSize, 0]);
        else if (s.kind === 'depth') for (const op of ev.depth) send(client, [12, 1, reqId, op.position, op.operation, op.side, op.price, op.size]);
        else if (s.kind === 'mktData') {
          send(client, [1, 6, reqId, 1, ev.bid, ev.bidSize, 0]);
          send(client, [1, 6, reqId, 2, ev.ask, ev.askSize, 0]);
          if (ev.trade) {
            send(client, [1, 6, reqId, 4, ev.trade.price, ev.trade.size, 0]);
            send(client, [2, 6, reqId, 8, m.volume]);
          }
        }
      }
    }
  };
  const emitBars = (): void => {
    for (const s of subs.values()) {
      if (s.kind !== 'bars') continue;
      const b = bars.get(s.market.contract.conId);
      const mid = (s.market.price(s.market.bids.px[0]!) + s.market.price(s.market.asks.px[0]!)) / 2;
      const bar = b ?? { open: mid, high: mid, low: mid, close: mid, volume: 0, count: 0 };
      send(s.client, [50, 3, s.reqId, barTime, bar.open, bar.high, bar.low, bar.close, bar.volume, bar.close, bar.count]);
    }
    bars.clear();
    barTime += 5;
  };
  const stepTimer = setInterval(stepAll, 1000 / (options.rate ?? 10));
  const barTimer = setInterval(emitBars, options.barEveryMs ?? 5000);

  const server: Server = createServer((socket) => {
    socket.setNoDelay(true);
    const client: Client = { socket, version: 0, clientId: undefined, recent: [], paused: false, received: 0 };
    clients.add(client);
    stats.connections++;
    const decoder = twsFraming.decoder(1 << 20);
    let head = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      try {
        if (client.version === 0) {
          head = Buffer.concat([head, chunk]);
          if (head.length < 8) return;
          if (head.toString('latin1', 0, 4) !== 'API\0') throw new Error('no API handshake');
          const len = head.readUInt32BE(4);
          if (head.length < 8 + len) return;
          const m = /^v(\d+)(?:\.\.(\d+))?/.exec(head.toString('latin1', 8, 8 + len));
          const max = m ? Number(m[2] ?? m[1]) : 0;
          const min = m ? Number(m[1]) : 0;
          const version = Math.min(max, SIM_MAX_VERSION);
          if (!m || version < Math.max(min, SIM_MIN_VERSION)) throw new Error('unsupported version range');
          client.version = version;
          socket.write(twsMessage([version, `${new Date().toISOString().slice(0, 19).replace(/[-T]/g, (c) => (c === 'T' ? ' ' : ''))} UTC`]));
          const rest = head.subarray(8 + len);
          head = Buffer.alloc(0);
          if (rest.length > 0) decoder.push(rest, (f) => onMessage(client, f));
          return;
        }
        decoder.push(chunk, (f) => onMessage(client, f));
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clients.delete(client);
      for (const [k, s] of subs) if (s.client === client) subs.delete(k);
      stats.subscriptions = subs.size;
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0, exclusive: true }, resolve);
  });
  const { port } = server.address() as { port: number };
  const host = options.host ?? '127.0.0.1';
  const timers: NodeJS.Timeout[] = [];

  return {
    wsUrl: `tcp://${host}:${port}`,
    restUrl: `http://${host}:${port}`,
    port,
    stats,
    faults: {
      connectivityLost(restore, afterMs) {
        for (const c of clients) error(c, -1, 1100, 'Connectivity between IB and Trader Workstation has been lost.');
        for (const c of clients) c.paused = true;
        timers.push(
          setTimeout(() => {
            for (const c of clients) {
              c.paused = false;
              if (restore === 1101) {
                for (const [k, s] of subs) if (s.client === c) subs.delete(k);
                error(c, -1, 1101, 'Connectivity between IB and TWS has been restored - data lost.');
              } else error(c, -1, 1102, 'Connectivity between IB and TWS has been restored - data maintained.');
            }
            stats.subscriptions = subs.size;
          }, afterMs),
        );
      },
      farmFlap(downMs) {
        for (const c of clients) error(c, -1, 2103, 'Market data farm connection is broken:usfarm');
        // What makes a flap dangerous: the farm comes back, the old requests do not.
        subs.clear();
        stats.subscriptions = 0;
        timers.push(setTimeout(() => {
          for (const c of clients) error(c, -1, 2104, 'Market data farm connection is OK:usfarm');
        }, downMs));
      },
      freeze(on) {
        frozen = on;
      },
      closeAll() {
        for (const c of clients) c.socket.destroy();
      },
    },
    book(symbol) {
      const m = [...markets.values()].find((x) => x.contract.symbol === symbol);
      if (m === undefined) return { bids: [], asks: [] };
      const side = (b: ContractMarket['bids']) => b.px.map((p, i): [number, number] => [m.price(p), b.qty[i]!]);
      return { bids: side(m.bids), asks: side(m.asks) };
    },
    async close() {
      clearInterval(stepTimer);
      clearInterval(barTimer);
      for (const t of timers) clearTimeout(t);
      for (const c of clients) c.socket.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
