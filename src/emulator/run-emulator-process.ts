import * as fs from 'node:fs';
import { EmulatorConfigError } from './emulator-config';
import { EngineArgsError } from './engine-args';
import { startEmulator } from './emulator';

/**
 * Runs the emulator as this process's whole job, like `python3 -m sglang.launch_server`: logs to stdout/stderr,
 * exits 2 on bad flags or config, and dies the way the engine dies (exit code, or a signal it sends itself).
 */
export async function runEmulatorProcess(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  // Synchronous writes so the last line (the OOM line) is out before a SIGKILL.
  const write = (line: string, stream: 'stdout' | 'stderr'): void => {
    fs.writeSync(stream === 'stdout' ? 1 : 2, line + '\n');
  };
  let handle;
  try {
    handle = await startEmulator(argv, env, { onLog: write });
  } catch (err) {
    if (err instanceof EngineArgsError || err instanceof EmulatorConfigError) {
      write(`glm-ops emulator: ${err.message}`, 'stderr');
      process.exit(2);
    }
    throw err;
  }
  const running = handle;
  let isStopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (isStopping) return;
    isStopping = true;
    write(`INFO:     Shutting down (received ${signal})`, 'stdout');
    void running.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const exit = await running.exited;
  if (exit.signal) {
    process.removeAllListeners(exit.signal);
    process.kill(process.pid, exit.signal);
  } else process.exit(exit.exitCode ?? 1);
}
