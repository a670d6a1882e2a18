/**
 * A network guard for tests: refuses, and records, every attempt to reach a host that is not
 * loopback (127.0.0.0/8, ::1, localhost) — TCP and TLS connects, DNS lookups and queries, and
 * `fetch` — before any packet is sent.
 *
 * Load it with `NODE_OPTIONS=--require=<this file>`: on Node 20 `--import` preloads do not run
 * in worker threads, while `--require` from NODE_OPTIONS runs in every thread, including
 * piscina workers started with `execArgv: []`, and in child processes.
 *
 * RINGFEED_NET_GUARD_LOG (required): file that gets one JSON line per refused attempt.
 * RINGFEED_NET_GUARD_LOADED (optional): file that gets one JSON line per thread the guard
 * loaded in, so a test can prove it reached the worker threads.
 */
'use strict';
const dns = require('node:dns');
const fs = require('node:fs');
const net = require('node:net');
const tls = require('node:tls');
const { syncBuiltinESMExports } = require('node:module');
const { threadId } = require('node:worker_threads');

const LOG = process.env.RINGFEED_NET_GUARD_LOG;
if (!LOG) throw new Error('net-guard: set RINGFEED_NET_GUARD_LOG to the file that records refused connections');

function note(file, entry) {
  fs.appendFileSync(file, `${JSON.stringify({ pid: process.pid, threadId, ...entry })}\n`);
}

if (process.env.RINGFEED_NET_GUARD_LOADED) note(process.env.RINGFEED_NET_GUARD_LOADED, { loaded: true });

function isLoopback(host) {
  // net.connect without a host connects to localhost.
  if (host === undefined || host === null || host === '') return true;
  const h = String(host).replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || h === '0:0:0:0:0:0:0:1' || h.startsWith('::ffff:127.');
  return false;
}

function refuse(via, host, port) {
  note(LOG, { via, host: String(host), port: port === undefined ? undefined : String(port) });
  const err = new Error(`net-guard: refused ${via} to ${host}${port === undefined ? '' : `:${port}`} (not loopback)`);
  err.code = 'ECONNREFUSED';
  return err;
}

/** host/port of net/tls connect arguments: (options), (port, host), (path), or net's normalized [options, cb]. */
function target(args) {
  let first = args[0];
  if (Array.isArray(first)) first = first[0];
  if (first !== null && typeof first === 'object') return { path: first.path, host: first.host, port: first.port };
  if (typeof first === 'string' && Number.isNaN(Number(first))) return { path: first };
  return { host: typeof args[1] === 'string' ? args[1] : undefined, port: first };
}

const socketConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  const t = target(args);
  if (t.path === undefined && !isLoopback(t.host)) {
    const err = refuse('net.Socket.connect', t.host, t.port);
    process.nextTick(() => this.destroy(err));
    return this;
  }
  return socketConnect.apply(this, args);
};

const tlsConnect = tls.connect;
tls.connect = function guardedTlsConnect(...args) {
  const t = target(args);
  const options = args.find((a) => a !== null && typeof a === 'object') ?? {};
  // With an already-connected `socket` option, the socket's own connect was checked.
  if (t.path === undefined && options.socket === undefined && !isLoopback(t.host)) refuse('tls.connect', t.host, t.port);
  return tlsConnect.apply(this, args);
};

const lookup = dns.lookup;
dns.lookup = function guardedLookup(hostname, ...rest) {
  if (isLoopback(hostname)) return lookup.call(this, hostname, ...rest);
  const err = refuse('dns.lookup', hostname);
  err.code = 'ENOTFOUND';
  const callback = rest.at(-1);
  if (typeof callback === 'function') process.nextTick(() => callback(err));
  return {};
};

const promisesLookup = dns.promises.lookup;
dns.promises.lookup = function guardedPromisesLookup(hostname, ...rest) {
  if (isLoopback(hostname)) return promisesLookup.call(this, hostname, ...rest);
  const err = refuse('dns.promises.lookup', hostname);
  err.code = 'ENOTFOUND';
  return Promise.reject(err);
};

// Queries go to the configured DNS servers whatever the name: all are refused.
for (const name of ['resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveCname', 'resolveTxt', 'resolveSrv', 'reverse']) {
  dns[name] = (hostname, ...rest) => {
    const err = refuse(`dns.${name}`, hostname);
    const callback = rest.at(-1);
    if (typeof callback === 'function') process.nextTick(() => callback(err));
  };
  dns.promises[name] = (hostname) => Promise.reject(refuse(`dns.promises.${name}`, hostname));
}

if (typeof globalThis.fetch === 'function') {
  const fetch = globalThis.fetch;
  globalThis.fetch = function guardedFetch(input, init) {
    const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input?.url;
    let url;
    try {
      url = new URL(href);
    } catch {
      return fetch.call(this, input, init); // fetch reports the bad URL itself
    }
    if (!isLoopback(url.hostname)) return Promise.reject(refuse('fetch', url.hostname, url.port || (url.protocol === 'https:' ? '443' : '80')));
    return fetch.call(this, input, init);
  };
}

// ESM `import { connect } from 'node:net'` bindings see the guarded functions too.
syncBuiltinESMExports();
