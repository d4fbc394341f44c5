import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { PlatformNotConfiguredError } from '../../src/activities';
import { toApplicationFailure, withFailureTypes } from '../../src/activities/to-application-failure';
import { SecretMissingError } from '../../src/config/secrets';
import {
  NotFoundError,
  SpecRefusedError,
  EngineUnavailableError,
} from '../../src/platforms/local/local-platform-errors';
import { ModalCommandError, ModalTransportError } from '../../src/platforms/modal/modal-platform-errors';
import { ProbeHttpError, ProbeProtocolError, ProbeTransportError } from '../../src/probes/probe-errors';
import { ErrorType } from '../../src/shared/errors';
import { UpgradeSpecError } from '../../src/spec/upgrade-spec';
import {
  CompileFailedError,
  DiskFullError,
  HubTransportError,
  StorageAbortedError,
  WeightsCorruptError,
  WeightsNotFoundError,
} from '../../src/storage/storage-errors';

/** Every domain error class that can reach an activity, the type it must be reported as, and its details. */
const CASES: Array<[string, Error, ErrorType, Record<string, unknown> | undefined]> = [
  [
    'WeightsNotFoundError',
    new WeightsNotFoundError('zai-org/GLM-5.1-FP8', 'v9', 404),
    ErrorType.WeightsNotFound,
    { repo: 'zai-org/GLM-5.1-FP8', revision: 'v9', status: 404 },
  ],
  [
    'WeightsCorruptError',
    new WeightsCorruptError('model-00001.safetensors', 3, 'sha256 mismatch'),
    ErrorType.WeightsCorrupt,
    { file: 'model-00001.safetensors', attempts: 3 },
  ],
  ['DiskFullError', new DiskFullError('/vol', 'a.bin'), ErrorType.DiskFull, { dir: '/vol', file: 'a.bin' }],
  [
    'HubTransportError with a status',
    new HubTransportError('u', 'HTTP 503', 503),
    ErrorType.TransportError,
    { status: 503 },
  ],
  ['HubTransportError without a status', new HubTransportError('u', 'reset'), ErrorType.TransportError, undefined],
  [
    'CompileFailedError',
    new CompileFailedError('exit 1', 1, null, ['boom']),
    ErrorType.CompileFailed,
    { exitCode: 1, signal: null, outputTail: ['boom'] },
  ],
  ['StorageAbortedError', new StorageAbortedError('download'), ErrorType.Aborted, undefined],
  ['ProbeHttpError', new ProbeHttpError('GET', '/x', 500, 'oops'), ErrorType.TransportError, { status: 500 }],
  [
    'ProbeTransportError',
    new ProbeTransportError('GET', '/x', 'refused', 'refused'),
    ErrorType.TransportError,
    undefined,
  ],
  ['ProbeProtocolError', new ProbeProtocolError('POST', '/x', 'not JSON'), ErrorType.TransportError, undefined],
  ['local NotFoundError', new NotFoundError('no v9'), ErrorType.NotFound, undefined],
  ['local SpecRefusedError', new SpecRefusedError('bad'), ErrorType.SpecInvalid, undefined],
  ['local EngineUnavailableError', new EngineUnavailableError('no sglang'), ErrorType.PlatformUnavailable, undefined],
  ['ModalTransportError', new ModalTransportError('timeout'), ErrorType.TransportError, undefined],
  [
    'ModalCommandError',
    new ModalCommandError('deploy failed', ErrorType.DeployFailed),
    ErrorType.DeployFailed,
    undefined,
  ],
  [
    'SecretMissingError',
    new SecretMissingError('glm-api-key', '/state/secrets/glm-api-key'),
    ErrorType.PlatformUnavailable,
    undefined,
  ],
  ['PlatformNotConfiguredError', new PlatformNotConfiguredError('modal'), ErrorType.PlatformUnavailable, undefined],
  [
    'UpgradeSpecError (bad input)',
    new UpgradeSpecError('gpuType', 'not in the catalog'),
    ErrorType.SpecInvalid,
    { field: 'gpuType' },
  ],
  [
    'UpgradeSpecError (nothing to change)',
    new UpgradeSpecError('sglangImage', 'already runs it', ErrorType.AlreadyCurrent),
    ErrorType.AlreadyCurrent,
    { field: 'sglangImage' },
  ],
];

describe('toApplicationFailure reads the type and details a domain error declares', () => {
  test.each(CASES)('%s', (_name, error, type, details) => {
    const failure = toApplicationFailure(error, ErrorType.DeployFailed);
    expect(failure).toMatchObject({ type, message: error.message });
    expect(failure.details).toEqual(details ? [details] : []);
    // Whether it is retried is the retry profiles' decision, never the failure's.
    expect(failure.nonRetryable).toBe(false);
  });

  test('an error that declares nothing becomes the fallback type, its message kept', () => {
    expect(toApplicationFailure(new RangeError('bad index'), ErrorType.DeployFailed)).toMatchObject({
      type: ErrorType.DeployFailed,
      message: 'bad index',
    });
    expect(toApplicationFailure('a string')).toMatchObject({ type: ErrorType.TransportError, message: 'a string' });
  });

  test('an error that only looks typed (a class name or an errorType field, no DomainError) is not trusted', () => {
    const lookalike = Object.assign(new Error('x'), { name: 'WeightsNotFoundError', errorType: ErrorType.NotFound });
    expect(toApplicationFailure(lookalike).type).toBe(ErrorType.TransportError);
  });

  test('an ApplicationFailure passes through unchanged', () => {
    const failure = ApplicationFailure.create({ type: ErrorType.SmokeTestFailed, message: 'smoke' });
    expect(toApplicationFailure(failure)).toBe(failure);
  });
});

describe('withFailureTypes, the boundary of every activity', () => {
  const activities = withFailureTypes(
    {
      async fails(error: Error): Promise<void> {
        throw error;
      },
      async deploy(): Promise<void> {
        throw new Error('the platform said no');
      },
      async waitsForCancel(): Promise<void> {
        await new Promise((_resolve, reject) => setTimeout(() => reject(new StorageAbortedError('download')), 200));
      },
      async returns(value: number): Promise<number> {
        return value * 2;
      },
    },
    { deploy: ErrorType.DeployFailed },
  );

  test('results pass through', async () => {
    await expect(new MockActivityEnvironment().run(activities.returns, 21)).resolves.toBe(42);
  });

  test('a domain error leaves as its typed failure', async () => {
    await expect(
      new MockActivityEnvironment().run(activities.fails, new DiskFullError('/vol', 'a.bin')),
    ).rejects.toMatchObject({ name: 'ApplicationFailure', type: ErrorType.DiskFull, details: [{ dir: '/vol' }] });
  });

  test("an untyped error takes the activity's fallback", async () => {
    await expect(new MockActivityEnvironment().run(activities.deploy)).rejects.toMatchObject({
      type: ErrorType.DeployFailed,
      message: 'the platform said no',
    });
    await expect(new MockActivityEnvironment().run(activities.fails, new Error('bug'))).rejects.toMatchObject({
      type: ErrorType.TransportError,
    });
  });

  test('a cancelled activity reports the cancellation, not the error its body threw on the way out', async () => {
    const env = new MockActivityEnvironment();
    const run = env.run(activities.waitsForCancel);
    env.cancel();
    await expect(run).rejects.toMatchObject({ name: 'CancelledFailure' });
  });
});
