import { checkRestUrl, checkWsUrl, type VenueEndpoints } from '../engine/options.js';
import type { VenueAdapter } from '../venues/contract.js';
import { badArgument, port } from './args.js';

/**
 * The endpoints `--url` / `--rest-url` configure, checked and named as CLI options; nothing
 * else. With `--url` alone the engine takes the REST base from the same origin (http/https),
 * so REST requests never go to the venue's production host; with neither, the engine uses
 * `RINGFEED_<VENUE>_WS_URL` / `_REST_URL`, else the live venue. A TCP venue's `--url` is
 * `tcp://host:port` (the same endpoint `--host`/`--port` spell in parts).
 */
export function cliEndpoints(
  url: string | undefined,
  restUrl: string | undefined,
  adapter?: Pick<VenueAdapter, 'transport'>,
): Pick<VenueEndpoints, 'wsUrl' | 'restUrl'> {
  return {
    ...(url === undefined ? {} : { wsUrl: checkWsUrl(url, '--url', adapter?.transport === 'tcp') }),
    ...(restUrl === undefined ? {} : { restUrl: checkRestUrl(restUrl, '--rest-url') }),
  };
}

/**
 * `stream --host H --port N` for a TCP venue (Futu OpenD, TWS): its endpoint `tcp://H:N`, each
 * part the venue's default when not given. Undefined when neither is given; refused for a
 * WebSocket venue (which takes `--url`) and together with `--url`.
 */
export function tcpEndpoint(
  adapter: VenueAdapter,
  options: { host?: string; port?: string; url?: string },
): Pick<VenueEndpoints, 'wsUrl'> | undefined {
  if (options.host === undefined && options.port === undefined) return undefined;
  if (adapter.transport !== 'tcp') throw badArgument(`--host/--port apply to TCP venues; ${adapter.id} takes --url`);
  if (options.url !== undefined) throw badArgument('give either --url or --host/--port, not both');
  const fallback = new URL(adapter.defaultWsUrl);
  const host = options.host ?? fallback.hostname;
  if (!/^[A-Za-z0-9.:\-[\]]+$/.test(host)) throw badArgument(`--host must be a host name or address; got ${JSON.stringify(host)}`);
  const n = port(options.port ?? fallback.port);
  if (n === 0) throw badArgument('--port must name the venue\'s port (1–65535); got 0');
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return { wsUrl: checkWsUrl(`tcp://${bracketed}:${n}`, '--host/--port', true) };
}
