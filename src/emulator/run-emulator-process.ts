import * as fs from 'node:fs';
import { EmulatorConfigError } from './emulator-config';
import { SglangArgvError } from '../spec/sglang-argparse';
import { startEmulator } from './emulator';

/**
 * Runs the emulator as this process's whole job, like `python3 -m sglang.launch_server`: logs to stdout/stderr,
 * exits 2 on bad flags (argparse's usage and message, verbatim) or config, and dies the way SGLang dies: SIGTERM
 * drains and then SIGKILLs itself (returncode -9), a failure kills itself the same way, SIGTERM while still loading
 * takes the default action (-15), a failed bind exits 1.
 */
export async function runEmulatorProcess(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  // Synchronous writes so the last line (the OOM line, kill_process_tree) is out before the SIGKILL.
  const write = (line: string, stream: 'stdout' | 'stderr'): void => {
    fs.writeSync(stream === 'stdout' ? 1 : 2, line + '\n');
  };
  let handle;
  try {
    handle = await startEmulator(argv, env, { onLog: write });
  } catch (err) {
    if (err instanceof SglangArgvError) {
      fs.writeSync(2, err.stderrText.endsWith('\n') ? err.stderrText : `${err.stderrText}\n`);
      process.exit(2);
    }
    if (err instanceof EmulatorConfigError) {
      write(`glm-ops emulator: ${err.message}`, 'stderr');
      process.exit(2);
    }
    throw err;
  }
  const running = handle;
  const terminate = (): void => running.terminate();
  process.on('SIGTERM', terminate);
  process.on('SIGINT', terminate);
  const exit = await running.exited;
  if (exit.signal) {
    process.removeListener('SIGTERM', terminate);
    process.removeListener('SIGINT', terminate);
    process.kill(process.pid, exit.signal);
  } else process.exit(exit.exitCode ?? 1);
}
