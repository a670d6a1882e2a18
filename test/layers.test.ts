/**
 * Import layering: the core layers never import venue code or anything above them, so a venue
 * (or a transport) can be added without touching them. Read from the sources' import lines.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Repo-relative paths (`src/…/x.ts`) a source file imports (relative imports only). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/g)) {
    out.push(relative(root, normalize(join(root, dirname(file), m[1]!))).replace(/\.js$/, '.ts'));
  }
  return out;
}

/** Layers that must not import from `forbidden` (prefixes of repo-relative paths). */
const RULES: Array<{ layer: string; forbidden: string[] }> = [
  { layer: 'src/records/', forbidden: ['src/venues/', 'src/engine/', 'src/worker', 'workers/', 'src/simulator/', 'src/cli/', 'src/consumer/', 'src/supervisor/'] },
  { layer: 'src/ring/', forbidden: ['src/venues/', 'src/engine/', 'src/records/', 'src/worker', 'workers/', 'src/simulator/', 'src/cli/'] },
  { layer: 'src/backpressure/', forbidden: ['src/venues/', 'src/engine/', 'workers/', 'src/simulator/', 'src/cli/', 'src/consumer/', 'src/supervisor/'] },
  { layer: 'src/book/', forbidden: ['src/venues/', 'workers/', 'src/simulator/', 'src/cli/', 'src/consumer/', 'src/supervisor/'] },
  { layer: 'src/metrics/', forbidden: ['src/venues/', 'src/engine/', 'workers/', 'src/simulator/', 'src/cli/'] },
  { layer: 'src/consumer/', forbidden: ['src/venues/', 'src/engine/', 'workers/', 'src/simulator/', 'src/cli/', 'src/supervisor/'] },
  // The engine and the library face never load a simulator (uWS) or the CLI.
  { layer: 'src/engine/', forbidden: ['src/simulator/', 'src/cli/'] },
  { layer: 'src/index.ts', forbidden: ['src/simulator/', 'src/cli/'] },
  // Fan-out and the Prometheus/health exposition sit beside the engine: never the simulator or the CLI.
  { layer: 'src/fanout/', forbidden: ['src/simulator/', 'src/cli/'] },
  { layer: 'src/exposition/', forbidden: ['src/simulator/', 'src/cli/', 'src/venues/'] },
  // Venue code is loaded by workers; it never reaches up into the main thread's engine or the CLI.
  { layer: 'src/venues/', forbidden: ['src/engine/engine.ts', 'src/consumer/', 'src/supervisor/', 'src/cli/', 'src/simulator/'] },
];

describe('import layering', () => {
  const all = [...sources('src'), ...sources('workers')];
  for (const rule of RULES) {
    it(`${rule.layer} imports nothing from ${rule.forbidden.join(', ')}`, () => {
      const files = all.filter((f) => f === rule.layer || f.startsWith(rule.layer));
      expect(files.length).toBeGreaterThan(0);
      const bad = files.flatMap((f) =>
        importsOf(f)
          .filter((target) => rule.forbidden.some((p) => target === p || target.startsWith(p)))
          .map((target) => `${f} → ${target}`),
      );
      expect(bad).toEqual([]);
    });
  }

  it('the checker sees imports (control: the engine imports the consumer)', () => {
    expect(importsOf('src/engine/engine.ts')).toContain('src/consumer/consumer.ts');
  });
});
