import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Doorbell } from '../src/ring/doorbell.js';
import {
  createRing,
  RING_HEADER_BYTES,
  RING_PRODUCER_WAITING_OFFSET,
  RING_READ_POS_OFFSET,
  RING_WRITE_POS_OFFSET,
  RingReader,
  RingWriter,
} from '../src/ring/ring.js';
import { checkPattern, fillPattern, type ProducerJob, type ProducerReply } from './fixtures-helpers/ring-pattern.js';
import { startTsWorker } from './fixtures-helpers/ring-worker.js';

const PRODUCER = fileURLToPath(new URL('./fixtures-helpers/ring-producer.ts', import.meta.url));

/**
 * A long-lived producer worker; `run()` sends one job and resolves with its reply (or a failed
 * reply when the worker dies or does not answer in time).
 */
class Producer {
  private readonly worker = startTsWorker(PRODUCER);
  private readonly pending = new Map<number, (r: ProducerReply) => void>();
  private nextId = 1;
  private failure = '';

  constructor() {
    this.worker.on('message', (r: ProducerReply) => {
      this.pending.get(r.id)?.(r);
      this.pending.delete(r.id);
    });
    const fail = (why: string) => {
      this.failure ||= why;
      for (const resolve of this.pending.values()) resolve({ id: 0, ok: false, error: why, waits: 0 });
      this.pending.clear();
    };
    this.worker.on('error', (err) => fail(`producer worker failed: ${err.stack ?? err}`));
    this.worker.on('exit', (code) => fail(`producer worker exited (${code})`));
  }

  run(job: DistributiveOmit<ProducerJob, 'id'>, timeoutMs = 15_000): Promise<ProducerReply> {
    if (this.failure) return Promise.resolve({ id: 0, ok: false, error: this.failure, waits: 0 });
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ id, ok: false, error: 'producer did not answer in time', waits: 0 });
      }, timeoutMs);
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.worker.postMessage({ ...job, id });
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function setPositions(sab: SharedArrayBuffer, pos: number): void {
  const h = new Int32Array(sab, 0, RING_HEADER_BYTES / 4);
  h[RING_WRITE_POS_OFFSET / 4] = pos | 0;
  h[RING_READ_POS_OFFSET / 4] = pos | 0;
}

/**
 * Main-thread consumer: reads `sizes.length` pattern records, checking each, releasing every
 * `releaseEvery` records and sleeping on the doorbell when empty. Returns the longest sleep.
 */
async function consume(
  reader: RingReader,
  doorbell: Doorbell,
  sizes: readonly number[],
  seed: number,
  releaseEvery: number,
): Promise<number> {
  const deadline = performance.now() + 10_000;
  let longestSleep = 0;
  let unreleased = 0;
  for (let i = 0; i < sizes.length; ) {
    const off = reader.next();
    if (off < 0) {
      reader.release();
      unreleased = 0;
      const t0 = performance.now();
      await doorbell.sleep(() => reader.hasData(), 3000);
      longestSleep = Math.max(longestSleep, performance.now() - t0);
      if (performance.now() > deadline) throw new Error(`consumer stuck at record ${i}/${sizes.length}`);
      continue;
    }
    expect(off % 8).toBe(0);
    const bad = checkPattern(reader, off, i, sizes[i], seed);
    if (bad !== '') throw new Error(bad);
    reader.advance();
    i++;
    if (++unreleased >= releaseEvery) {
      reader.release();
      unreleased = 0;
    }
  }
  reader.release();
  return longestSleep;
}

describe('createRing', () => {
  it('accepts powers of two >= 4096 and sizes the SAB as header + data', () => {
    expect(createRing(4096).byteLength).toBe(RING_HEADER_BYTES + 4096);
    expect(createRing(1 << 16).byteLength).toBe(RING_HEADER_BYTES + (1 << 16));
  });

  it.each([0, 1024, 2048, 4095, 6000, 4096.5, -4096, Number.NaN])('rejects %s with a RangeError naming it', (n) => {
    expect(() => createRing(n)).toThrow(RangeError);
    expect(() => createRing(n)).toThrow(String(n));
  });

  it('rejects a SAB that is not a ring', () => {
    expect(() => new RingReader(new SharedArrayBuffer(1000))).toThrow(RangeError);
  });
});

