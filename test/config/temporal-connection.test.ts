import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  describeConnection,
  hasExplicitTemporalConfig,
  loadTemporalConfig,
} from '../../src/config/temporal-connection';

describe('Temporal connection settings from the standard env config (what the CLI and the worker print)', () => {
  let dir: string;
  /** An environment with nothing of this machine's Temporal settings in it. */
  let clean: NodeJS.ProcessEnv;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-tconf-'));
    clean = { GLM_OPS_HOME: path.join(dir, 'state'), XDG_CONFIG_HOME: path.join(dir, 'xdg'), HOME: dir };
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  /** The user's own settings win: the embedded stack is then not even looked up. */
  const explicit = (env: NodeJS.ProcessEnv) =>
    loadTemporalConfig(env, () => {
      throw new Error('the embedded stack was looked up although the user configured Temporal');
    });

  it('TEMPORAL_ADDRESS + TEMPORAL_NAMESPACE: address, namespace, TLS off, no API key, and where they came from', () => {
    const config = explicit({ ...clean, TEMPORAL_ADDRESS: '10.0.0.5:7233', TEMPORAL_NAMESPACE: 'prod' });
    expect(config.source).toBe('envconfig');
    expect(config.origin).toBe('TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE');
    expect(describeConnection(config)).toBe('Temporal at 10.0.0.5:7233, namespace prod, TLS off, API key not set');
  });

  it('an API key turns TLS on and is reported as set, never shown', () => {
    const key = 'secret-key-value-123';
    const config = explicit({
      ...clean,
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'ns.acct',
      TEMPORAL_API_KEY: key,
    });
    const line = `${describeConnection(config)} ${config.origin}`;
    expect(line).toBe(
      'Temporal at ns.acct.tmprl.cloud:7233, namespace ns.acct, TLS on, API key set TEMPORAL_ADDRESS, TEMPORAL_API_KEY, TEMPORAL_NAMESPACE',
    );
    expect(line).not.toContain(key);
  });

  it('a temporal.toml profile with a client certificate: mTLS, named by profile and file', () => {
    const cert = path.join(dir, 'client.pem');
    const key = path.join(dir, 'client.key');
    fs.writeFileSync(cert, '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n');
    fs.writeFileSync(key, '-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n');
    const toml = path.join(dir, 'temporal.toml');
    fs.writeFileSync(
      toml,
      `[profile.prod]\naddress = "temporal.internal:7233"\nnamespace = "prod"\n[profile.prod.tls]\nclient_cert_path = "${cert}"\nclient_key_path = "${key}"\n`,
    );
    const config = explicit({ ...clean, TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' });
    expect(config.origin).toBe(`profile "prod" of ${toml}`);
    expect(describeConnection(config)).toBe(
      'Temporal at temporal.internal:7233, namespace prod, TLS on (client certificate), API key not set',
    );
  });

  it('a config file that does not exist, or a profile it lacks, is an error naming it (not a silent fallback)', () => {
    const missing = path.join(dir, 'nope.toml');
    expect(() => explicit({ ...clean, TEMPORAL_CONFIG_FILE: missing })).toThrow(
      `TEMPORAL_CONFIG_FILE ${missing} does not exist`,
    );
    const toml = path.join(dir, 'one.toml');
    fs.writeFileSync(toml, '[profile.default]\naddress = "127.0.0.1:7233"\n');
    expect(() => explicit({ ...clean, TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'team' })).toThrow(
      new RegExp(`TEMPORAL_CONFIG_FILE ${toml}.*team`),
    );
  });

  it('TEMPORAL_NAMESPACE alone counts as the user’s own settings; nothing set means the embedded stack', () => {
    expect(hasExplicitTemporalConfig({ ...clean, TEMPORAL_NAMESPACE: 'prod' })).toBe(true);
    expect(hasExplicitTemporalConfig(clean)).toBe(false);
    const embedded = loadTemporalConfig(clean, () => ({ address: '127.0.0.1:17233', uiUrl: 'http://127.0.0.1:18233' }));
    expect(embedded.source).toBe('embedded');
    expect(embedded.namespace).toBe('default');
    expect(embedded.connectionOptions.address).toBe('127.0.0.1:17233');
    expect(embedded.uiUrl).toBe('http://127.0.0.1:18233');
    expect(loadTemporalConfig(clean, () => undefined).connectionOptions.address).toBe('127.0.0.1:7233');
  });
});
