import { checkRestUrl, checkWsUrl, type VenueEndpoints } from '../config.js';

/**
 * The REST base that goes with a WebSocket URL: its origin over http(s). Every simulator and
 * replay server serves both on one port, so `--url` alone must never leave REST requests
 * (depth snapshots, ccxt market loading) to the venue's production host.
 */
export function restBaseOf(wsUrl: string): string {
  const url = new URL(wsUrl);
  return `${url.protocol === 'wss:' ? 'https:' : 'http:'}//${url.host}`;
}

/** The endpoints `--url` / `--rest-url` configure; empty when neither is given (env or live venue). */
export function cliEndpoints(url: string | undefined, restUrl: string | undefined): Pick<VenueEndpoints, 'wsUrl' | 'restUrl'> {
  const wsUrl = url === undefined ? undefined : checkWsUrl(url, '--url');
  const rest = restUrl === undefined ? undefined : checkRestUrl(restUrl, '--rest-url');
  if (wsUrl === undefined) return rest === undefined ? {} : { restUrl: rest };
  return { wsUrl, restUrl: rest ?? restBaseOf(wsUrl) };
}
