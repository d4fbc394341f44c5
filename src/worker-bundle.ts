import * as fs from 'node:fs';
import * as path from 'node:path';

/** Where `npm run build:workflow` writes the prebuilt workflow bundle. */
export function workflowBundlePath(): string {
  return path.join(__dirname, 'workflow-bundle.js');
}

/** Where the workflow sources (compiled or TypeScript) live, for bundling at start when no prebuilt bundle exists. */
export function workflowsPath(): string {
  return require.resolve('./workflows');
}

/** The prebuilt bundle when present, else the workflows path (bundled at worker start). */
export function workflowCodeOption(): { workflowBundle: { codePath: string } } | { workflowsPath: string } {
  const bundle = workflowBundlePath();
  return fs.existsSync(bundle) ? { workflowBundle: { codePath: bundle } } : { workflowsPath: workflowsPath() };
}
