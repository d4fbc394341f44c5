import type { AddressInfo } from 'node:net';
import { loadEmulatorSettings, EmulatorConfigError } from './emulator-config';
import { parseEngineArgv } from './engine-args';
import { Engine } from './engine';
import type { EngineExit } from './engine-exit';
import { EmulatorLog, type EmulatorLogSink } from './emulator-log';
import { EMULATED_GPU_TYPES, lookupEmulatedGpu } from './gpu-table';
import { createEmulatorServer } from './http-server';
import { runStartupSequence } from './startup-sequence';

/** A running emulator: its URL, and how to stop it or learn that it died. */
export interface EmulatorHandle {
  url: string;
  port: number;
  /** Stops serving and cancels every timer; in-flight streams are cut. */
  close(): Promise<void>;
  /** Resolves when the engine serves (never if it dies first). */
  ready: Promise<void>;
  /** Resolves when the engine exits by itself (crash, OOM, watchdog, missing weights). */
  exited: Promise<EngineExit>;
}

/** Options for the in-process emulator beyond the SGLang argv and environment. */
export interface StartEmulatorOptions {
  /** Receives every log line; silent when omitted. */
  onLog?: EmulatorLogSink;
}

/**
 * Starts an emulator in this process and resolves once its port is bound (start-up continues in the background,
 * as `/health` answers 503 until it ends). Crashes end the engine, never the calling process.
 */
export async function startEmulator(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  options: StartEmulatorOptions = {},
): Promise<EmulatorHandle> {
  const { args, unknownFlags } = parseEngineArgv(argv);
  const settings = loadEmulatorSettings(env);
  const gpu = lookupEmulatedGpu(settings.gpuType);
  if (!gpu) {
    throw new EmulatorConfigError(
      `GLM_OPS_EMULATOR_GPU: unknown GPU type "${settings.gpuType}"; use one of ${EMULATED_GPU_TYPES.join(', ')}`,
    );
  }
  if (settings.config.control.enabled && !args.apiKey) {
    throw new EmulatorConfigError('control.enabled: the control endpoint needs --api-key so it is never open');
  }
  const log = new EmulatorLog(options.onLog ?? (() => undefined));
  const engine = new Engine(args, settings, gpu, log);
  const server = createEmulatorServer(engine);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(args.port, args.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = args.host === '0.0.0.0' || args.host === '::' ? '127.0.0.1' : args.host;
  const url = `http://${hostForUrl.includes(':') ? `[${hostForUrl}]` : hostForUrl}:${port}`;
  log.raw(`INFO:     Started server process [${process.pid}]`);
  log.raw(`INFO:     Uvicorn running on ${url} (Press CTRL+C to quit)`);

  let isClosed = false;
  const closeServer = async (): Promise<void> => {
    if (isClosed) return;
    isClosed = true;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };
  const exited = new Promise<EngineExit>((resolve) => engine.onExit(resolve));
  const ready = new Promise<void>((resolve) => engine.onReady(resolve));
  engine.onExit(() => void closeServer());
  void runStartupSequence(engine, unknownFlags).catch((err: unknown) => {
    engine.die({ exitCode: 1, reason: `emulator start-up failed: ${(err as Error).message}` }, [String(err)]);
  });
  return {
    url,
    port,
    ready,
    exited,
    async close() {
      if (engine.status !== 'dead') {
        engine.status = 'stopping';
        engine.lifetime.abort();
      }
      await closeServer();
    },
  };
}
