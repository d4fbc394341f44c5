import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import execa from 'execa';
import { formatSpecIssue, parseSpecText } from '../../src/spec/parse-spec';
import { NOTIFY_EVENTS } from '../../src/shared/notify-types';
import { builtCliEntry } from '../helpers/built-lib';
import { REPO_ROOT } from '../helpers/repo-files';

const demo = fs.readFileSync(path.join(REPO_ROOT, 'examples', 'local-demo.yaml'), 'utf8');

/** The local demo with a `notify:` section; the messages of every issue, formatted as `spec check` prints them. */
function check(notify: string): { spec?: ReturnType<typeof parseSpecText>; messages: string[] } {
  const result = parseSpecText(`${demo}notify:\n${notify}`);
  return { spec: result, messages: result.ok ? [] : result.errors.map((issue) => formatSpecIssue(issue)) };
}

describe('the spec’s notify section', () => {
  it('accepts webhooks by secret name; events default to every event, the name to the secret’s', () => {
    const result = parseSpecText(
      `${demo}notify:\n  - { format: slack, urlSecret: slack-webhook, events: [failed, rolled-back] }\n  - { name: pager, format: json, urlSecret: ops-hook }\n`,
    );
    if (!result.ok) throw new Error(result.errors.map((issue) => formatSpecIssue(issue)).join('\n'));
    expect(result.spec.notify).toEqual([
      { format: 'slack', urlSecret: 'slack-webhook', events: ['failed', 'rolled-back'] },
      { name: 'pager', format: 'json', urlSecret: 'ops-hook', events: [...NOTIFY_EVENTS] },
    ]);
  });

  it('a URL written as urlSecret is refused by field, and neither the message nor the source line quotes it', () => {
    const url = 'https://hooks.slack.com/services/T0AAAA/B0BBBB/zzzzSECRETzzzz';
    const { messages } = check(`  - { format: slack, urlSecret: "${url}" }\n`);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^\d+:\d+: notify\[0\]\.urlSecret: holds a URL: a webhook URL is a credential/);
    expect(messages.join('\n')).not.toContain('zzzzSECRETzzzz');
  });

  it('a URL pasted under a field of its own (url:) is an unknown field, and its value is not echoed', () => {
    const { messages } = check(
      `  - format: slack\n    url: https://hooks.slack.com/services/T0AAAA/B0BBBB/zzzzSECRETzzzz\n`,
    );
    expect(messages.map((m) => m.split('\n')[0]!.replace(/^\d+:\d+: /, ''))).toEqual([
      'notify[0].urlSecret: "urlSecret" is required and missing: add it (non-empty text of at most 63 characters)',
      'notify[0].url: unknown field "url": notify[0] has no such field',
    ]);
    expect(messages.join('\n')).not.toContain('zzzzSECRETzzzz');
  });

  it.each([
    [
      '  - { format: teams, urlSecret: hook }\n',
      'notify[0].format: "format" must be one of "json", "slack", got "teams"',
    ],
    [
      '  - { format: json, urlSecret: hook, events: [started, finished] }\n',
      'notify[0].events[1]: item 1 must be one of "started", "waiting-for-approval", "promoted", "failed", "rolled-back", "compensation-failed", got "finished"',
    ],
    ['  - { format: json, urlSecret: hook, events: [failed, failed] }\n', 'notify[0].events[1]: lists "failed" twice'],
    [
      '  - { format: json, urlSecret: hook }\n  - { format: slack, urlSecret: hook }\n',
      'notify[1].urlSecret: names the same webhook as item 0 ("hook"): give each webhook its own name',
    ],
    [
      '  - { format: json, urlSecret: "my hook" }\n',
      'notify[0].urlSecret: "urlSecret" must be a secret name, got "my hook": letters, digits, ".", "_", "-"',
    ],
    ['  - { format: json, urlSecret: hook, events: [] }\n', 'notify[0].events: "events" must be'],
  ])('refuses %j naming the field', (notify, expected) => {
    const { messages } = check(notify);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.split('\n')[0]!.replace(/^\d+:\d+: /, '')).toContain(expected);
  });

  it('glm-ops spec check accepts a spec with the section (exit 0)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-notify-spec-'));
    const file = path.join(dir, 'notify.yaml');
    fs.writeFileSync(
      file,
      `${demo}notify:\n  - { format: slack, urlSecret: slack-webhook, events: [failed, rolled-back] }\n`,
    );
    const result = await execa(process.execPath, [builtCliEntry(), 'spec', 'check', file], {
      cwd: REPO_ROOT,
      reject: false,
      env: { NODE_PATH: path.join(REPO_ROOT, 'node_modules') },
    });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('glm-ops spec check refuses a URL pasted as urlSecret (exit 2) and prints it nowhere', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-notify-spec-'));
    const file = path.join(dir, 'pasted.yaml');
    const url = 'https://hooks.slack.com/services/T0AAAA/B0BBBB/zzzzSECRETzzzz';
    fs.writeFileSync(file, `${demo}notify:\n  - format: slack\n    urlSecret: ${url}\n`);
    const result = await execa(process.execPath, [builtCliEntry(), 'spec', 'check', file], {
      cwd: REPO_ROOT,
      reject: false,
      env: { NODE_PATH: path.join(REPO_ROOT, 'node_modules') },
    });
    expect(result.exitCode).toBe(2);
    expect(`${result.stdout}${result.stderr}`).toMatch(/notify\[0\]\.urlSecret: holds a URL/);
    expect(`${result.stdout}${result.stderr}`).not.toContain('zzzzSECRETzzzz');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
