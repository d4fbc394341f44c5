import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { secretSource } from '../../src/config/secrets';
import { ErrorType } from '../../src/shared/errors';

describe('secretSource: secrets of one environment and state folder', () => {
  let stateDir: string;
  beforeEach(() => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-secrets-'));
  });
  afterEach(() => fs.rmSync(stateDir, { recursive: true, force: true }));

  it('reads GLM_OPS_SECRET_<NAME> first, then <stateDir>/secrets/<name>', () => {
    fs.mkdirSync(path.join(stateDir, 'secrets'));
    fs.writeFileSync(path.join(stateDir, 'secrets', 'glm-api-key'), ' sk-from-file\n');
    const env: NodeJS.ProcessEnv = {};
    const secrets = secretSource({ env, stateDir });
    expect(secrets.resolve('glm-api-key')).toBe('sk-from-file');
    // The variable is read at each call: the environment is the secret's interface.
    env.GLM_OPS_SECRET_GLM_API_KEY = ' sk-from-env ';
    expect(secrets.resolve('glm-api-key')).toBe('sk-from-env');
    env.GLM_OPS_SECRET_GLM_API_KEY = '  ';
    expect(secrets.resolve('glm-api-key')).toBe('sk-from-file');
  });

  it('names the variable and the file of a missing secret, as PlatformUnavailable', () => {
    fs.mkdirSync(path.join(stateDir, 'secrets'));
    fs.writeFileSync(path.join(stateDir, 'secrets', 'blank'), '\n');
    const secrets = secretSource({ env: {}, stateDir });
    for (const name of ['absent', 'blank']) {
      expect(() => secrets.resolve(name)).toThrow(
        expect.objectContaining({
          errorType: ErrorType.PlatformUnavailable,
          message: `secret "${name}" is not set: export GLM_OPS_SECRET_${name.toUpperCase()} or write it to ${path.join(stateDir, 'secrets', name)}`,
        }),
      );
    }
  });

  it('ensureLocal writes a mode-600 file only when the secret has no value', () => {
    const env: NodeJS.ProcessEnv = { GLM_OPS_SECRET_FROM_ENV: 'set' };
    const secrets = secretSource({ env, stateDir });
    secrets.ensureLocal('from-env', () => 'unused');
    expect(fs.existsSync(secrets.fileOf('from-env'))).toBe(false);
    secrets.ensureLocal('demo', () => 'sk-first');
    secrets.ensureLocal('demo', () => 'sk-second');
    expect(fs.readFileSync(secrets.fileOf('demo'), 'utf8')).toBe('sk-first');
    expect(fs.statSync(secrets.fileOf('demo')).mode & 0o777).toBe(0o600);
    expect(secrets.resolve('demo')).toBe('sk-first');
  });
});
