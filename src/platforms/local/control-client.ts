import * as fs from 'node:fs';
import { ControlApiError, DaemonUnavailableError, errorFromWire, type WireError } from './local-platform-errors';
import type { DaemonInfo } from './platform-daemon';
import type { PlatformPaths } from './platform-paths';

/** Reads the published address of the daemon; undefined when none was published. */
export function readDaemonInfo(paths: PlatformPaths): DaemonInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(paths.daemonFile, 'utf8')) as DaemonInfo;
  } catch {
    return undefined;
  }
}

/** A caller of the daemon's control API: finds it through the state folder and turns error bodies into typed errors. */
export class ControlClient {
  readonly paths: PlatformPaths;

  constructor(
    paths: PlatformPaths,
    private readonly timeoutMs = 30_000,
  ) {
    this.paths = paths;
  }

  /** Sends one request; resolves the JSON answer or throws the daemon's domain error. */
  async request<T>(method: 'GET' | 'POST', route: string, body?: unknown): Promise<T> {
    const info = readDaemonInfo(this.paths);
    if (!info) {
      throw new DaemonUnavailableError(
        `the local platform daemon is not running (no ${this.paths.daemonFile}): start it with \`glm-ops platform up\``,
      );
    }
    let token: string;
    try {
      token = fs.readFileSync(this.paths.token, 'utf8').trim();
    } catch {
      throw new DaemonUnavailableError(
        `cannot read the control token ${this.paths.token}: run \`glm-ops platform up\``,
      );
    }
    let response: Response;
    try {
      response = await fetch(`${info.controlUrl}${route}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new DaemonUnavailableError(
        `the local platform daemon at ${info.controlUrl} did not answer (${cause}): check \`glm-ops platform status\`, or restart it with \`glm-ops platform up\``,
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      throw new ControlApiError(
        `control API ${method} ${route} answered ${response.status} with a body that is not JSON`,
      );
    }
    if (!response.ok) {
      const wire = (parsed as { error?: WireError } | null)?.error;
      if (wire) throw errorFromWire(wire);
      throw new ControlApiError(`control API ${method} ${route} answered ${response.status}`);
    }
    return parsed as T;
  }
}
