/** Piscina task file for native WebSocket venues (loaded by path by the engine): see `src/worker/ws-task.ts`. */
export { runWsTask as default } from '../src/worker/ws-task.js';
