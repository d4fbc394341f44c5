import { ApplicationFailure, log, proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorType } from '../shared/errors';
import type { KeepWarmInput, KeepWarmResult } from '../shared/keep-warm-types';
import { scheduledIo, singlePing } from './retry-profiles';

/**
 * The keep-warm action of the `keepwarm/<app>` schedule (guide §6, §19): with `pin`, hold min containers at 1 (again
 * on every fire, since a deploy resets the override); then GET /health with the guide's 120 s timeout and report
 * whether the replica was warm or had to cold-start. `release` lowers min containers when the window closes.
 */
export async function keepWarm(input: KeepWarmInput): Promise<KeepWarmResult> {
  const ref = { app: input.app, platform: input.platform };
  const act = proxyActivities<Activities>(scheduledIo);
  const checkedAt = new Date(Date.now()).toISOString();

  if (input.action === 'release') {
    await act.setMinContainers.executeWithOptions(
      { summary: `Pin window closed: min containers back to ${input.baseMinContainers}` },
      [{ ...ref, minContainers: input.baseMinContainers }],
    );
    setCurrentDetails(`released: min containers ${input.baseMinContainers}`);
    return {
      app: input.app,
      strategy: input.strategy,
      action: 'release',
      replica: 'released',
      durationMs: 0,
      minContainersSet: input.baseMinContainers,
      checkedAt,
    };
  }

  if (input.strategy === 'pin') {
    await act.setMinContainers.executeWithOptions({ summary: `Pin: min containers ${input.pinnedMinContainers}` }, [
      { ...ref, minContainers: input.pinnedMinContainers },
    ]);
  }
  const ping = await proxyActivities<Activities>(singlePing(input.timeoutSec)).pingHealth.executeWithOptions(
    { summary: `GET /health (timeout ${input.timeoutSec}s; cold if slower than ${input.coldThresholdMs} ms)` },
    [{ ...ref, secretName: input.secretName, timeoutSec: input.timeoutSec, coldThresholdMs: input.coldThresholdMs }],
  );
  if (ping.outcome !== 'ok') {
    throw ApplicationFailure.create({
      type:
        ping.outcome === 'timeout'
          ? ErrorType.HealthTimeout
          : ping.outcome === 'bad-gateway'
            ? ErrorType.EngineCrashed
            : ErrorType.TransportError,
      nonRetryable: true,
      message: `keep-warm ping of ${input.app} failed after ${ping.durationMs} ms: ${ping.outcome} (${ping.detail})`,
      details: [{ outcome: ping.outcome, durationMs: ping.durationMs, httpStatus: ping.httpStatus }],
    });
  }
  const replica = ping.wasCold ? 'cold' : 'warm';
  setCurrentDetails(`${replica}: /health 200 in ${ping.durationMs} ms`);
  log.info('keep-warm', { app: input.app, replica, durationMs: ping.durationMs });
  return {
    app: input.app,
    strategy: input.strategy,
    action: 'ping',
    replica,
    durationMs: ping.durationMs,
    httpStatus: ping.httpStatus,
    ...(input.strategy === 'pin' ? { minContainersSet: input.pinnedMinContainers } : {}),
    checkedAt,
  };
}
