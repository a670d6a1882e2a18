/**
 * Piscina task file for ccxt venues (loaded by path by the engine): the ccxt transport of
 * `src/worker/ccxt-task.ts`. ccxt is imported here only, lazily, once per worker thread.
 */
import type { CcxtModule } from '../src/venues/ccxt/types.js';
import { runCcxtTask } from '../src/worker/ccxt-task.js';
import type { ConnectionResult, ConnectionTask } from '../src/worker/protocol.js';

let ccxtLoading: Promise<CcxtModule> | undefined;

function loadCcxt(): Promise<CcxtModule> {
  ccxtLoading ??= import('ccxt').then((m) => ((m as { default?: unknown }).default ?? m) as CcxtModule);
  return ccxtLoading;
}

export default function runCcxtConnection(task: ConnectionTask): Promise<ConnectionResult> {
  return runCcxtTask(task, loadCcxt);
}
