import { findingOf, type LintRule } from '../finding';

/** Modal refuses a minimum above the maximum; catch it before deploy. */
export const modalMinAboveMax: LintRule = {
  id: 'modal-min-above-max',
  summary: 'modal.minContainers above modal.maxContainers',
  reason: 'guide §1 @app.cls scaling: min_containers 0 … max_containers 3',
  check(spec) {
    if (spec.modal.minContainers <= spec.modal.maxContainers) return [];
    return [
      findingOf(this, {
        level: 'error',
        path: 'modal.minContainers',
        message: `modal.minContainers ${spec.modal.minContainers} is above modal.maxContainers ${spec.modal.maxContainers}`,
        fix: `lower minContainers to ${spec.modal.maxContainers} or raise maxContainers`,
      }),
    ];
  },
};
