import type { Command } from 'commander';
import type { Config } from '../../config/config';
import { localPlatform } from '../../platform-wiring';
import { loadSpecFile } from '../../spec/parse-spec';
import { touchText } from '../../storage/download-sentinel';
import { printSpecIssues } from './spec-output';

/** `glm-ops verify SPEC`: the guide's verify_setup for the local volumes (weights sentinel, DeepGEMM marker). */
export function registerVerifyCommand(program: Command, settings: Config): void {
  program
    .command('verify')
    .description(
      "The guide's verify_setup: weights (sentinel, files, bytes) and DeepGEMM kernels (marker) for a spec; exit 1 when not ready",
    )
    .argument('<spec>', 'spec YAML file')
    .option('--json', 'print JSON')
    .option(
      '--full',
      're-hash every weights file against the sentinel (slow for large checkpoints); without it, only the files touched since the sentinel (size, mtime, ctime or inode changed) are re-hashed',
    )
    .action(async (file: string, options: { json?: boolean; full?: boolean }) => {
      const parsed = await loadSpecFile(file);
      if (!parsed.ok) {
        printSpecIssues(parsed, file);
        process.exitCode = 2;
        return;
      }
      const spec = parsed.spec;
      // The volumes as the local worker sees them, on the same hub (HF_ENDPOINT, else the hub glm-ops runs).
      const storage = localPlatform(settings);
      const weights = await storage.weightsStatus(spec, { full: options.full === true });
      const kernels = await storage.kernelCacheStatus(spec);
      const isReady = weights.state === 'valid' && kernels.state === 'valid';
      if (!isReady) process.exitCode = 1;
      if (options.json) {
        console.log(JSON.stringify({ app: spec.app, isReady, weights, kernels }, null, 2));
        return;
      }
      console.log(
        `verify ${spec.app} (${spec.model.repo}@${spec.model.revision}, ${spec.gpu.type}, ${spec.sglang.image})`,
      );
      const rehashed = weights.rehashed ?? [];
      console.log(
        `weights: ${weights.state}${weights.commit ? ` (commit ${weights.commit})` : ''}${options.full ? ', re-hashed' : ''}`,
      );
      console.log(`  path: ${weights.path}`);
      console.log(`  sentinel: ${weights.sentinelPath}`);
      console.log(`  files: ${weights.fileCount}, bytes: ${weights.bytes}`);
      console.log(
        `  re-hashed: ${rehashed.length} of ${weights.fileCount}` +
          (options.full ? ' (--full)' : ' (only files touched since the sentinel)'),
      );
      for (const file of rehashed) {
        console.log(`    ${file.path}: ${file.isMatch ? 'matches' : 'DIFFERS'} (${touchText(file.reasons)})`);
      }
      for (const problem of weights.problems) console.log(`  - ${problem}`);
      console.log(`kernels: ${kernels.state}`);
      console.log(`  path: ${kernels.path}`);
      console.log(`  marker: ${kernels.markerPath}`);
      if (kernels.marker) console.log(`  marker contents: ${JSON.stringify(kernels.marker)}`);
      for (const reason of kernels.reasons) console.log(`  - ${reason}`);
    });
}
