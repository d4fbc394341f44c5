import { ApplicationFailure } from '@temporalio/common';
import { createSpecActivities } from '../../src/activities/spec-activities';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../../src/shared/errors';
import { loadExampleSpec } from '../helpers/test-spec';

describe("the rollout's validate step holds sglang.args to the image's SGLang flag table", () => {
  const spec = loadExampleSpec('examples/glm-5.1-b200.yaml');

  it('a misspelled flag fails validation (SpecInvalid, not retried) before anything is deployed', async () => {
    const { 'mem-fraction-static': _m, ...args } = spec.sglang.args;
    const misspelled = { ...spec, sglang: { ...spec.sglang, args: { ...args, 'mem-fraction-statik': 0.8 } } };
    const failure = await createSpecActivities()
      .validateSpec({ spec: misspelled })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: ErrorType.SpecInvalid });
    expect(NON_RETRYABLE_ERROR_TYPES).toContain(ErrorType.SpecInvalid);
    expect((failure as Error).message).toContain(
      'sglang.args.mem-fraction-statik: "mem-fraction-statik" is not a flag of SGLang 0.5.10: did you mean mem-fraction-static?',
    );
  });

  it('the guide spec moved to 0.5.23 without renaming fails validation naming the dsa spellings', async () => {
    const moved = { ...spec, sglang: { ...spec.sglang, image: 'lmsysorg/sglang:v0.5.23' } };
    await expect(createSpecActivities().validateSpec({ spec: moved })).rejects.toThrow(
      /nsa-decode-backend.*renamed dsa-decode-backend/,
    );
  });

  it('the guide spec validates on its own image, with no flag warning', async () => {
    const { warnings } = await createSpecActivities().validateSpec({ spec });
    expect(warnings.filter((warning) => /SGLang's own flag table/.test(warning))).toEqual([]);
  });
});
