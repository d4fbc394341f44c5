import { createHash } from 'node:crypto';
import * as z from 'zod';
import { ErrorType } from '../../shared/errors';
import { opsAppName, renderDeployConfig } from './deploy-config';
import type { Spec } from '../../spec/schema';
import type { LongStepOptions } from '../platform';
import { type ModalCli, parseJsonLine } from './modal-cli';
import * as commands from './modal-commands';
import type { OpsFunction } from './modal-commands';
import { appLockKey, type DeployGuard } from './modal-deploy-guard';
import { ModalCommandError, ModalOutputError } from './modal-platform-errors';
import { type CallControl, CallStatus, runRemoteCall } from './modal-remote-call';
import type { ModalTimeouts } from './modal-timeouts';

const Spawned = z.object({ callId: z.string().min(1) });

/** Modal's limit on object names (apps included). */
const MODAL_NAME_MAX = 63;

/** How one ops call is named in failures, which type its failure carries, and its function's Modal timeout. */
export interface OpsCallKind {
  stage: string;
  failureType: ErrorType;
  limitSec: number;
}

/**
 * The functions of an app's ops app (download, verify, compile, commit), run as spawned calls through
 * modal/control.py. The ops app is deployed first, once per rendered config per process.
 */
export class OpsCalls {
  /** Ops app → hash of the config this process last deployed it with: one `modal deploy` per config, not per call. */
  private readonly opsDeployed = new Map<string, string>();

  constructor(
    private readonly options: {
      cli: ModalCli;
      guard: DeployGuard;
      deployPy: string;
      controlPy: string;
      timeouts: ModalTimeouts;
      log?: (message: string) => void;
    },
  ) {}

  /**
   * Runs one ops function to its end as a spawned call (not `modal run`, whose exit would stop the remote work): the
   * ops app is deployed first (idempotent), the call id goes out with the first progress report (a heartbeat), and a
   * retried attempt given that report re-attaches to the running call.
   */
  async run(
    spec: Spec,
    fn: OpsFunction,
    kwargs: Record<string, unknown>,
    options: LongStepOptions,
    how: OpsCallKind,
  ): Promise<unknown> {
    const { cli, controlPy, timeouts } = this.options;
    const opsApp = opsAppName(spec.app);
    if (opsApp.length > MODAL_NAME_MAX) {
      throw new ModalCommandError(
        `${how.stage}: app "${spec.app}" is too long for its ops app "${opsApp}" ` +
          `(Modal allows ${MODAL_NAME_MAX} characters): shorten app`,
        ErrorType.SpecInvalid,
      );
    }
    const scope = { environment: spec.environment };
    const step = how.stage;
    const quick = { timeoutMs: timeouts.quickMs, failureType: ErrorType.TransportError, step };
    const control: CallControl = {
      spawn: async () => {
        const output = await cli.python(commands.spawnArgv(controlPy, opsApp, fn, kwargs, scope), quick);
        return Spawned.parse(parseJsonLine(output.stdout, 'control.py spawn')).callId;
      },
      status: async (callId, waitSec) => {
        const output = await cli.python(commands.callStatusArgv(controlPy, callId, waitSec), {
          ...quick,
          timeoutMs: timeouts.quickMs + waitSec * 1000,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        const parsed = CallStatus.safeParse(parseJsonLine(output.stdout, 'control.py call-status'));
        if (!parsed.success)
          throw new ModalOutputError(
            `${step}: control.py call-status printed an unexpected status: ${output.stdout.slice(0, 120)}`,
          );
        return parsed.data;
      },
      cancel: async (callId) => {
        await cli.python(commands.cancelCallArgv(controlPy, callId), quick);
      },
    };
    return runRemoteCall(control, {
      app: opsApp,
      function: fn,
      inputsHash: hashOf({ config: renderDeployConfig(spec), fn, kwargs }),
      stage: how.stage,
      failureType: how.failureType,
      limitMs: how.limitSec * 1000 + timeouts.callMarginMs,
      progressEveryMs: timeouts.progressEveryMs,
      pollWaitSec: timeouts.pollWaitSec,
      beforeSpawn: () => this.ensureOpsApp(spec, step),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.abortRemote ? { abortRemote: options.abortRemote } : {}),
      ...(options.resumeFrom ? { resumeFrom: options.resumeFrom } : {}),
      ...(this.options.log ? { log: this.options.log } : {}),
    });
  }

  /** `modal deploy` of the ops app for this spec's config, once per config per process; "skipped" is success. */
  private async ensureOpsApp(spec: Spec, step: string): Promise<void> {
    const { cli, guard, deployPy, timeouts } = this.options;
    const opsApp = opsAppName(spec.app);
    const configHash = hashOf(renderDeployConfig(spec));
    if (this.opsDeployed.get(opsApp) === configHash) return;
    await guard.exclusive(appLockKey(opsApp), (lease) =>
      cli.withConfig(spec, (env) =>
        cli.modalWith(commands.deployArgv(deployPy, opsApp, undefined, { environment: spec.environment }), {
          env: { ...env, GLM_OPS_DEPLOY_ROLE: 'ops', ...lease.env },
          timeoutMs: timeouts.deployMs,
          failureType: ErrorType.DeployFailed,
          step: `${step} (deploy ${opsApp})`,
          onSpawn: lease.onSpawn,
        }),
      ),
    );
    this.opsDeployed.set(opsApp, configHash);
  }
}

function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}
