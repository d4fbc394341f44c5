import { spawn } from 'node:child_process';
import { ENGINE_ID_ENV, hasEnvMarker, isProcessAlive, terminateProcessGroup } from '../../src/process/process-identity';

describe('process identity and termination', () => {
  test('a process that ignores SIGTERM is SIGKILLed after the grace period', async () => {
    const child = spawn(
      process.execPath,
      ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); console.log('up')"],
      {
        detached: true,
        stdio: ['ignore', 'pipe', 'ignore'],
        env: { ...process.env, [ENGINE_ID_ENV]: 'engine-under-test' },
      },
    );
    await new Promise((resolve) => child.stdout!.once('data', resolve));
    const pid = child.pid!;
    expect(hasEnvMarker(pid, ENGINE_ID_ENV, 'engine-under-test')).toBe(true);
    expect(hasEnvMarker(pid, ENGINE_ID_ENV, 'another-engine')).toBe(false);
    const started = Date.now();
    expect(await terminateProcessGroup(pid, 300)).toBe('killed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(isProcessAlive(pid)).toBe(false);
  });

  test('a process that honours SIGTERM exits within the grace period', async () => {
    const child = spawn(process.execPath, ['-e', "setInterval(() => {}, 1000); console.log('up')"], {
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    await new Promise((resolve) => child.stdout!.once('data', resolve));
    expect(await terminateProcessGroup(child.pid!, 5_000)).toBe('exited');
    expect(await terminateProcessGroup(child.pid!, 5_000)).toBe('absent');
  });
});
