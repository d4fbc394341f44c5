import { log } from '@temporalio/workflow';
import type { CompensationReport } from '../shared/rollout-types';
import { describeFailure } from './failure-description';

/** An undo step: what it does, in words the report and "left to do by hand" can show. */
export interface Compensation {
  step: string;
  run: () => Promise<void>;
}

/**
 * The saga's undo stack. A compensation is registered once its step succeeded (or, where a step may half-succeed,
 * before it) and runs newest first; a failed one is reported, never swallowed, and the rest still run.
 */
export class Compensations {
  private readonly stack: Compensation[] = [];

  /** Registers an undo step; returns it, so a step that completed cleanly can withdraw it. */
  add(compensation: Compensation): Compensation {
    this.stack.unshift(compensation);
    return compensation;
  }

  /** Withdraws an undo step that is no longer needed (its step finished and left nothing to undo). */
  remove(compensation: Compensation): void {
    const index = this.stack.indexOf(compensation);
    if (index >= 0) this.stack.splice(index, 1);
  }

  /** Runs every registered compensation, newest first, reporting each outcome as it is known. */
  async runAll(report: (outcome: CompensationReport) => void): Promise<void> {
    for (const compensation of this.stack) {
      try {
        await compensation.run();
        report({ step: compensation.step, outcome: 'done', detail: 'ok' });
      } catch (err) {
        const detail = describeFailure(err).message;
        log.error('compensation failed', { step: compensation.step, detail });
        report({ step: compensation.step, outcome: 'failed', detail });
      }
    }
  }
}
