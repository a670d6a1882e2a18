/**
 * A loopback server that replays recorded ccxt WebSocket sessions (`ccxt-ws/<venue>.json`
 * cases) to a real ccxt client. When a client frame matches a case's recorded subscribe frame
 * (all keys but the request id), the case's recorded messages are sent in order, paced, with the
 * recorded request id replaced by the client's. Messages recorded before the ack (KuCoin's
 * `welcome`) are sent on connect. BingX sends gzip-compressed binary frames: `gzip` re-compresses.
 * REST documents (KuCoin's token endpoint) are answered from a path → body table, with the
 * string `{{wsUrl}}` replaced by this server's WebSocket URL.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import WebSocket, { WebSocketServer } from 'ws';

export interface ReplayCase {
  /** The subscribe frame ccxt sent when the case was recorded. */
  readonly sent: Record<string, unknown>;
  /** Frames the venue sent, decoded, in order. */
  readonly messages: readonly unknown[];
  /** Keys of `sent` that hold the request id (default `id`). */
  readonly idKeys?: readonly string[];
}

export interface ReplayServerOptions {
  readonly cases: readonly ReplayCase[];
  /** Path → JSON body for REST requests (any method). */
  readonly rest?: Readonly<Record<string, string>>;
  /** Send frames as gzip-compressed binary (BingX). */
  readonly gzip?: boolean;
  /** Delay between replayed frames, ms (default 25): each lands in its own socket read. */
  readonly paceMs?: number;
  readonly host?: string;
  /** Listening port (default 0: any free port). */
  readonly port?: number;
}

export interface ReplayServer {
  readonly wsUrl: string;
  readonly restUrl: string;
  /** Client frames that matched no case. */
  readonly unmatched: string[];
  /** Cases replayed so far (indexes into `cases`). */
  readonly replayed: number[];
  close(): Promise<void>;
}

function sameExceptIds(a: Record<string, unknown>, b: Record<string, unknown>, idKeys: readonly string[]): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    if (idKeys.includes(k)) continue;
    if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) return false;
  }
  return true;
}

/** Index of the first message that acknowledges the recorded request (carries its id). */
function ackIndex(c: ReplayCase): number {
  const idKeys = c.idKeys ?? ['id'];
  return c.messages.findIndex(
    (m) => typeof m === 'object' && m !== null && idKeys.some((k) => (m as Record<string, unknown>)[k] === c.sent[k]),
  );
}

/**
 * Listens on host:port; a listen error (EADDRINUSE, EACCES, …) rejects with an Error naming
 * host:port instead of reaching `wss` as an unhandled 'error' event (which would crash the process).
 */
function listen(server: Server, wss: WebSocketServer, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      wss.off('error', ignore);
      wss.close();
      reject(new Error(`replay server: cannot listen on ${host}:${port} (${err.code ?? err.message})`, { cause: err }));
    };
    const onListening = (): void => {
      server.off('error', onError);
      wss.off('error', ignore);
      resolve();
    };
    // `ws` re-emits the server's errors on `wss`; while listening, `onError` answers them.
    const ignore = (): void => {};
    wss.on('error', ignore);
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

export async function startReplayServer(opts: ReplayServerOptions): Promise<ReplayServer> {
  const host = opts.host ?? '127.0.0.1';
  const pace = opts.paceMs ?? 25;
  const unmatched: string[] = [];
  const replayed: number[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let wsUrl = '';

  const server = createServer((req, res) => {
    // A leading `/<host>` segment (ccxt-urls.ts keeps colliding hosts apart that way) is ignored.
    const path = (req.url ?? '/').split('?')[0]!.replace(/^\/[^/]*\.[^/]*(?=\/)/, '');
    const body = opts.rest && Object.hasOwn(opts.rest, path) ? opts.rest[path] : undefined;
    req.resume();
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(`{"msg":"no recorded response for ${path}"}`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(body.replaceAll('{{wsUrl}}', wsUrl));
  });

  const encode = (m: unknown): { data: string | Buffer; binary: boolean } => {
    const text = JSON.stringify(m);
    return opts.gzip ? { data: gzipSync(text), binary: true } : { data: text, binary: false };
  };

  const sendPaced = (ws: WebSocket, frames: unknown[]) => {
    let i = 0;
    const next = () => {
      if (i >= frames.length || ws.readyState !== WebSocket.OPEN) return;
      const { data, binary } = encode(frames[i++]);
      ws.send(data, { binary });
      const t = setTimeout(() => {
        timers.delete(t);
        next();
      }, pace);
      timers.add(t);
    };
    next();
  };

  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    // Greetings (frames recorded before any ack, e.g. KuCoin's welcome) go out on connect, once.
    const greeting = opts.cases.length > 0 ? opts.cases[0]!.messages.slice(0, Math.max(0, ackIndex(opts.cases[0]!))) : [];
    for (const m of greeting) {
      const { data, binary } = encode(m);
      ws.send(data, { binary });
    }
    ws.on('message', (raw) => {
      const text = raw.toString();
      let frame: unknown;
      try {
        frame = JSON.parse(text);
      } catch {
        unmatched.push(text);
        return;
      }
      if (typeof frame !== 'object' || frame === null) {
        unmatched.push(text);
        return;
      }
      const sent = frame as Record<string, unknown>;
      if (sent.type === 'ping') {
        // KuCoin's application-level keep-alive: without the pong ccxt drops the socket after ~1 min.
        const { data, binary } = encode({ id: sent.id, type: 'pong' });
        ws.send(data, { binary });
        return;
      }
      const index = opts.cases.findIndex((c) => sameExceptIds(c.sent, sent, c.idKeys ?? ['id']));
      if (index < 0) {
        unmatched.push(text);
        return;
      }
      replayed.push(index);
      const c = opts.cases[index]!;
      const idKeys = c.idKeys ?? ['id'];
      const start = Math.max(0, ackIndex(c));
      const frames = c.messages.slice(start).map((m) => {
        if (typeof m !== 'object' || m === null) return m;
        const copy = { ...(m as Record<string, unknown>) };
        for (const k of idKeys) if (k in copy && copy[k] === c.sent[k]) copy[k] = sent[k];
        return copy;
      });
      sendPaced(ws, frames);
    });
  });

  await listen(server, wss, host, opts.port ?? 0);
  const { port } = server.address() as AddressInfo;
  wsUrl = `ws://${host}:${port}`;
  return {
    wsUrl,
    restUrl: `http://${host}:${port}`,
    unmatched,
    replayed,
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
