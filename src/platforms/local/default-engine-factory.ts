import { resolveSecret } from '../../config/secrets';
import { buildSglangArgv } from '../../spec/argv-builder';
import type { Spec } from '../../spec/schema';
import { engineCommand } from './engine-command';
import type { EngineFactory, EnginePaths } from './engine-factory';

/**
 * The engine factory the daemon runs with: the spec builder's argv, the API key from the secret the spec names
 * (resolved in the daemon's environment at each engine start), and the emulator or SGLang command.
 */
export function createEngineFactory(options: {
  env: NodeJS.ProcessEnv;
  resolveEnginePaths(spec: Spec): Promise<EnginePaths> | EnginePaths;
  /** The compiled CLI the emulator runs from; defaults to lib/cli/main.js. */
  emulatorEntry?: string;
}): EngineFactory {
  return {
    resolveEnginePaths: options.resolveEnginePaths,
    buildArgv: (spec, overrides) => buildSglangArgv(spec, overrides),
    resolveApiKey: (spec) => resolveSecret(spec.secrets.apiKey, options.env),
    engineCommand: (spec, inputs) => engineCommand(spec, inputs, options.emulatorEntry),
  };
}
