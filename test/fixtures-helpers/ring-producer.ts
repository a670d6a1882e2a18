/**
 * Worker-thread producer for the ring tests (loaded with `--import tsx`). Long-lived: each
 * message is one job; it answers `{ id, ok, error?, waits }`.
 */
import { parentPort } from 'node:worker_threads';
import { Doorbell } from '../../src/ring/doorbell.js';
import { RingWriter } from '../../src/ring/ring.js';
import { fillPattern, type ProducerJob } from './ring-pattern.js';

const port = parentPort!;
const pause = new Int32Array(new SharedArrayBuffer(4));

async function produce(job: Extract<ProducerJob, { kind: 'produce' }>): Promise<number> {
  const writer = new RingWriter(job.ring, new Doorbell(job.doorbell));
  let waits = 0;
  let b = 0;
  let inBatch = 0;
  for (let i = 0; i < job.sizes.length; i++) {
    const size = job.sizes[i];
    let off = writer.reserve(size);
    while (off < 0) {
      // Make what we have visible first, or the consumer could never free space.
      writer.publish();
      waits++;
      if (!(await writer.waitForSpace(size, 5000))) {
        throw new Error(`waitForSpace timed out at record ${i} (size ${size})`);
      }
      off = writer.reserve(size);
    }
    fillPattern(writer, off, i, size, job.seed);
    if (++inBatch >= job.batches[b % job.batches.length]) {
      writer.publish();
      inBatch = 0;
      b++;
    }
  }
  writer.publish();
  return waits;
}

/** Wait until the consumer sleeps on the doorbell, then publish one record. */
function wakeWhenAsleep(job: Extract<ProducerJob, { kind: 'wake' }>): number {
  const doorbell = new Doorbell(job.doorbell);
  const writer = new RingWriter(job.ring, doorbell);
  const deadline = Date.now() + 5000;
  while (!doorbell.sleeping) {
    if (Date.now() > deadline) throw new Error('consumer never went to sleep');
    Atomics.wait(pause, 0, 0, 1);
  }
  const off = writer.reserve(64);
  fillPattern(writer, off, 0, 64, job.seed);
  writer.publish();
  return 0;
}

port.on('message', async (job: ProducerJob) => {
  try {
    const waits = job.kind === 'produce' ? await produce(job) : wakeWhenAsleep(job);
    port.postMessage({ id: job.id, ok: true, waits });
  } catch (err) {
    port.postMessage({ id: job.id, ok: false, error: String((err as Error).stack ?? err), waits: 0 });
  }
});
