import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

/** Asks the kernel for a free TCP port on 127.0.0.1 (for an engine's `--port`). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
