/**
 * Points a ccxt exchange at configured endpoints: every WebSocket URL in `urls.api` gets the
 * configured wsUrl's origin (and path prefix), every HTTP URL the restUrl's. ccxt's paths are
 * kept, so one base URL serves all of a venue's endpoints (spot, swap, …), as a loopback
 * simulator or a proxy would. Where two different ccxt URLs would become the same one (BingX
 * spot `open-api-ws…/market` and Coin-M `open-api-cswap-ws…/market`; Binance spot and futures
 * `/ws`), each keeps its original host as a first path segment (`/<host>/market`): ccxt tells
 * streams apart by URL. Empty overrides leave ccxt's own URLs.
 */

const ABSOLUTE = /^(wss?|https?):\/\/([^/]+)/;

function collect(node: unknown, out: string[]): void {
  if (typeof node === 'string') out.push(node);
  else if (Array.isArray(node)) for (const n of node) collect(n, out);
  else if (typeof node === 'object' && node !== null) for (const v of Object.values(node)) collect(v, out);
}

function plain(url: string, wsBase: string, restBase: string): string | undefined {
  const m = ABSOLUTE.exec(url);
  if (m === null) return undefined;
  const base = m[1] === 'ws' || m[1] === 'wss' ? wsBase : restBase;
  return base === '' ? undefined : base + url.slice(m[0].length);
}

/** Rewrites `urls.api` in place; returns it. */
export function overrideUrls(urls: { api?: unknown }, wsUrl: string, restUrl: string): unknown {
  const wsBase = wsUrl.replace(/\/+$/, '');
  const restBase = restUrl.replace(/\/+$/, '');
  if (wsBase === '' && restBase === '') return urls.api;
  const all: string[] = [];
  collect(urls.api, all);
  const sources = new Map<string, Set<string>>();
  for (const u of new Set(all)) {
    const p = plain(u, wsBase, restBase);
    if (p !== undefined) sources.set(p, (sources.get(p) ?? new Set()).add(u));
  }
  const rewrite = (url: string): string => {
    const p = plain(url, wsBase, restBase);
    if (p === undefined) return url;
    if (sources.get(p)!.size === 1) return p;
    const m = ABSOLUTE.exec(url)!;
    const base = m[1] === 'ws' || m[1] === 'wss' ? wsBase : restBase;
    return `${base}/${m[2]}${url.slice(m[0].length)}`;
  };
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return rewrite(node);
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node === 'object' && node !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) out[k] = walk(v);
      return out;
    }
    return node;
  };
  urls.api = walk(urls.api);
  return urls.api;
}
