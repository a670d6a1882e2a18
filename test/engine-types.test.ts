import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

// test/types/engine-events.ts marks each misuse of the engine's typed API with @ts-expect-error:
// tsc fails if one of them compiles (wrong event name, wrong payload, wrong side, plural type),
// and fails if a correct use does not.
it('the engine API is typed: wrong event names, payloads, sides and record types do not compile', async () => {
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  const run = promisify(execFile)(process.execPath, [tsc, '-p', 'test/types/tsconfig.json'], { cwd: root });
  await expect(run).resolves.toBeDefined();
}, 60_000);
