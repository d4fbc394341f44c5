import * as os from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import { WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Config } from '../../config/config';
import { decide } from '../../shared/performance-messages';
import type { DecideInput } from '../../shared/performance-types';
import type { RolloutResult } from '../../shared/rollout-types';
import { rolloutWorkflowId } from '../../shared/workflow-ids';
import { printRolloutFailure, printRolloutReport } from '../rollout-report';
import { connectClient } from '../temporal-client';
import { EXIT } from '../rollout-end';

function parseDecision(value: string): DecideInput['decision'] {
  if (value === 'promote' || value === 'abort') return value;
  throw new InvalidArgumentError(`"${value}" is neither promote nor abort`);
}

/** Who decides when `--by` is not given: the OS user (recorded in the rollout's history with the reason). */
function currentUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/**
 * `glm-ops decide APP promote|abort --reason …`: answers a rollout whose performance gate was inconclusive (too few
 * samples, errors, a flapping endpoint) and now waits; then follows the rollout to its end like `abort` does.
 */
export function registerDecideCommand(program: Command, settings: Config): void {
  program
    .command('decide')
    .description("answer a rollout's inconclusive performance gate: promote the new version or abort (roll back)")
    .argument('<app>', 'app name')
    .argument('<decision>', 'promote | abort', parseDecision)
    .requiredOption('--reason <text>', 'why (recorded in the rollout history)')
    .option('--by <name>', 'who decides (recorded in the rollout history); default: the OS user')
    .action(async (app: string, decision: DecideInput['decision'], options: { reason: string; by?: string }) => {
      const { client, connection } = await connectClient(settings);
      try {
        const handle = client.workflow.getHandle(rolloutWorkflowId(app));
        const input: DecideInput = { decision, reason: options.reason, by: options.by ?? currentUser() };
        const accepted = await handle.executeUpdate(decide, { args: [input] }).catch((err: unknown) => {
          if (err instanceof WorkflowNotFoundError) {
            console.error(`no running rollout of ${app} (workflow ${rolloutWorkflowId(app)})`);
            return undefined;
          }
          if (err instanceof WorkflowUpdateFailedError) {
            console.error(`decision refused: ${err.cause?.message ?? err.message}`);
            return undefined;
          }
          throw err;
        });
        if (!accepted) {
          process.exitCode = EXIT.refused;
          return;
        }
        console.log(
          `${accepted.decision} accepted (by ${accepted.by}: ${accepted.reason}); ${accepted.decision === 'promote' ? 'the rollout goes on' : 'compensating'}`,
        );
        const ended = await handle.result().then(
          (result: RolloutResult) => ({ result }),
          (err: unknown) => ({
            failure:
              err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure ? err.cause : undefined,
          }),
        );
        if ('result' in ended) {
          printRolloutReport(ended.result);
          process.exitCode = EXIT.succeeded;
        } else {
          printRolloutFailure(ended.failure, undefined);
          process.exitCode = EXIT.failed;
        }
      } finally {
        await connection.close();
      }
    });
}
