import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** file: URL of tsx's ESM API module (`tsx/esm/api`, import condition), from its exports map. */
function tsxEsmApiUrl(from: string): string {
  const pkgJson = createRequire(from).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgJson, 'utf8')) as {
    exports: Record<string, { import: { default: string } }>;
  };
  return pathToFileURL(join(dirname(pkgJson), pkg.exports['./esm/api'].import.default)).href;
}

/**
 * Start a worker thread running a TypeScript file.
 *
 * On Node 20, `execArgv: ['--import', 'tsx']` does not apply tsx's hooks to a worker's entry
 * module (ERR_UNKNOWN_FILE_EXTENSION), and tsx's CommonJS API build fails to register inside a
 * worker. So the worker starts from a tiny eval script that registers the hooks through tsx's
 * ESM API and then imports the .ts file.
 */
export function startTsWorker(file: string, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const boot = `import(${JSON.stringify(tsxEsmApiUrl(file))})
  .then((tsx) => { tsx.register(); return import(${JSON.stringify(pathToFileURL(file).href)}); });`;
  return new Worker(boot, { ...options, eval: true });
}
