/** Moved to `src/worker/protocol.ts`; this path stays for the modules that still import it. */
export * from './worker/protocol.js';
