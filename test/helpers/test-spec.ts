import { parseSpecText } from '../../src/spec/parse-spec';
import type { Spec } from '../../src/spec/schema';
import { readRepoFile } from './repo-files';

/** Parses a spec file (path under the repository root) and fails the test with its issues when it does not parse. */
export function loadExampleSpec(relative: string): Spec {
  const parsed = parseSpecText(readRepoFile(relative));
  if (!parsed.ok) throw new Error(`${relative}: ${JSON.stringify(parsed.errors)}`);
  return parsed.spec;
}

/**
 * The one spec builder of the tests: examples/local-demo.yaml under an app name of the test's own, with test-sized
 * durations (engine time scale 0.001, a 30 s start-up and warm-up budget polled every 0.1 s, a scale-down window no
 * test outlives). Each test states only what it exercises in `patch`; fixtures add their own defaults the same way.
 */
export function testSpec(app: string, patch?: (spec: Spec) => void): Spec {
  return exampleSpec(
    app,
    (spec) => {
      spec.local.timeScale = 0.001;
      spec.health = { startupTimeout: 30, pollInterval: 0.1 };
      spec.warmup = { timeout: 30 };
      spec.modal.scaledownWindow = 600;
      patch?.(spec);
    },
    'examples/local-demo.yaml',
  );
}

/**
 * An example spec as it is (by default the production one, 8×B200) under an app name of the test's own, except that
 * its performance gate is off: a test that exercises the gate turns it on (`spec.slo.enabled = true`), the others
 * keep the pipeline they assert.
 */
export function exampleSpec(app: string, patch?: (spec: Spec) => void, relative = 'examples/glm-5.1-b200.yaml'): Spec {
  const spec = loadExampleSpec(relative);
  spec.app = app;
  spec.slo.enabled = false;
  patch?.(spec);
  return spec;
}
