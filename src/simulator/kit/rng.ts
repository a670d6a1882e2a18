/** Small deterministic random helpers for the simulator (no external dependencies). */

/** A uniform [0, 1) generator. */
export type Rng = () => number;

/** mulberry32: tiny, fast 32-bit-state PRNG; plenty for synthetic market data. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a 32-bit hash of a string, used to derive per-symbol seeds. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Exponential inter-arrival time (same unit as 1/rate). */
export function expSample(rng: Rng, rate: number): number {
  return -Math.log(1 - rng()) / rate;
}

/** Standard normal sample (Box–Muller). */
export function gaussian(rng: Rng): number {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Integer in [lo, hi]. */
export function randInt(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

/** Geometric-ish index in [0, n): small indices much more likely. */
export function nearIndex(rng: Rng, n: number, p = 0.25): number {
  if (n <= 1) return 0;
  const k = Math.floor(Math.log(1 - rng()) / Math.log(1 - p));
  return Math.min(n - 1, k);
}
