import * as net from 'node:net';
import { spawn } from 'node:child_process';
import { freePort } from '../../src/net/free-port';
import { portHolder, PortTakenError } from '../../src/devstack/port-holder';
import { terminateProcessGroup } from '../../src/process/process-identity';
import { waitFor } from '../helpers/wait-for';

describe('portHolder: who listens on a TCP port, from /proc/net/tcp{,6} and /proc/PID/fd', () => {
  it('names this process for a listener of its own, on IPv4 and on IPv6', async () => {
    for (const host of ['127.0.0.1', '::1']) {
      const port = await freePort();
      const server = await new Promise<net.Server>((resolve) => {
        const s = net.createServer().listen(port, host, () => resolve(s));
      });
      try {
        expect(portHolder(port)).toEqual({ pid: process.pid, command: expect.stringContaining('node') });
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
      expect(portHolder(port)).toBeUndefined();
    }
  });

  it("names another program and its command line, and says so in the error's message", async () => {
    const port = await freePort();
    const script = `require('node:net').createServer().listen(${port}, '127.0.0.1', () => console.log('up'))`;
    const child = spawn(process.execPath, ['-e', script, 'port-holder-marker'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await waitFor(() => output.includes('up'), { what: 'the other program listens' });
      const holder = portHolder(port);
      expect(holder).toEqual({ pid: child.pid, command: expect.stringContaining('port-holder-marker') });
      const error = new PortTakenError(port, holder, '(recorded for X)', 'stop it');
      expect(error.message).toBe(
        `port ${port} (recorded for X) is taken by pid ${child.pid} (${holder!.command}): stop it`,
      );
    } finally {
      await terminateProcessGroup(child.pid!, 5_000);
    }
  });
});
