import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as z from 'zod';
import { projectRoot } from '../../config/paths';
import { ErrorType } from '../../shared/errors';
import type { Spec } from '../../spec/schema';
import * as commands from './modal-commands';
import { type CommandRunner, execaRunner } from './modal-runner';

/** Whether this machine can drive Modal, and if not, the one-line fix. */
export type ModalReadiness = { ok: true } | { ok: false; problem: string; fix: string };

/** The `modal` client the adapter runs: GLM_OPS_MODAL_CLI, else the project venv's `.venv/bin/modal`. */
export function modalCliPath(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.GLM_OPS_MODAL_CLI?.trim();
  return configured ? path.resolve(configured) : path.join(projectRoot(), '.venv', 'bin', 'modal');
}

/** The Python that runs the small helper (update_autoscaler, web URL): GLM_OPS_MODAL_PYTHON, else `.venv/bin/python`. */
export function modalPythonPath(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.GLM_OPS_MODAL_PYTHON?.trim();
  return configured ? path.resolve(configured) : path.join(projectRoot(), '.venv', 'bin', 'python');
}

/** The Modal profile file the client reads: MODAL_CONFIG_PATH, else `~/.modal.toml`. */
export function modalConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.MODAL_CONFIG_PATH?.trim();
  if (configured) return path.resolve(configured);
  return path.join(env.HOME?.trim() || os.homedir(), '.modal.toml');
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Checks, without network, that the `modal` client is installed and credentials are configured (both token
 * variables, or a profile file), so `glm-ops rollout` on a modal spec fails before any workflow starts.
 * Never reads or returns the credential values.
 */
export function checkModalReady(env: NodeJS.ProcessEnv = process.env): ModalReadiness {
  const cli = modalCliPath(env);
  if (!isExecutable(cli)) {
    return {
      ok: false,
      problem: `the modal client is not installed at ${cli}`,
      fix: `run \`npm run setup\` (installs modal into .venv) or set GLM_OPS_MODAL_CLI to a modal binary`,
    };
  }
  const hasId = Boolean(env.MODAL_TOKEN_ID?.trim());
  const hasSecret = Boolean(env.MODAL_TOKEN_SECRET?.trim());
  if (hasId !== hasSecret) {
    const missing = hasId ? 'MODAL_TOKEN_SECRET' : 'MODAL_TOKEN_ID';
    return {
      ok: false,
      problem: `${missing} is unset while ${hasId ? 'MODAL_TOKEN_ID' : 'MODAL_TOKEN_SECRET'} is set`,
      fix: `export ${missing} on the worker (both token variables are needed)`,
    };
  }
  if (hasId && hasSecret) return { ok: true };
  const profile = modalConfigFile(env);
  if (fs.existsSync(profile)) return { ok: true };
  return {
    ok: false,
    problem: `no Modal credentials: MODAL_TOKEN_ID/MODAL_TOKEN_SECRET are unset and ${profile} does not exist`,
    fix: `run \`${cli} token new\` or export MODAL_TOKEN_ID and MODAL_TOKEN_SECRET on the worker`,
  };
}

/** What the Modal environment holds that a rollout of the spec needs: fatal problems, and notes for the user. */
export type ModalResources = { ok: true; notes: string[] } | { ok: false; problem: string; fix: string };

const NamedRow = z.object({ name: z.string() });

/**
 * Checks with the real client, before any workflow starts, that the spec's API-key secret exists (the Server cannot
 * be created without it) and whether both volumes exist (deploy.py creates missing ones: a note, not a failure).
 * Lists names only; secret values never leave Modal.
 */
export async function checkModalResources(
  spec: Pick<Spec, 'environment' | 'secrets' | 'volumes'>,
  env: NodeJS.ProcessEnv = process.env,
  runner: CommandRunner = execaRunner,
): Promise<ModalResources> {
  const scope = { environment: spec.environment };
  const list = async (args: string[], what: string): Promise<string[] | ModalResources> => {
    try {
      const output = await runner({
        file: modalCliPath(env),
        args,
        env,
        timeoutMs: 90_000,
        failureType: ErrorType.PlatformUnavailable,
        step: 'preflight',
      });
      return z
        .array(NamedRow)
        .parse(JSON.parse(output.stdout))
        .map((row) => row.name);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return {
        ok: false,
        problem: `could not list the ${what} of Modal environment ${spec.environment} (${message})`,
        fix: 'check the Modal credentials and network of this machine',
      };
    }
  };
  const secrets = await list(commands.secretListArgv(scope), 'secrets');
  if (!Array.isArray(secrets)) return secrets;
  if (!secrets.includes(spec.secrets.apiKey)) {
    return {
      ok: false,
      problem: `secret ${spec.secrets.apiKey} (secrets.apiKey) does not exist in Modal environment ${spec.environment}`,
      fix: `run \`modal secret create ${spec.secrets.apiKey} API_KEY=<key> --env ${spec.environment}\``,
    };
  }
  const volumes = await list(commands.volumeListArgv(scope), 'volumes');
  if (!Array.isArray(volumes)) return volumes;
  const notes = [spec.volumes.weights, spec.volumes.kernels]
    .filter((name) => !volumes.includes(name))
    .map(
      (name) =>
        `platform modal: volume ${name} does not exist in environment ${spec.environment}: the rollout creates it`,
    );
  return { ok: true, notes };
}
