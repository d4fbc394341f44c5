import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { appWorkflowsQuery, appWorkflowsUiLink } from '../../src/cli/app-workflows-link';
import type { TemporalConnectConfig } from '../../src/config/temporal-connection';
import { startDevServer, type DevServer } from '../../src/devstack/dev-server';
import { isProcessAlive } from '../../src/process/process-identity';
import { APP } from '../../src/shared/search-attributes';
import { testId } from '../helpers/temporal';
import { waitFor } from '../helpers/wait-for';

/**
 * The link the CLI prints opens the UI's workflow list with the app's filter. Checked against the UI the temporal CLI
 * ships (a dev server of its own, with the UI): the page answers, and the UI server's own list API, given the link's
 * `query`, returns the app's workflows and no other app's.
 */
describe('the Temporal UI link to an app’s workflows', () => {
  let home: string;
  let server: DevServer | undefined;

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-ui-link-'));
    server = await startDevServer({
      headless: false,
      preferredPort: 0,
      logFile: path.join(home, 'temporal.log'),
      detached: false,
    });
  });

  afterAll(() => {
    if (server && isProcessAlive(server.pid)) process.kill(server.pid, 'SIGKILL');
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('writes the filter as the UI does and needs a known UI address', () => {
    expect(appWorkflowsQuery('glm-5.1-local-demo')).toBe('`GlmOpsApp`="glm-5.1-local-demo"');
    expect(appWorkflowsQuery('a"b')).toBe('`GlmOpsApp`="a\\"b"');
    const config = { namespace: 'default', uiUrl: 'http://127.0.0.1:8233' } as TemporalConnectConfig;
    expect(appWorkflowsUiLink(config, 'demo')).toBe(
      'http://127.0.0.1:8233/namespaces/default/workflows?query=%60GlmOpsApp%60%3D%22demo%22',
    );
    expect(appWorkflowsUiLink({ ...config, uiUrl: undefined }, 'demo')).toBeUndefined();
  });

  it('opens the list of the app’s workflows in the shipped UI', async () => {
    const uiUrl = server!.uiUrl!;
    const app = testId('ui-app');
    const connection = await Connection.connect({ address: server!.address });
    try {
      const client = new Client({ connection });
      // No worker: the workflows only need to exist, with their search attributes, for the list to show them.
      for (const [id, name] of [
        [`${app}-rollout`, app],
        [`${app}-other`, `${app}-other`],
      ]) {
        await client.workflow.start('rollout', {
          taskQueue: testId('no-worker'),
          workflowId: id!,
          typedSearchAttributes: [{ key: APP, value: name! }],
        });
      }
      const link = appWorkflowsUiLink({ namespace: 'default', uiUrl } as TemporalConnectConfig, app)!;
      const page = await fetch(link);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);

      const query = new URL(link).searchParams.get('query')!;
      const listed = async (): Promise<string[]> => {
        const response = await fetch(`${uiUrl}/api/v1/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
        expect(response.status).toBe(200);
        const body = (await response.json()) as { executions?: { execution: { workflowId: string } }[] };
        return (body.executions ?? []).map((e) => e.execution.workflowId);
      };
      await waitFor(async () => (await listed()).length > 0, { what: 'the app’s workflow in the UI’s list' });
      expect(await listed()).toEqual([`${app}-rollout`]);
    } finally {
      await connection.close();
    }
  });
});
