import * as path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config';
import { projectRoot } from '../../src/config/paths';

describe('loadConfig: the settings an entry point reads from its environment once', () => {
  it('resolves the state folder, the task queue override and the hub, and keeps the environment for children', () => {
    const env = {
      GLM_OPS_HOME: ' ./some/state ',
      GLM_OPS_TASK_QUEUE: 'glm-ops-other',
      HF_ENDPOINT: 'http://127.0.0.1:8799',
      HF_TOKEN: 'hf_x',
      GLM_OPS_HUB_TOKEN: ' hub-secret ',
    };
    const config = loadConfig(env);
    expect(config).toEqual({
      env,
      projectRoot: projectRoot(),
      stateDir: path.resolve('./some/state'),
      taskQueue: 'glm-ops-other',
      hub: { endpoint: 'http://127.0.0.1:8799', token: 'hf_x' },
      servedHubToken: 'hub-secret',
      devStack: { temporalPort: 7233, temporalUiPort: 8233, hubPort: 8700, fixtureSizeMB: 200 },
    });
  });

  it('treats unset and blank variables alike: the defaults apply', () => {
    const config = loadConfig({ GLM_OPS_HOME: '', GLM_OPS_TASK_QUEUE: '  ', HF_ENDPOINT: '' });
    expect(config.stateDir).toBe(path.join(projectRoot(), '.glm-ops'));
    expect(config.taskQueue).toBeUndefined();
    expect(config.hub).toEqual({});
    expect(config.servedHubToken).toBeUndefined();
  });

  it("reads the dev stack's preferred ports and fixture size, and refuses a value that is not one, naming it", () => {
    const config = loadConfig({ GLM_OPS_TEMPORAL_PORT: ' 9233 ', GLM_OPS_HUB_PORT: '', GLM_OPS_FIXTURE_SIZE_MB: '6' });
    expect(config.devStack).toEqual({ temporalPort: 9233, temporalUiPort: 8233, hubPort: 8700, fixtureSizeMB: 6 });
    for (const bad of ['seventy', '0', '65536', '72.5']) {
      expect(() => loadConfig({ GLM_OPS_TEMPORAL_UI_PORT: bad })).toThrow(/GLM_OPS_TEMPORAL_UI_PORT/);
    }
    expect(() => loadConfig({ GLM_OPS_FIXTURE_SIZE_MB: 'big' })).toThrow(/GLM_OPS_FIXTURE_SIZE_MB/);
  });

  it('refuses an HF_ENDPOINT that is not an http(s) URL, naming the variable', () => {
    expect(() => loadConfig({ HF_ENDPOINT: 'huggingface.co' })).toThrow(ConfigError);
    expect(() => loadConfig({ HF_ENDPOINT: 'huggingface.co' })).toThrow(/HF_ENDPOINT/);
  });
});
