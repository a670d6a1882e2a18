/**
 * A loopback front for the Binance simulator so that an unmodified ccxt `binance` can use it:
 * it answers the REST documents ccxt needs at start and the simulator lacks (`exchangeInfo`
 * for `loadMarkets`, given by the caller, e.g. the recorded one), and proxies everything else,
 * REST and WebSocket, to the simulator. ccxt opens `/ws/<n>` (n = its stream-slot index) and
 * subscribes with SUBSCRIBE frames; the simulator takes path segments as stream names, so the
 * proxy maps `/ws/<digits>` to `/ws`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

export interface CcxtFrontOptions {
  /** Simulator endpoints to proxy to. */
  readonly upstreamWsUrl: string;
  readonly upstreamRestUrl: string;
  /** Exact request paths (no query) answered locally: path → JSON body. */
  readonly documents: Readonly<Record<string, string>>;
  readonly host?: string;
}

export interface CcxtFront {
  readonly wsUrl: string;
  readonly restUrl: string;
  /** Open proxied WebSocket pairs. */
  connections(): number;
  /** REST paths requested, in order (for tests). */
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startCcxtFront(opts: CcxtFrontOptions): Promise<CcxtFront> {
  const host = opts.host ?? '127.0.0.1';
  const requests: string[] = [];
  const pairs = new Set<{ client: WebSocket; upstream: WebSocket }>();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const path = url.split('?')[0]!;
    requests.push(path);
    const doc = Object.hasOwn(opts.documents, path) ? opts.documents[path] : undefined;
    if (doc !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(doc);
      return;
    }
    fetch(opts.upstreamRestUrl + url, { method: req.method })
      .then(async (up) => {
        const body = Buffer.from(await up.arrayBuffer());
        res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' }).end(body);
      })
      .catch((err: Error) => res.writeHead(502).end(JSON.stringify({ msg: err.message })));
  });

  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (client, req) => {
    // ccxt keeps the original host as a first segment where its URLs would collide (see ccxt-urls.ts).
    const url = (req.url ?? '/').replace(/^\/[^/]*\.[^/]*(?=\/)/, '').replace(/^\/ws\/[0-9]+(?=$|\?)/, '/ws');
    const upstream = new WebSocket(opts.upstreamWsUrl + url, { perMessageDeflate: false });
    const pair = { client, upstream };
    pairs.add(pair);
    const pending: Array<{ data: WebSocket.RawData; binary: boolean }> = [];
    upstream.on('open', () => {
      for (const m of pending) upstream.send(m.data, { binary: m.binary });
      pending.length = 0;
    });
    upstream.on('message', (data, binary) => {
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary });
    });
    client.on('message', (data, binary) => {
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary });
      else pending.push({ data, binary });
    });
    const closeBoth = (code?: number) => {
      pairs.delete(pair);
      const c = code !== undefined && code >= 1000 && code < 5000 && code !== 1005 && code !== 1006 ? code : 1001;
      if (client.readyState === WebSocket.OPEN) client.close(c);
      else client.terminate();
      if (upstream.readyState === WebSocket.OPEN) upstream.close(c);
      else upstream.terminate();
    };
    upstream.on('close', (code) => closeBoth(code));
    upstream.on('error', () => closeBoth());
    client.on('close', (code) => closeBoth(code));
    client.on('error', () => closeBoth());
  });

  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    wsUrl: `ws://${host}:${port}`,
    restUrl: `http://${host}:${port}`,
    connections: () => pairs.size,
    requests,
    async close() {
      for (const { client, upstream } of pairs) {
        client.terminate();
        upstream.terminate();
      }
      pairs.clear();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
