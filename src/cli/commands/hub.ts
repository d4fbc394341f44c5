import type { Command } from 'commander';
import type { Config } from '../../config/config';
import { InvalidArgumentError } from 'commander';
import * as path from 'node:path';
import { writeFixtureCheckpoint } from '../../hub/fixture-checkpoint';
import { parseFaultPlan } from '../../hub/hub-faults';
import { startHub } from '../../hub/hub-server';

/** `glm-ops hub fixture|serve`: the local Hugging Face–compatible hub and its fixture checkpoint. */
export function registerHubCommand(program: Command, settings: Config): void {
  const hub = program
    .command('hub')
    .description('run a local Hugging Face–compatible hub serving a fixture checkpoint');
  hub
    .command('fixture')
    .description('write a fixture checkpoint: safetensors shards, index, config.json, tokenizer files')
    .requiredOption('--out <dir>', 'output folder')
    .option('--size-mb <n>', 'approximate total shard size in MB', positiveNumber('--size-mb'), 300)
    .option(
      '--shards <n>',
      'number of safetensors shards (default: size / 50 MB, at least 2)',
      positiveNumber('--shards'),
    )
    .option('--repo <owner/name>', 'repo id to serve it as', 'zai-org/GLM-5.1-FP8')
    .option('--seed <text>', 'seed of the tensor bytes (another seed = another commit)', 'glm-ops')
    .action(async (options: { out: string; sizeMb: number; shards?: number; repo: string; seed: string }) => {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/.test(options.repo)) {
        throw new Error(`--repo "${options.repo}" must be "owner/name"`);
      }
      const manifest = await writeFixtureCheckpoint({
        outDir: path.resolve(options.out),
        repo: options.repo,
        sizeMB: options.sizeMb,
        seed: options.seed,
        ...(options.shards ? { shardCount: Math.round(options.shards) } : {}),
      });
      const bytes = manifest.files.reduce((sum, file) => sum + file.sizeBytes, 0);
      console.log(
        `fixture ${manifest.repo}@${manifest.commit}: ${manifest.files.length} files, ${bytes} bytes in ${path.resolve(options.out)}`,
      );
    });
  hub
    .command('serve')
    .description('serve a fixture through the Hub API subset snapshot_download uses (model info, resolve with Range)')
    .requiredOption('--fixture <dir>', 'folder written by `hub fixture`')
    .option('--port <n>', 'port (0 = a free one)', portNumber, 0)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--faults <json>', 'fault plan, e.g. \'[{"kind":"drop","file":"*","atFraction":0.5}]\'')
    .option('--repo <owner/name>', 'repo id when the folder has no hub manifest', 'zai-org/GLM-5.1-FP8')
    .action(async (options: { fixture: string; port: number; host: string; faults?: string; repo: string }) => {
      const faults = options.faults ? parseFaultPlan(options.faults) : [];
      const running = await startHub({
        fixtureDir: path.resolve(options.fixture),
        port: options.port,
        host: options.host,
        faults,
        repo: options.repo,
        ...(settings.servedHubToken ? { token: settings.servedHubToken } : {}),
      });
      console.log(`hub listening on ${running.url}`);
      console.log(
        `serving ${running.manifest.repo}@${running.manifest.commit} (${running.manifest.files.length} files)`,
      );
      const stop = (): void => {
        void running.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

function positiveNumber(flag: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0)
      throw new InvalidArgumentError(`${flag} must be a positive number, got "${value}"`);
    return parsed;
  };
}

function portNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535)
    throw new InvalidArgumentError(`--port must be 0..65535, got "${value}"`);
  return parsed;
}
