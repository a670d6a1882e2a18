/**
 * The README's TypeScript examples, compiled and run against the build, so that they cannot rot.
 *
 * Convention for ```ts blocks in README.md (GitHub highlights them by the first word only):
 *   ```ts runnable=<name>   type-checked, then executed: it must exit 0 within RUN_DEADLINE_MS and its
 *                           stdout must match EXPECTED_OUTPUT[<name>] (every runnable block needs one)
 *   ```ts typecheck         type-checked only (live venues, fragments that do not end by themselves)
 *   ```ts                   neither
 * Blocks import `ringfeed` and `ringfeed/simulator` exactly as a user does: they are written to
 * dist/.readme-tmp/ (inside this package, so Node and tsc resolve the package's own name through
 * its `exports` map, i.e. to the built dist/), compiled there by tsc (strict, NodeNext, types from
 * @types/node only), and the emitted JavaScript is run by plain node.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TMP = join(ROOT, 'dist', '.readme-tmp');
const RUN_DEADLINE_MS = 20_000;

/** What each runnable block must print (stdout). */
const EXPECTED_OUTPUT: Record<string, RegExp[]> = {
  library: [
    /^state 1 connected/m,
    /^snapshot BTC\/USDT best bid \d/m,
    /^snapshot ETH\/USDT best bid \d/m,
    /^BTC\/USDT synced true bid \d+(\.\d+)? ask \d/m,
    /^trades \d+ last quote \d/m,
    /"p99":/,
  ],
  simulator: [/^simulator on ws:\/\/127\.0\.0\.1:\d+ http:\/\/127\.0\.0\.1:\d+$/m, /^reconnects 1 /m, /"framesSent":[1-9]/],
};

interface Block {
  kind: 'runnable' | 'typecheck';
  name: string;
  line: number;
  code: string;
}

function readmeBlocks(): Block[] {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```ts (runnable=([a-z0-9-]+)|typecheck)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.indexOf('```', i + 1);
    if (end < 0) throw new Error(`README.md:${i + 1}: code block never closed`);
    const kind = open[2] ? 'runnable' : 'typecheck';
    blocks.push({ kind, name: open[2] ?? `typecheck-${i + 1}`, line: i + 1, code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

function run(file: string, args: string[], timeout: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RINGFEED_')));
    execFile(file, args, { cwd: TMP, timeout, killSignal: 'SIGKILL', env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const blocks = readmeBlocks();
const runnable = blocks.filter((b) => b.kind === 'runnable');

describe('README examples', () => {
  let compiled: { code: number | null; stdout: string; stderr: string };

  beforeAll(async () => {
    for (const f of ['index.js', 'index.d.ts', 'simulator/index.js', 'simulator/index.d.ts']) {
      const path = join(ROOT, 'dist', 'src', f);
      if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` (npm test does)`);
    }
    rmSync(TMP, { recursive: true, force: true });
    mkdirSync(TMP, { recursive: true });
    for (const b of blocks) writeFileSync(join(TMP, `${b.name}.ts`), `// README.md:${b.line}\n${b.code}\n`);
    writeFileSync(
      join(TMP, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023'],
          types: ['node'],
          strict: true,
          // Our own declaration files are checked too, as a user's project without skipLibCheck would.
          skipLibCheck: false,
          outDir: 'out',
          rootDir: '.',
        },
        include: ['*.ts'],
      }),
    );
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    compiled = await run(process.execPath, [tsc, '-p', 'tsconfig.json', '--pretty', 'false'], 120_000);
  }, 150_000);

  afterAll(() => rmSync(TMP, { recursive: true, force: true }));

  it('has runnable and type-checked blocks, each runnable one with an expected output', () => {
    expect(runnable.map((b) => b.name).sort()).toEqual(Object.keys(EXPECTED_OUTPUT).sort());
    expect(blocks.some((b) => b.kind === 'typecheck')).toBe(true);
    expect(new Set(blocks.map((b) => b.name)).size).toBe(blocks.length);
  });

  it('type-checks every marked block (strict, NodeNext)', () => {
    // tsc names `<block>.ts(line,col)`; line 1 is the header, so block line n is README line start + n - 1.
    const errors = `${compiled.stdout}${compiled.stderr}`.replace(/^([a-z0-9-]+)\.ts\((\d+),(\d+)\)/gm, (all, name, line, col) => {
      const block = blocks.find((b) => b.name === name);
      return block ? `README.md:${block.line + Number(line) - 1}:${col}` : all;
    });
    expect(errors).toBe('');
    expect(compiled.code).toBe(0);
  });

  for (const block of runnable) {
    let result: Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> | undefined;
    /** Each example runs once; its tests share the result. */
    const runBlock = () => {
      result ??= (async () => {
        const started = Date.now();
        const out = await run(process.execPath, [join(TMP, 'out', `${block.name}.js`)], RUN_DEADLINE_MS);
        return { ...out, ms: Date.now() - started };
      })();
      return result;
    };
    const detail = (r: Awaited<ReturnType<typeof runBlock>>) =>
      `exit ${r.code} after ${r.ms} ms\nstdout:\n${r.stdout}\nstderr:\n${r.stderr.slice(-4000)}`;

    it(`runs the "${block.name}" example (README.md:${block.line}) to exit 0 with its output`, async () => {
      expect(compiled.code, 'the examples did not compile').toBe(0);
      const r = await runBlock();
      expect(r.code, detail(r)).toBe(0);
      for (const pattern of EXPECTED_OUTPUT[block.name]!) expect(r.stdout, detail(r)).toMatch(pattern);
    }, RUN_DEADLINE_MS + 5_000);

    it(`the "${block.name}" example logs no error (pino level >= 50) on its way, close included`, async () => {
      expect(compiled.code, 'the examples did not compile').toBe(0);
      const r = await runBlock();
      const errors = r.stderr.split('\n').filter((l) => /^\{"level":(50|60),/.test(l));
      expect(errors, detail(r)).toEqual([]);
    }, RUN_DEADLINE_MS + 5_000);
  }
});
