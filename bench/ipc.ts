/** Request/response over the child-process IPC channel (one outstanding request per id). */
import { type ChildProcess, fork } from 'node:child_process';

interface Request {
  readonly id: number;
  readonly op: string;
  readonly arg?: unknown;
}

interface Response {
  readonly id: number;
  readonly result?: unknown;
  readonly error?: string;
}

export type Handlers = Record<string, (arg: unknown) => unknown | Promise<unknown>>;

/** Child side: answers requests with the matching handler; exits when the parent goes away. */
export function serve(handlers: Handlers): void {
  if (!process.send) throw new Error('bench child started without an IPC channel');
  process.on('message', (raw) => {
    const req = raw as Request;
    const handler = handlers[req.op];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown op ${req.op}`);
        return handler(req.arg);
      })
      .then(
        (result) => process.send!({ id: req.id, result } satisfies Response),
        (err: unknown) => process.send!({ id: req.id, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
      );
  });
  process.once('disconnect', () => process.exit(0));
}

/** Parent side: a forked child answering `serve` requests. */
export class Child {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited: Error | undefined;

  constructor(readonly name: string, readonly process: ChildProcess) {
    process.on('message', (raw) => {
      const res = raw as Response;
      const p = this.pending.get(res.id);
      if (!p) return;
      this.pending.delete(res.id);
      if (res.error !== undefined) p.reject(new Error(`${name}: ${res.error}`));
      else p.resolve(res.result);
    });
    process.once('exit', (code, signal) => {
      this.exited = new Error(`${name} exited (code ${code}, signal ${signal})`);
      for (const p of this.pending.values()) p.reject(this.exited);
      this.pending.clear();
    });
  }

  static fork(name: string, file: URL, args: string[] = [], execArgv: string[] = []): Child {
    const child = fork(file, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], execArgv });
    child.stdout?.resume();
    return new Child(name, child);
  }

  call<T>(op: string, arg?: unknown, timeoutMs = 60_000): Promise<T> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${op} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.process.send({ id, op, arg } satisfies Request);
    });
  }

  /** Disconnects (the child exits on disconnect) and waits; kills it if it lingers. */
  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    if (this.process.connected) this.process.disconnect();
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}
