/**
 * The endpoints a connection uses. Only hosts the user named are contacted: the option, else
 * the environment variable, else the venue's production endpoint — and a WebSocket endpoint
 * given without a REST one (a simulator, a proxy) gets its REST requests at the same origin,
 * never at the venue's production REST host.
 */
import type { VenueAdapter } from '../venues/contract.js';
import { checkRestUrl, checkWsUrl, type VenueEndpoints } from './options.js';

export interface ResolvedEndpoints {
  readonly wsUrl: string;
  readonly restUrl: string;
}

export function resolveEndpoints(
  adapter: VenueAdapter,
  configured: VenueEndpoints,
  env: NodeJS.ProcessEnv,
): ResolvedEndpoints {
  const wsEnv = env[adapter.wsUrlEnv];
  const restEnv = env[adapter.restUrlEnv];
  const wsUrl = configured.wsUrl ?? (wsEnv ? checkWsUrl(wsEnv, adapter.wsUrlEnv, adapter.transport === 'tcp') : undefined);
  const restUrl = configured.restUrl ?? (restEnv ? checkRestUrl(restEnv, adapter.restUrlEnv) : undefined);
  return {
    wsUrl: wsUrl ?? adapter.defaultWsUrl,
    restUrl: restUrl ?? (wsUrl === undefined ? adapter.defaultRestUrl : restOrigin(wsUrl)),
  };
}

/** `ws://host:port/path` → `http://host:port` (wss → https). */
export function restOrigin(wsUrl: string): string {
  const url = new URL(wsUrl);
  return `${url.protocol === 'wss:' ? 'https:' : 'http:'}//${url.host}`;
}
