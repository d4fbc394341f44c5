import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkModalReady } from '../../../src/platforms/modal/modal-preflight';

describe('checkModalReady', () => {
  let home: string;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-preflight-'));
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  test('a missing client is reported with the fix', () => {
    const result = checkModalReady({ HOME: home, GLM_OPS_MODAL_CLI: path.join(home, 'nope'), MODAL_TOKEN_ID: 'a', MODAL_TOKEN_SECRET: 'b' });
    expect(result).toMatchObject({ ok: false, problem: expect.stringContaining('not installed'), fix: expect.stringContaining('GLM_OPS_MODAL_CLI') });
  });

  test('the installed client with both token variables is ready', () => {
    expect(checkModalReady({ HOME: home, MODAL_TOKEN_ID: 'ak-x', MODAL_TOKEN_SECRET: 'as-y' })).toEqual({ ok: true });
  });

  test('no tokens and no profile file is not ready, and the values never appear', () => {
    const result = checkModalReady({ HOME: home });
    expect(result).toMatchObject({ ok: false, fix: expect.stringContaining('modal token new') });
    const half = checkModalReady({ HOME: home, MODAL_TOKEN_ID: 'ak-secretvalue' });
    expect(half).toMatchObject({ ok: false, problem: expect.stringContaining('MODAL_TOKEN_SECRET is unset') });
    expect(JSON.stringify(half)).not.toContain('ak-secretvalue');
  });

  test('a profile file is enough', () => {
    fs.writeFileSync(path.join(home, '.modal.toml'), '[default]\n');
    expect(checkModalReady({ HOME: home })).toEqual({ ok: true });
  });
});
