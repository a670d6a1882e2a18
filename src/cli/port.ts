import { createServer } from 'node:net';
import { badArgument } from './args.js';

/**
 * Fails when host:port cannot be listened on, before a simulator tries. uWebSockets.js listens
 * with SO_REUSEPORT on Linux, so a second simulator on a taken port would "listen" and share
 * the connections with the other process; a plain `net` listener (no SO_REUSEPORT) is refused
 * by the kernel while anyone holds the port. Port 0 (any free port) is always free.
 */
export async function assertCanListen(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(badArgument(`port ${port} is in use (--port)`));
      else if (err.code === 'EACCES') reject(badArgument(`port ${port} needs privileges to listen on (--port)`));
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
        reject(badArgument(`cannot listen on host ${host} (--host): ${err.code}`));
      } else reject(badArgument(`cannot listen on ${host}:${port} (--host, --port): ${err.message}`));
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
