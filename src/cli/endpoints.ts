import { checkRestUrl, checkWsUrl, type VenueEndpoints } from '../engine/options.js';

/**
 * The endpoints `--url` / `--rest-url` configure, checked and named as CLI options; nothing
 * else. With `--url` alone the engine takes the REST base from the same origin (http/https),
 * so REST requests never go to the venue's production host; with neither, the engine uses
 * `RINGFEED_<VENUE>_WS_URL` / `_REST_URL`, else the live venue.
 */
export function cliEndpoints(url: string | undefined, restUrl: string | undefined): Pick<VenueEndpoints, 'wsUrl' | 'restUrl'> {
  return {
    ...(url === undefined ? {} : { wsUrl: checkWsUrl(url, '--url') }),
    ...(restUrl === undefined ? {} : { restUrl: checkRestUrl(restUrl, '--rest-url') }),
  };
}
