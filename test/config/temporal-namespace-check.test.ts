import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import {
  checkNamespace,
  searchAttributeCommands,
  searchAttributeProblems,
} from '../../src/config/temporal-namespace-check';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import { testTemporalAddress } from '../helpers/temporal';

const { IndexedValueType } = temporal.api.enums.v1;

describe('namespace readiness: the namespace exists and has glm-ops’ search attributes', () => {
  it('finds missing and mistyped attributes and prints the commands that fix each', () => {
    const problems = searchAttributeProblems({
      GlmOpsApp: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      GlmOpsPhase: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      GlmOpsGpuType: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      GlmOpsDeployedVersion: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    });
    expect(problems).toEqual([
      { name: 'GlmOpsSglangImage', needed: 'Keyword' },
      { name: 'GlmOpsDeployedVersion', needed: 'Int', registeredAs: 'Keyword' },
    ]);
    expect(searchAttributeCommands(problems, 'h:7233', 'prod')).toEqual([
      'temporal operator search-attribute create --address h:7233 --namespace prod --name GlmOpsSglangImage --type Keyword',
      'temporal operator search-attribute remove --address h:7233 --namespace prod --name GlmOpsDeployedVersion --yes',
      'temporal operator search-attribute create --address h:7233 --namespace prod --name GlmOpsDeployedVersion --type Int',
    ]);
    expect(searchAttributeProblems({})).toHaveLength(CUSTOM_SEARCH_ATTRIBUTES.length);
  });

  describe('against the real test server', () => {
    let connection: Connection;
    beforeAll(async () => {
      connection = await Connection.connect({ address: testTemporalAddress() });
    });
    afterAll(async () => {
      await connection?.close();
    });

    it('passes the default namespace of the dev server started with the project’s search attributes', async () => {
      await expect(
        checkNamespace(connection, { address: testTemporalAddress(), namespace: 'default' }),
      ).resolves.toEqual({ warnings: [] });
    });

    it('names a namespace that does not exist and the command that creates it', async () => {
      const address = testTemporalAddress();
      const failure = await checkNamespace(connection, { address, namespace: 'no-such-namespace' }).then(
        () => undefined,
        (err: unknown) => err as { name: string; message: string; commands: string[] },
      );
      expect(failure).toMatchObject({
        name: 'NamespaceNotReadyError',
        commands: [`temporal operator namespace create --address ${address} --namespace no-such-namespace`],
      });
      expect(failure?.message).toMatch(/^namespace no-such-namespace does not exist at 127\.0\.0\.1:\d+: create it/);
    });
  });
});
