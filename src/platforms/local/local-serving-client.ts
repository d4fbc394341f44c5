import type { Spec } from '../../spec/schema';
import type { Deployment, Endpoint, LogLine, ServingPort, VerifiedDeployment } from '../platform';
import { ControlClient } from './control-client';
import { SpecRefusedError } from './local-platform-errors';
import type { PlatformStatus } from './platform-daemon';
import type { PlatformPaths } from './platform-paths';

function appRoute(app: string, action: string): string {
  return `/v1/apps/${encodeURIComponent(app)}/${action}`;
}

/**
 * The serving side of the local platform, as a client of the platform daemon's control API (address and token
 * from the state folder). The daemon owns the engines, so they outlive the worker that called deploy.
 */
export class LocalServingClient implements ServingPort {
  private readonly control: ControlClient;

  constructor(paths: PlatformPaths) {
    this.control = new ControlClient(paths);
  }

  async currentDeployment(app: string): Promise<Deployment | null> {
    return (await this.control.request<{ deployment: Deployment | null }>('GET', appRoute(app, 'current'))).deployment;
  }

  /** Idempotent by rolloutId: a retried call returns the version the first one created. */
  async deploy(spec: Spec, options: { rolloutId: string; isTrial?: boolean }): Promise<Deployment> {
    if (!spec || typeof spec !== 'object' || typeof spec.app !== 'string') {
      throw new SpecRefusedError('deploy refused: spec.app is missing; pass a parsed spec');
    }
    return this.control.request<Deployment>('POST', appRoute(spec.app, 'deploy'), {
      spec,
      rolloutId: options.rolloutId,
      ...(options.isTrial ? { isTrial: true } : {}),
    });
  }

  async history(app: string): Promise<Deployment[]> {
    return (await this.control.request<{ deployments: Deployment[] }>('GET', appRoute(app, 'history'))).deployments;
  }

  /** Throws NotFoundError (naming app and version) for a version the app never had. */
  async rollback(app: string, version: number): Promise<Deployment> {
    return this.control.request<Deployment>('POST', appRoute(app, 'rollback'), { version });
  }

  async stop(app: string): Promise<void> {
    await this.control.request('POST', appRoute(app, 'stop'));
  }

  async endpoint(app: string): Promise<Endpoint> {
    return this.control.request<Endpoint>('GET', appRoute(app, 'endpoint'));
  }

  async logs(app: string, options: { since?: string; limit?: number } = {}): Promise<LogLine[]> {
    const query = new URLSearchParams();
    if (options.since) query.set('since', options.since);
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    const suffix = query.size > 0 ? `?${query.toString()}` : '';
    return (await this.control.request<{ lines: LogLine[] }>('GET', `${appRoute(app, 'logs')}${suffix}`)).lines;
  }

  async setMinContainers(app: string, minContainers: number): Promise<void> {
    await this.control.request('POST', appRoute(app, 'min-containers'), { minContainers });
  }

  async markVerified(app: string, version: number): Promise<void> {
    await this.control.request('POST', appRoute(app, 'verified'), { version });
  }

  async lastVerified(app: string, options: { excluding?: number } = {}): Promise<VerifiedDeployment | null> {
    const suffix = options.excluding === undefined ? '' : `?excluding=${options.excluding}`;
    const answer = await this.control.request<{ deployment: VerifiedDeployment | null }>(
      'GET',
      `${appRoute(app, 'verified')}${suffix}`,
    );
    return answer.deployment;
  }

  /** The daemon's address and every app's routers, engines and counters. */
  async status(): Promise<PlatformStatus> {
    return this.control.request<PlatformStatus>('GET', '/v1/status');
  }
}
