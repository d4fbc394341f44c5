import * as net from 'node:net';

/** Asks the kernel for a free TCP port on 127.0.0.1. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** True when nothing listens on the port (a bind succeeds). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** The preferred port when it is free, otherwise a free one; says which so callers can report it. */
export async function preferredOrFreePort(preferred: number): Promise<{ port: number; wasPreferredTaken: boolean }> {
  if (preferred === 0) return { port: await freePort(), wasPreferredTaken: false };
  if (await isPortFree(preferred)) return { port: preferred, wasPreferredTaken: false };
  return { port: await freePort(), wasPreferredTaken: true };
}
