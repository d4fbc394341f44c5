import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** State the fake `modal` keeps between invocations: deployed versions and every argv it received. */
export interface FakeModalState {
  history: Array<{ version: string; time_deployed: string; client: string; deployed_by: string; commit: null; tag: string | null }>;
  deployed: boolean;
  calls: string[][];
  /** argv[0..1] joined with a space → exit code and stderr to fail with. */
  failures: Record<string, { code: number; stderr: string }>;
}

/**
 * A stand-in `modal` executable (a real child process, a node script) that answers the subcommands the adapter uses
 * in the client's documented JSON formats, so adapter logic (idempotency, parsing, error mapping) runs end to end.
 */
export function createFakeModal(): { bin: string; dir: string; state: () => FakeModalState; setState: (s: FakeModalState) => void; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-fake-modal-'));
  const stateFile = path.join(dir, 'state.json');
  const bin = path.join(dir, 'modal');
  const initial: FakeModalState = { history: [], deployed: false, calls: [], failures: {} };
  fs.writeFileSync(stateFile, JSON.stringify(initial));
  fs.writeFileSync(
    bin,
    `#!/usr/bin/env node
const fs = require('fs');
const file = ${JSON.stringify(stateFile)};
const s = JSON.parse(fs.readFileSync(file, 'utf8'));
const argv = process.argv.slice(2);
s.calls.push(argv);
const save = () => fs.writeFileSync(file, JSON.stringify(s));
const key = argv.slice(0, 2).join(' ');
const fail = s.failures[key] || s.failures[argv[0]];
if (fail) { save(); process.stderr.write(fail.stderr + '\\n'); process.exit(fail.code); }
const next = () => 'v' + (s.history.length + 1);
const entry = (tag) => ({ version: next(), time_deployed: '2026-03-01 05:00:0' + s.history.length + '+00:00', client: '1.6.4', deployed_by: 'ci', commit: null, tag });
if (argv[0] === 'deploy') { const t = argv.indexOf('--tag'); s.history.unshift(entry(t >= 0 ? argv[t + 1] : null)); s.deployed = true; save(); console.log('App deployed'); process.exit(0); }
if (key === 'app history') { save(); if (!s.history.length) { process.stderr.write("Error: No App with name 'x' found in the 'main' environment.\\n"); process.exit(1); } const anyTag = s.history.some((h) => h.tag); console.log(JSON.stringify(s.history.map((h) => { const r = { ...h }; if (!anyTag) delete r.tag; return r; }))); process.exit(0); }
if (key === 'app list') { save(); console.log(JSON.stringify(s.deployed ? [{ app_id: 'ap-123', description: argv.includes('--env') ? 'glm-5.1-production' : 'glm-5.1-production', state: 'deployed', tasks: '1', created_at: '2026-03-01 05:00:00+00:00', stopped_at: null }] : [])); process.exit(0); }
if (key === 'app rollback') { if (!/^v\\d+$/.test(argv[3] || '')) { save(); process.stderr.write('Error: Invalid version specifer: ' + argv[3] + '\\n'); process.exit(2); } s.history.unshift(entry(null)); save(); process.exit(0); }
if (key === 'app stop') { s.deployed = false; save(); process.exit(0); }
if (key === 'app logs') { save(); console.log('2026-03-01 05:00:00+00:00 [health] passed on attempt 3'); console.log('2026-03-01 05:00:01+00:00 INFO: 127.0.0.1 "GET /health HTTP/1.1" 200'); process.exit(0); }
save();
process.stderr.write('fake modal: unhandled ' + argv.join(' ') + '\\n');
process.exit(3);
`,
    { mode: 0o755 },
  );
  return {
    bin,
    dir,
    state: () => JSON.parse(fs.readFileSync(stateFile, 'utf8')) as FakeModalState,
    setState: (s) => fs.writeFileSync(stateFile, JSON.stringify(s)),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
