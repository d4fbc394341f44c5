import { freePort } from '../net/free-port';
import { loadEmulatorSettings, EmulatorConfigError } from './emulator-config';
import { parseEngineArgv } from './engine-args';
import { Engine } from './engine';
import { drainAndExit, type EngineExit } from './engine-exit';
import { EmulatorLog, schedulerTag, type EmulatorLogSink } from './emulator-log';
import { EMULATED_GPU_TYPES, lookupEmulatedGpu } from './gpu-table';
import { createEmulatorServer } from './http-server';
import { attachLaunchFacts } from './serving-context';
import { RequestAccounting } from './request-accounting';
import { runStartupSequence } from './startup-sequence';

/** A running emulator: the URL it serves (or will serve once loaded), and how to stop it or learn that it died. */
export interface EmulatorHandle {
  url: string;
  /** The port it binds once the model has loaded (`--port 0` → a free one picked at start). */
  port: number;
  /** Resolves when the port is bound; until then connections are refused, as real SGLang's are while loading. */
  listening: Promise<void>;
  /** Resolves when the engine serves, after its own warm-up (never if it dies first). */
  ready: Promise<void>;
  /** Resolves when the engine exits by itself (crash, OOM, watchdog, SIGTERM drain, a failed bind). */
  exited: Promise<EngineExit>;
  /** What SIGTERM does to real SGLang: drain and exit (-9), or die at once (-15) while still loading. */
  terminate(): void;
  /** Stops serving and cancels every timer; in-flight streams are cut. */
  close(): Promise<void>;
}

/** Options for the in-process emulator beyond the SGLang argv and environment. */
export interface StartEmulatorOptions {
  /** Receives every log line; silent when omitted. */
  onLog?: EmulatorLogSink;
}

/**
 * Starts an emulator in this process and resolves at once with the URL and port it will serve on. The start-up
 * runs in the background and binds the port only when the model has loaded and the CUDA graphs are captured, as
 * real SGLang does: until `listening`, connections are refused. A port picked for `--port 0` is free when picked
 * but not held; if something takes it before the bind, the start fails with uvicorn's bind error and exit code 1.
 * Crashes end the engine, never the calling process.
 */
export async function startEmulator(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  options: StartEmulatorOptions = {},
): Promise<EmulatorHandle> {
  const parsed = parseEngineArgv(argv, { env });
  const { args, unknownFlags } = parsed;
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
  const port = args.port === 0 ? await freePort(args.host === '0.0.0.0' ? '127.0.0.1' : args.host) : args.port;
  const log = new EmulatorLog(options.onLog ?? (() => undefined), schedulerTag(args));
  const engine = new Engine({ ...args, port }, settings, gpu, log);
  attachLaunchFacts(engine, { serverArgs: { ...parsed.serverArgs, port }, sglangVersion: parsed.sglangVersion, argv });
  const accounting = new RequestAccounting(engine);
  const server = createEmulatorServer(engine, accounting);
  const hostForUrl = args.host === '0.0.0.0' || args.host === '::' ? '127.0.0.1' : args.host;
  const url = `http://${hostForUrl.includes(':') ? `[${hostForUrl}]` : hostForUrl}:${port}`;

  let isClosed = false;
  const closeServer = async (): Promise<void> => {
    if (isClosed) return;
    isClosed = true;
    if (!server.listening) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };
  let markListening!: () => void;
  const listening = new Promise<void>((resolve) => (markListening = resolve));
  const openPort = (): Promise<boolean> =>
    new Promise((resolve) => {
      if (engine.isGone || isClosed) return resolve(false);
      const onError = (err: NodeJS.ErrnoException): void => {
        log.uvicorn(
          `[Errno ${err.code === 'EADDRINUSE' ? 98 : (err.errno ?? 1)}] error while attempting to bind on address ` +
            `('${args.host}', ${port}): ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message}`,
          'ERROR',
        );
        engine.die({ exitCode: 1, reason: `could not bind ${args.host}:${port} (${err.code ?? err.message})` });
        resolve(false);
      };
      server.once('error', onError);
      server.listen(port, args.host, () => {
        server.off('error', onError);
        engine.isPortOpen = true;
        log.uvicorn(`Uvicorn running on ${url} (Press CTRL+C to quit)`);
        markListening();
        resolve(true);
      });
    });

  const exited = new Promise<EngineExit>((resolve) => engine.onExit(resolve));
  const ready = new Promise<void>((resolve) => engine.onReady(resolve));
  engine.onExit(() => void closeServer());
  const hooks = {
    serverArgs: (parsed as { serverArgs?: Record<string, unknown> }).serverArgs,
    parserWarnings: (parsed as { deprecationWarnings?: string[] }).deprecationWarnings,
    unknownFlags,
    openPort,
  };
  void runStartupSequence(engine, hooks).catch((err: unknown) => {
    engine.die({ exitCode: 1, reason: `emulator start-up failed: ${(err as Error).message}` }, [String(err)]);
  });
  return {
    url,
    port,
    listening,
    ready,
    exited,
    terminate: () => drainAndExit(engine, () => accounting.remainingRids()),
    async close() {
      if (engine.status !== 'dead') {
        engine.status = 'stopping';
        engine.lifetime.abort();
      }
      await closeServer();
    },
  };
}