describe('RingWriter / RingReader (one thread)', () => {
  it('makes records visible only on publish, in order', () => {
    const sab = createRing(4096);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    expect(r.hasData()).toBe(false);
    const a = w.reserve(24);
    fillPattern(w, a, 0, 24, 1);
    const b = w.reserve(13);
    fillPattern(w, b, 1, 13, 1);
    expect(r.next()).toBe(-1);
    expect(r.hasData()).toBe(false);
    w.publish();
    expect(r.hasData()).toBe(true);
    expect(r.next()).toBe(a);
    expect(r.next()).toBe(a); // next() does not consume
    expect(checkPattern(r, a, 0, 24, 1)).toBe('');
    r.advance();
    expect(r.next()).toBe(b);
    expect(r.u32[b >>> 2]).toBe(16); // rounded up to 8
    r.advance();
    expect(r.next()).toBe(-1);
    expect(r.hasData()).toBe(false);
  });

  it('uses the whole capacity, returns -1 when full and succeeds after release', () => {
    const sab = createRing(4096);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    let n = 0;
    for (let off = w.reserve(64); off >= 0; off = w.reserve(64)) fillPattern(w, off, n++, 64, 0);
    expect(n).toBe(4096 / 64);
    expect(w.freeBytes()).toBe(0);
    w.publish();
    expect(w.reserve(8)).toBe(-1);
    expect(r.next()).toBe(0);
    r.advance();
    expect(w.reserve(64)).toBe(-1); // advanced but not released
    r.release();
    expect(w.freeBytes()).toBe(64);
    expect(w.reserve(64)).toBe(0);
    expect(r.next()).toBe(64);
  });

  it('pads the tail when a record does not fit before the end, and the reader skips it', () => {
    const sab = createRing(4096);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    // 4000 bytes used, then consumed: 96 bytes left before the end.
    for (let i = 0; i < 50; i++) fillPattern(w, w.reserve(80), i, 80, 3);
    w.publish();
    for (let i = 0; i < 50; i++) {
      expect(checkPattern(r, r.next(), i, 80, 3)).toBe('');
      r.advance();
    }
    r.release();
    const off = w.reserve(200);
    expect(off).toBe(0);
    expect(w.u32[4000 >>> 2]).toBe(96); // padding record length
    expect(w.u8[4000 + 4]).toBe(0); // padding type
    fillPattern(w, off, 50, 200, 3);
    w.publish();
    expect(r.next()).toBe(0);
    expect(checkPattern(r, 0, 50, 200, 3)).toBe('');
  });

  it('refuses a wrapping record when only the padding would fit', () => {
    const sab = createRing(4096);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    for (let i = 0; i < 63; i++) fillPattern(w, w.reserve(64), i, 64, 0);
    w.publish();
    // consume 2 records at the front: 128 free at the front, 64 at the end
    r.next();
    r.advance();
    r.next();
    r.advance();
    r.release();
    expect(w.freeBytes()).toBe(192);
    expect(w.reserve(160)).toBe(-1); // 64 padding + 160 > 192
    expect(w.reserve(128)).toBe(0); // 64 padding + 128 fits exactly
  });

  it('throws RangeError for records larger than capacity/2 or smaller than 8', () => {
    const w = new RingWriter(createRing(8192));
    expect(() => w.reserve(4097)).toThrow(RangeError);
    expect(() => w.reserve(4097)).toThrow(/does not fit a ring of 8192 bytes.*raise ringBytes/);
    expect(() => w.reserve(4)).toThrow(RangeError);
    expect(w.reserve(4096)).toBe(0);
  });

  it('keeps working when positions wrap past 2^32', () => {
    const sab = createRing(4096);
    setPositions(sab, 0xffffff00);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    for (let i = 0; i < 200; i++) {
      const size = 8 + ((i * 37) % 300);
      const off = w.reserve(size);
      expect(off).toBeGreaterThanOrEqual(0);
      fillPattern(w, off, i, size, 9);
      w.publish();
      expect(checkPattern(r, r.next(), i, size, 9)).toBe('');
      r.advance();
      r.release();
      expect(r.hasData()).toBe(false);
      expect(w.freeBytes()).toBe(4096);
    }
    const h = new Int32Array(sab, 0, 64);
    expect(h[RING_WRITE_POS_OFFSET / 4] >>> 0).toBeLessThan(0xffffff00); // it did wrap
  });

  it('waitForSpace resolves true once the reader releases, false on timeout', async () => {
    const sab = createRing(4096);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    for (let i = 0, off = w.reserve(256); off >= 0; off = w.reserve(256)) fillPattern(w, off, i++, 256, 0);
    w.publish();
    expect(await w.waitForSpace(256, 20)).toBe(false);

    let settled = false;
    const p = w.waitForSpace(256, 5000).then((ok) => {
      settled = true;
      return ok;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    const waiting = new Int32Array(sab, 0, 64);
    expect(waiting[RING_PRODUCER_WAITING_OFFSET / 4]).toBe(1);
    r.next();
    r.advance();
    r.release();
    expect(waiting[RING_PRODUCER_WAITING_OFFSET / 4]).toBe(0);
    const t0 = performance.now();
    expect(await p).toBe(true);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(w.reserve(256)).toBeGreaterThanOrEqual(0);
  });

  it('waitForSpace resolves at once when there is room', async () => {
    const w = new RingWriter(createRing(4096));
    expect(await w.waitForSpace(2048, 1000)).toBe(true);
  });
});

describe('ring across threads', () => {
  let producer: Producer;
  beforeAll(() => {
    producer = new Producer();
  });
  afterAll(async () => {
    await producer.terminate();
  });

  it('delivers random records from a worker without loss, corruption or reordering', async () => {
    const record = fc.oneof(
      { arbitrary: fc.integer({ min: 8, max: 96 }), weight: 12 },
      { arbitrary: fc.integer({ min: 8, max: 2048 }), weight: 1 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(4096, 8192, 16384, 65536),
        fc.array(record, { minLength: 1, maxLength: 4000 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 128 }),
        fc.oneof(fc.constant(0), fc.integer({ min: 0x1fffe000, max: 0x1fffffff }).map((n) => n * 8)), // near 2^32
        fc.integer({ min: 0, max: 255 }),
        async (capacity, sizes, batches, releaseEvery, startPos, seed) => {
          const ring = createRing(capacity);
          setPositions(ring, startPos);
          const doorbellSab = Doorbell.create();
          const reader = new RingReader(ring);
          const doorbell = new Doorbell(doorbellSab);
          const done = producer.run({ kind: 'produce', ring, doorbell: doorbellSab, sizes, batches, seed });
          const longestSleep = await consume(reader, doorbell, sizes, seed, releaseEvery);
          const reply = await done;
          expect(reply.error ?? '').toBe('');
          expect(reply.ok).toBe(true);
          // A lost wake-up would show as a sleep running into its 3 s timeout.
          expect(longestSleep).toBeLessThan(2500);
          expect(reader.next()).toBe(-1);
        },
      ),
      { numRuns: 60 },
    );
  }, 60_000);

  it('survives a producer that constantly blocks on a small ring (max-size records)', async () => {
    const ring = createRing(4096);
    const doorbellSab = Doorbell.create();
    const sizes = Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? 2048 : 8 + (i % 200)));
    const done = producer.run({ kind: 'produce', ring, doorbell: doorbellSab, sizes, batches: [1, 7, 3], seed: 42 });
    await consume(new RingReader(ring), new Doorbell(doorbellSab), sizes, 42, 1);
    const reply = await done;
    expect(reply.error ?? '').toBe('');
    expect(reply.waits).toBeGreaterThan(0);
  }, 20_000);
});

