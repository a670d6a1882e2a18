/**
 * Worker with nothing but a pending wait: it must still finish (the waits keep the event loop
 * alive) and report back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Doorbell } from '../../src/ring/doorbell.js';
import { createRing, RingWriter } from '../../src/ring/ring.js';

const { doorbell } = workerData as { doorbell: SharedArrayBuffer };
await new Doorbell(doorbell).sleep(() => false, 50);
const writer = new RingWriter(createRing(4096));
while (writer.reserve(64) >= 0);
const gotSpace = await writer.waitForSpace(64, 50);
parentPort!.postMessage({ done: true, gotSpace });
