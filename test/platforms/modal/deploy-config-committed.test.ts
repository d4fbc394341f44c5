import execa from 'execa';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { renderDeployConfig } from '../../../src/platforms/modal/deploy-config';
import { GPU_CATALOG } from '../../../src/spec/gpu-catalog';
import { parseSpecText } from '../../../src/spec/parse-spec';
import type { Spec } from '../../../src/spec/schema';
import { WARMUP_REQUESTS } from '../../../src/spec/warmup-requests';

const root = path.join(__dirname, '..', '..', '..');

function exampleSpec(name: string): Spec {
  const result = parseSpecText(fs.readFileSync(path.join(root, 'examples', name), 'utf8'));
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.spec;
}

test('the committed modal/deploy-config.json equals a fresh render of examples/glm-5.1-b200.yaml', () => {
  const committed = JSON.parse(fs.readFileSync(path.join(root, 'modal', 'deploy-config.json'), 'utf8')) as unknown;
  expect(committed).toEqual(renderDeployConfig(exampleSpec('glm-5.1-b200.yaml')));
});

test('deploy.py takes the SM arch, the sentinel name, the timeouts and the warmups from the render, not a copy', async () => {
  // An H200 render: a deploy.py that kept its own table or prompts would still answer with B200's or its own.
  const spec = exampleSpec('glm-5.1-h200.yaml');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-config-'));
  const configPath = path.join(dir, 'deploy-config.json');
  fs.writeFileSync(configPath, JSON.stringify(renderDeployConfig(spec)));
  const script = [
    'import json, deploy',
    'print(json.dumps({',
    '  "smArch": deploy.kernel_target(deploy.CONFIG, "c" * 40)["smArch"],',
    '  "sentinelFile": deploy.SENTINEL_FILE,',
    '  "timeouts": [deploy.DOWNLOAD_TIMEOUT_S, deploy.COMPILE_TIMEOUT_S, deploy.VERIFY_TIMEOUT_S, deploy.COMMIT_TIMEOUT_S],',
    '  "warmups": deploy.warmup_requests(deploy.CONFIG),',
    '}))',
  ].join('\n');
  try {
    const { stdout } = await execa(path.join(root, '.venv', 'bin', 'python'), ['-W', 'ignore', '-c', script], {
      cwd: path.join(root, 'modal'),
      env: { GLM_OPS_DEPLOY_CONFIG: configPath },
      timeout: 60_000,
    });
    const fromPython = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    const rendered = renderDeployConfig(spec);
    expect(fromPython).toEqual({
      smArch: GPU_CATALOG.H200!.smArch,
      sentinelFile: rendered.sentinelFile,
      timeouts: [
        rendered.timeouts.downloadSec,
        rendered.timeouts.compileSec,
        rendered.timeouts.verifySec,
        rendered.timeouts.commitSec,
      ],
      warmups: WARMUP_REQUESTS.map(({ name, body }) => [name, { ...body, model: spec.model.servedName }]),
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
