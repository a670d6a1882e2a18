/**
 * Bad-input rows, group `symbols`: a well-formed symbol the venue does not list, next to one it
 * does, on each native venue. Each row starts its own simulator and engine (loopback).
 */
import { expectBadSymbolRejected, REJECTION_CASES, startRejectionRun } from '../helpers/rejection-rig.js';
import type { BadInputRow } from './row.js';

export const rows: BadInputRow[] = REJECTION_CASES.map(
  (c): BadInputRow => ({
    group: 'symbols',
    input: `${c.venue}: subscribe [${c.good}, ${c.bad}] (${c.bad} not listed)`,
    expect: `ERR_BAD_SYMBOL naming ${c.bad} (event + rejected status), ${c.good} keeps delivering, 0 reconnects`,
    async run() {
      const run = await startRejectionRun(c);
      try {
        await expectBadSymbolRejected(run, c, 5000);
      } finally {
        await run.close();
      }
    },
  }),
);
