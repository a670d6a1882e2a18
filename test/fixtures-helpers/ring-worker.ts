import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Start a worker thread running a TypeScript file.
 *
 * `execArgv: ['--import', 'tsx']` does not work for worker entry points on Node 20 (the
 * loader hooks are not applied to the worker's main module: ERR_UNKNOWN_FILE_EXTENSION), so
 * the worker starts from a tiny CommonJS eval script that registers tsx's ESM hooks through
 * its API, then imports the .ts file.
 */
export function startTsWorker(file: string, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const boot = [
    `require('node:module').createRequire(${JSON.stringify(file)})('tsx/esm/api').register();`,
    `import(${JSON.stringify(pathToFileURL(file).href)}).catch((err) => { throw err; });`,
  ].join('\n');
  return new Worker(boot, { ...options, eval: true });
}
