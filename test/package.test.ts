/**
 * What `npm pack` would publish, and what importing the package loads. Both use the build
 * (`npm test` makes it first); imports go through the package's own name, i.e. its `exports` map.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  license: string;
  exports: Record<string, string | Record<string, string>>;
  bin: Record<string, string>;
};

function exec(file: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: ROOT, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

function requireBuild(): void {
  for (const f of ['dist/src/index.js', 'dist/src/simulator/index.js', 'dist/workers/connection.js']) {
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run \`npm run build\` (npm test does)`);
  }
}

describe('published tarball', () => {
  let files: string[] = [];

  beforeAll(async () => {
    requireBuild();
    // --ignore-scripts: `prepack` would rebuild dist/ from scratch under the other test files' feet.
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const packed = await exec(npm, ['pack', '--dry-run', '--json', '--ignore-scripts']);
    expect(packed.code, packed.stderr).toBe(0);
    const [entry] = JSON.parse(packed.stdout) as { files: { path: string }[] }[];
    files = entry!.files.map((f) => f.path).sort();
  }, 90_000);

  it('holds only the build of src/ and workers/, README, LICENSE, the vendored protos\' NOTICE and package.json', () => {
    const kept = ['README.md', 'LICENSE', 'package.json', 'vendor/futu-proto/NOTICE.md'];
    const stray = files.filter((f) => !/^dist\/(src|workers)\/.+\.(js|d\.ts)$/.test(f) && !kept.includes(f));
    expect(stray).toEqual([]);
    expect(files.filter((f) => f.startsWith('dist/bench/') || f.startsWith('dist/test/'))).toEqual([]);
    for (const f of [...kept, 'dist/workers/connection.js', 'dist/workers/ccxt-connection.js']) {
      expect(files).toContain(f);
    }
  });

  it('ships every export target, the bin and the worker entries, each .js with its .d.ts', () => {
    const targets = Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)));
    expect(targets).toContain('./dist/src/simulator/index.js');
    for (const t of [...targets, ...Object.values(pkg.bin)]) expect(files).toContain(t.replace(/^\.\//, ''));
    const js = files.filter((f) => f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(50);
    for (const f of js) expect(files).toContain(f.replace(/\.js$/, '.d.ts'));
  });

  it('ships no source map whose sources are not shipped too', () => {
    // The build emits none; a stale one from an older build must not be packed either.
    for (const map of files.filter((f) => f.endsWith('.map'))) {
      const { sources } = JSON.parse(readFileSync(join(ROOT, map), 'utf8')) as { sources: string[] };
      for (const s of sources) expect(files).toContain(join(map, '..', s));
    }
    expect(files.some((f) => f.endsWith('.tsbuildinfo') || f.endsWith('.build-stamp'))).toBe(false);
  });

  it('has a LICENSE matching package.json', () => {
    expect(pkg.license).toBe('MIT');
    const text = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(text).toMatch(/^MIT License\n\nCopyright \(c\) 2026 ringfeed contributors\n/);
    expect(text).toContain('THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND');
  });
});

describe('entry points', () => {
  /** Imports `specifier` in a fresh node: its export names and the shared objects (native addons) then loaded. */
  async function importFresh(specifier: string): Promise<{ exports: string[]; shared: string[] }> {
    const script = `const m = await import(${JSON.stringify(specifier)});
console.log(JSON.stringify({ exports: Object.keys(m), shared: process.report.getReport().sharedObjects }));`;
    const out = await exec(process.execPath, ['--input-type=module', '-e', script]);
    expect(out.code, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout) as { exports: string[]; shared: string[] };
    expect(result.shared.length).toBeGreaterThan(0); // the report does list shared objects here
    return result;
  }

  beforeAll(requireBuild);

  it("import 'ringfeed' does not load the uWebSockets.js addon, nor export the simulator", async () => {
    const { exports, shared } = await importFresh('ringfeed');
    expect(shared.filter((s) => /uws|uWebSockets/i.test(s))).toEqual([]);
    expect(exports).toContain('createEngine');
    expect(exports).not.toContain('startSimulator');
  });

  it("import 'ringfeed/simulator' does load it (the check above can fail) and exports startSimulator", async () => {
    const { exports, shared } = await importFresh('ringfeed/simulator');
    expect(shared.filter((s) => /uws|uWebSockets/i.test(s)).length).toBeGreaterThan(0);
    expect(exports).toContain('startSimulator');
  });
});
