import execa from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GPU_CATALOG } from '../../../src/spec/gpu-catalog';
import { renderDeployConfig } from '../../../src/spec/deploy-config';
import { parseSpecText } from '../../../src/spec/parse-spec';

const root = path.join(__dirname, '..', '..', '..');

test('the committed modal/deploy-config.json equals a fresh render of examples/glm-5.1-b200.yaml', () => {
  const result = parseSpecText(fs.readFileSync(path.join(root, 'examples', 'glm-5.1-b200.yaml'), 'utf8'));
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  const committed = JSON.parse(fs.readFileSync(path.join(root, 'modal', 'deploy-config.json'), 'utf8')) as unknown;
  expect(committed).toEqual(renderDeployConfig(result.spec));
});

test("deploy.py's GPU → SM arch table equals the TypeScript GPU catalog", async () => {
  const { stdout } = await execa(
    path.join(root, '.venv', 'bin', 'python'),
    ['-W', 'ignore', '-c', 'import json, deploy; print(json.dumps(deploy.GPU_SM_ARCH))'],
    {
      cwd: path.join(root, 'modal'),
      timeout: 60_000,
    },
  );
  const fromCatalog = Object.fromEntries(Object.values(GPU_CATALOG).map((gpu) => [gpu.type, gpu.smArch]));
  expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}')).toEqual(fromCatalog);
}, 60_000);
