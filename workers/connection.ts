/**
 * Piscina task file for native venues (loaded by path by the engine): the venue's transport,
 * `src/worker/ws-task.ts` for WebSocket venues, `src/worker/tcp-task.ts` for TCP venues.
 */

import { getVenue } from '../src/venues/registry.js';
import type { ConnectionResult, ConnectionTask } from '../src/worker/protocol.js';
import { runTcpTask } from '../src/worker/tcp-task.js';
import { runWsTask } from '../src/worker/ws-task.js';

export default function runConnection(task: ConnectionTask): Promise<ConnectionResult> {
  const adapter = getVenue(task.venue, 'native');
  if (adapter.transport === 'tcp') return runTcpTask(task, adapter);
  if (adapter.transport === 'ccxt') throw new Error(`${task.venue} runs in the ccxt worker`);
  return runWsTask(task, adapter);
}
