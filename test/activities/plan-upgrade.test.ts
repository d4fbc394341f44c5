import { MockActivityEnvironment } from '@temporalio/testing';
import { createUpgradeActivities } from '../../src/activities/upgrade-activities';
import type { Deployment, Platform } from '../../src/platforms/platform';
import { ErrorType } from '../../src/shared/errors';
import { loadExampleSpec } from '../helpers/test-spec';

const spec = loadExampleSpec('examples/glm-5.1-b200.yaml');

function planUpgradeWith(current: Deployment | null) {
  // planUpgrade reads the serving version only; the rest of the port is never called.
  const platform = { currentDeployment: async () => current } as unknown as Platform;
  return createUpgradeActivities({ platformNamed: () => platform }).planUpgrade;
}

const deployed: Deployment = {
  app: spec.app,
  version: 3,
  rolloutId: 'r3',
  spec,
  deployedAt: '2026-12-01T00:00:00.000Z',
  isCurrent: true,
};
const ref = { app: spec.app, platform: 'local' as const };

test('asking for what already runs is AlreadyCurrent, not SpecInvalid, and names the field', async () => {
  await expect(
    new MockActivityEnvironment().run(planUpgradeWith(deployed), {
      ...ref,
      request: { sglangImage: spec.sglang.image },
    }),
  ).rejects.toMatchObject({
    name: 'ApplicationFailure',
    type: ErrorType.AlreadyCurrent,
    message: expect.stringContaining('nothing to upgrade'),
    details: [{ field: 'sglangImage' }],
  });
});

test('a GPU the catalog does not know stays SpecInvalid', async () => {
  await expect(
    new MockActivityEnvironment().run(planUpgradeWith(deployed), { ...ref, request: { gpuType: 'TPUv5' } }),
  ).rejects.toMatchObject({ type: ErrorType.SpecInvalid, details: [{ field: 'gpuType' }] });
});

test('an app that was never rolled out is NotFound', async () => {
  await expect(
    new MockActivityEnvironment().run(planUpgradeWith(null), { ...ref, request: { sglangImage: 'x:1' } }),
  ).rejects.toMatchObject({ type: ErrorType.NotFound, message: expect.stringContaining('never rolled out') });
});

test('a real change plans against the deployed version', async () => {
  const plan = await new MockActivityEnvironment().run(planUpgradeWith(deployed), {
    ...ref,
    request: { gpuType: 'H200' },
  });
  expect(plan).toMatchObject({ fromVersion: 3, spec: { gpu: { type: 'H200' } } });
});
