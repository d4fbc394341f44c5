import type { Spec } from '../../spec/schema';
import type { EngineCommand, EngineCommandInputs } from './engine-command';

/**
 * Folders an engine starts with: the committed weights and the DeepGEMM cache for the spec's GPU (LocalStorage
 * returns a freshly reloaded, committed view of both volumes).
 */
export interface EnginePaths {
  modelPath: string;
  kernelCacheDir: string;
}

/** How an app turns a spec into a running engine; injected so tests and the daemon wire real parts differently. */
export interface EngineFactory {
  /** Model and kernel-cache folders for a spec (LocalStorage by default). */
  resolveEnginePaths(spec: Spec): Promise<EnginePaths> | EnginePaths;
  /** The SGLang argv for a spec at a host and port (the spec builder). */
  buildArgv(spec: Spec, overrides: { modelPath: string; host: string; port: number; apiKey?: string }): string[];
  /** The API key value from the secret the spec names; held in memory only. */
  resolveApiKey(spec: Spec): string;
  engineCommand(spec: Spec, inputs: EngineCommandInputs): EngineCommand;
}
