import { findingOf, type LintRule } from '../finding';
import { numberArg } from '../spec-args';

/** Modal's per-container input cap bounds how many requests SGLang can ever run at once. */
export const maxInputsBelowRunningRequests: LintRule = {
  id: 'max-inputs-below-running-requests',
  summary: 'modal.maxInputs below max-running-requests (decode slots traffic can never reach)',
  reason: 'guide §1: replica counts and @modal.concurrent interact with SGLang batching; adjust them together',
  check(spec) {
    const running = numberArg(spec, 'max-running-requests');
    if (running === undefined || spec.modal.maxInputs >= running) return [];
    return [
      findingOf(this, {
        level: 'warning',
        path: 'modal.maxInputs',
        message: `modal.maxInputs ${spec.modal.maxInputs} caps each container below max-running-requests ${running}: ${running - spec.modal.maxInputs} decode slots per replica stay idle while Modal spills to new replicas`,
        fix: `raise modal.maxInputs to ${running}, or lower max-running-requests to ${spec.modal.maxInputs}`,
      }),
    ];
  },
};
