import type { SecretSource } from '../../config/secrets';
import { buildSglangArgv } from '../../spec/argv-builder';
import type { Spec } from '../../spec/schema';
import { engineCommand } from './engine-command';
import type { EngineFactory, EnginePaths } from './engine-factory';

/**
 * The engine factory the daemon runs with: the spec builder's argv, the API key from the secret the spec names
 * (resolved from the daemon's secrets at each engine start), and the emulator or SGLang command.
 */
export function createEngineFactory(options: {
  secrets: Pick<SecretSource, 'resolve'>;
  resolveEnginePaths(spec: Spec): Promise<EnginePaths> | EnginePaths;
  /** The compiled CLI the emulator runs from; defaults to lib/cli/main.js. */
  emulatorEntry?: string;
}): EngineFactory {
  return {
    resolveEnginePaths: options.resolveEnginePaths,
    buildArgv: (spec, overrides) => buildSglangArgv(spec, overrides),
    resolveApiKey: (spec) => options.secrets.resolve(spec.secrets.apiKey),
    engineCommand: (spec, inputs) => engineCommand(spec, inputs, options.emulatorEntry),
  };
}