describe('Doorbell', () => {
  let producer: Producer;
  beforeAll(() => {
    producer = new Producer();
  });
  afterAll(async () => {
    await producer.terminate();
  });

  it('wakes a sleeping consumer when a producer in another thread publishes', async () => {
    const ring = createRing(4096);
    const doorbellSab = Doorbell.create();
    const reader = new RingReader(ring);
    const doorbell = new Doorbell(doorbellSab);
    const done = producer.run({ kind: 'wake', ring, doorbell: doorbellSab, seed: 5 });
    const t0 = performance.now();
    await doorbell.sleep(() => reader.hasData(), 10_000);
    const slept = performance.now() - t0;
    expect(reader.hasData()).toBe(true);
    expect(slept).toBeLessThan(5000);
    expect(doorbell.sleeping).toBe(false);
    expect(checkPattern(reader, reader.next(), 0, 64, 5)).toBe('');
    expect((await done).ok).toBe(true);
  });

  it('returns at once when data is already there', async () => {
    const ring = createRing(4096);
    const w = new RingWriter(ring);
    fillPattern(w, w.reserve(8), 0, 8, 0);
    w.publish();
    const r = new RingReader(ring);
    const t0 = performance.now();
    await new Doorbell(Doorbell.create()).sleep(() => r.hasData(), 5000);
    expect(performance.now() - t0).toBeLessThan(100);
  });

  it('ring() does nothing while nobody sleeps', () => {
    const sab = Doorbell.create();
    new Doorbell(sab).ring();
    expect(new Int32Array(sab)[0]).toBe(0);
  });

  it('keeps a thread with nothing else to do alive while waiting', async () => {
    const file = fileURLToPath(new URL('./fixtures-helpers/ring-keepalive.ts', import.meta.url));
    const worker = startTsWorker(file, { workerData: { doorbell: Doorbell.create() } });
    const outcome = await new Promise<unknown>((resolve) => {
      worker.once('message', resolve);
      worker.once('error', (err) => resolve(String(err)));
      worker.once('exit', (code) => resolve(`exited (${code}) before finishing its waits`));
    });
    await worker.terminate();
    expect(outcome).toEqual({ done: true, gotSpace: false });
  });

  it('does not burn a core while idle', async () => {
    const doorbell = new Doorbell(Doorbell.create());
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await doorbell.sleep(() => false, 300);
    const elapsed = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect((cpu.user + cpu.system) / 1000).toBeLessThan(60);
  });
});
