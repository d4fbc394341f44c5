import * as path from 'node:path';
import { ComposedPlatform } from '../composed-platform';
import { ModalCli } from './modal-cli';
import { DeployGuard } from './modal-deploy-guard';
import { DeploymentRecordStore } from './modal-deployment-records';
import { OpsCalls } from './modal-ops-calls';
import { modalCliPath, modalPythonPath } from './modal-preflight';
import { type CommandRunner, execaRunner } from './modal-runner';
import { ModalServing } from './modal-serving';
import { ModalStorage } from './modal-storage';
import { DEFAULT_MODAL_TIMEOUTS, type ModalTimeouts } from './modal-timeouts';

export { DEFAULT_MODAL_TIMEOUTS, type ModalTimeouts } from './modal-timeouts';

/** What ModalPlatform needs; credentials stay in `env`, which never reaches a result, a log line or an error. */
export interface ModalPlatformDeps {
  /** The `modal` client; default GLM_OPS_MODAL_CLI, else `.venv/bin/modal`. */
  modalBin?: string;
  /** Python with the `modal` package for modal/control.py; default GLM_OPS_MODAL_PYTHON, else `.venv/bin/python`. */
  pythonBin?: string;
  deployPy: string;
  /** Default: control.py beside deployPy. */
  controlPy?: string;
  /** The environment the `modal` client and control.py run with (it holds their credentials). */
  env: NodeJS.ProcessEnv;
  /** glm-ops' state folder (Config.stateDir); the adapter keeps its records and locks in `<stateDir>/modal/`. */
  stateDir: string;
  runner?: CommandRunner;
  /** Where the spec of each deployed version is remembered; default `<state dir>/modal/deployments`. */
  recordsDir?: string;
  /** Where in-flight deploys are recorded for other processes on this machine; default `<state dir>/modal/locks`. */
  locksDir?: string;
  /** Modal environment for calls that name only an app; default MODAL_ENVIRONMENT, else the profile's. */
  environment?: string;
  timeouts?: Partial<ModalTimeouts>;
  /** Where the adapter says what it does (spawned, re-attached); default silent. */
  log?: (message: string) => void;
}

/**
 * The Modal platform: every port method through the real `modal` CLI and the SDK (modal/control.py) driving
 * modal/deploy.py. It wires {@link ModalStorage} (volumes, and the ops app's functions through {@link OpsCalls}) and
 * {@link ModalServing} (versions, endpoint, autoscaler) over one {@link ModalCli} and one deploy guard, so a serving
 * deploy and an ops-app deploy of the same app never run at once.
 */
export class ModalPlatform extends ComposedPlatform {
  readonly name = 'modal' as const;

  constructor(deps: ModalPlatformDeps) {
    const { storage, serving } = modalHalves(deps);
    super(storage, serving);
  }
}

/** The adapter's two halves over one CLI and one deploy guard. */
function modalHalves(deps: ModalPlatformDeps): { storage: ModalStorage; serving: ModalServing } {
  const controlPy = deps.controlPy ?? path.join(path.dirname(deps.deployPy), 'control.py');
  const timeouts = { ...DEFAULT_MODAL_TIMEOUTS, ...deps.timeouts };
  const modalState = path.join(deps.stateDir, 'modal');
  const cli = new ModalCli({
    modalBin: deps.modalBin ?? modalCliPath(deps.env),
    pythonBin: deps.pythonBin ?? modalPythonPath(deps.env),
    controlPy,
    env: deps.env,
    runner: deps.runner ?? execaRunner,
    timeouts,
  });
  const guard = new DeployGuard(deps.locksDir ?? path.join(modalState, 'locks'), {
    staleAfterMs: timeouts.deployMs + 5 * 60_000,
  });
  const ops = new OpsCalls({
    cli,
    guard,
    deployPy: deps.deployPy,
    controlPy,
    timeouts,
    ...(deps.log ? { log: deps.log } : {}),
  });
  return {
    storage: new ModalStorage(cli, ops),
    serving: new ModalServing(cli, {
      guard,
      records: new DeploymentRecordStore(deps.recordsDir ?? path.join(modalState, 'deployments')),
      deployPy: deps.deployPy,
      timeouts,
      ...(deps.environment !== undefined ? { environment: deps.environment } : {}),
    }),
  };
}
