import { decide, type EngineView, type Fleet, type ScalingSpec } from '../../../src/platforms/local/autoscaler';

// decide() is pure: every case is a fleet at one instant and the actions the autoscaler takes on it.
const NOW = 1_000_000;
const spec: ScalingSpec = { version: 2, minContainers: 0, maxContainers: 3, scaledownWindowS: 60, startupTimeoutS: 30 };

type Engine = EngineView & { name: string };
const engine = (name: string, over: Partial<EngineView> = {}): Engine => ({
  name,
  version: 2,
  state: 'ready',
  inFlight: 0,
  lastActiveAtMs: NOW - 1_000,
  startedAtMs: NOW - 10_000,
  ...over,
});
const fleet = (engines: Engine[], over: Partial<Fleet<Engine>> = {}): Fleet<Engine> => ({
  engines,
  pendingStarts: [],
  unplacedRequests: 0,
  ...over,
});
/** Actions in a form a table can state: `stop <engine>: <reason>` or `start: <reason>`. */
const described = (f: Fleet<Engine>, s: ScalingSpec | undefined): string[] =>
  decide(NOW, f, s).map((a) => (a.kind === 'stop' ? `stop ${a.engine.name}: ${a.reason}` : `start: ${a.reason}`));

describe('autoscaler decide(now, fleet, spec)', () => {
  test.each<[string, Fleet<Engine>, ScalingSpec | undefined, string[]]>([
    ['an idle fleet within its scaledown window does nothing', fleet([engine('a')]), spec, []],
    [
      'rolling deploy: the engines of the version still serving and of the retained one are kept, idle or not',
      fleet([engine('old', { version: 1, lastActiveAtMs: NOW - 600_000 })], { keptVersions: [1] }),
      spec,
      [],
    ],
    [
      'rolling deploy: an older version that is no longer kept is drained',
      fleet([engine('older', { version: 1 }), engine('old', { version: 3 })], { keptVersions: [3] }),
      { ...spec, version: 4 },
      ['stop older: drained; v1 is no longer current'],
    ],
    [
      'rolling deploy: the new version starts ahead of traffic, as many engines as the old one runs',
      fleet([engine('old', { version: 1 }), engine('new', { state: 'starting', startedAtMs: NOW - 100 })], {
        keptVersions: [1],
      }),
      { ...spec, rolloutContainers: 2 },
      ['start: new version'],
    ],
    [
      'rolling deploy: no more new engines than maxContainers',
      fleet([engine('a', { state: 'starting', startedAtMs: NOW - 100 })], { pendingStarts: [{ version: 2 }] }),
      { ...spec, maxContainers: 2, rolloutContainers: 3 },
      [],
    ],
    [
      'scale up on queue: a request nothing has room for starts one engine',
      fleet([], { unplacedRequests: 1 }),
      spec,
      ['start: cold start'],
    ],
    [
      'scale up on queue counts starts under way toward maxContainers',
      fleet([engine('a', { inFlight: 20 }), engine('b', { inFlight: 20 })], {
        pendingStarts: [{ version: 2 }],
        unplacedRequests: 4,
      }),
      spec,
      [],
    ],
    [
      'max containers: no start for a queue once the pool is full',
      fleet([engine('a', { inFlight: 20 }), engine('b', { inFlight: 20 }), engine('c', { inFlight: 20 })], {
        unplacedRequests: 1,
      }),
      spec,
      [],
    ],
    [
      'a queue grows the pool one engine per decision',
      fleet([engine('a', { inFlight: 20 })], { unplacedRequests: 7 }),
      spec,
      ['start: cold start'],
    ],
    [
      'scale down: the engine idle longest goes once past the scaledown window',
      fleet([engine('a', { lastActiveAtMs: NOW - 61_000 }), engine('b', { lastActiveAtMs: NOW - 90_000 })]),
      spec,
      ['stop b: scaled down after 60 s idle'],
    ],
    ['scale down waits for the whole window', fleet([engine('a', { lastActiveAtMs: NOW - 59_999 })]), spec, []],
    [
      'scale down at exactly the window',
      fleet([engine('a', { lastActiveAtMs: NOW - 60_000 })]),
      spec,
      ['stop a: scaled down after 60 s idle'],
    ],
    [
      'an idle engine with a request in flight is busy, not idle',
      fleet([engine('a', { lastActiveAtMs: NOW - 90_000, inFlight: 1 })]),
      spec,
      [],
    ],
    [
      'keep-warm: minContainers is never scaled below',
      fleet([engine('a', { lastActiveAtMs: NOW - 90_000 })]),
      { ...spec, minContainers: 1 },
      [],
    ],
    [
      'keep-warm: above minContainers an idle engine still goes',
      fleet([engine('a', { lastActiveAtMs: NOW - 90_000 }), engine('b')]),
      { ...spec, minContainers: 1 },
      ['stop a: scaled down after 60 s idle'],
    ],
    [
      'keep-warm: below minContainers one engine starts',
      fleet([]),
      { ...spec, minContainers: 2 },
      ['start: min containers'],
    ],
    [
      'keep-warm counts starts under way',
      fleet([engine('a')], { pendingStarts: [{ version: 2 }] }),
      { ...spec, minContainers: 2 },
      [],
    ],
    [
      'keep-warm ignores starts of another version',
      fleet([engine('a')], { pendingStarts: [{ version: 1 }] }),
      { ...spec, minContainers: 2 },
      ['start: min containers'],
    ],
    [
      'a queue below minContainers is a cold start, and still one start',
      fleet([], { unplacedRequests: 1 }),
      { ...spec, minContainers: 2 },
      ['start: cold start'],
    ],
    [
      'drain: an idle engine of an old version stops, a busy one keeps serving its request',
      fleet([engine('old', { version: 1 }), engine('busy', { version: 1, inFlight: 2 }), engine('a')]),
      spec,
      ['stop old: drained; v1 is no longer current'],
    ],
    [
      'stopped app: every idle engine drains and nothing starts',
      fleet([engine('a'), engine('b', { inFlight: 1 })], { unplacedRequests: 1 }),
      undefined,
      ['stop a: drained; v2 is no longer current'],
    ],
    [
      'startup timeout: a loading engine past it with nobody waiting stops',
      fleet([engine('a', { state: 'starting', startedAtMs: NOW - 30_001 })]),
      spec,
      ['stop a: not healthy within startupTimeout 30 s'],
    ],
    [
      'startup timeout: a loading engine that holds requests is left to their own deadline',
      fleet([engine('a', { state: 'starting', startedAtMs: NOW - 30_001, inFlight: 1 })]),
      spec,
      [],
    ],
    [
      'startup timeout: the stopped engine no longer counts toward minContainers',
      fleet([engine('a', { state: 'starting', startedAtMs: NOW - 30_001 })]),
      { ...spec, minContainers: 1 },
      ['stop a: not healthy within startupTimeout 30 s', 'start: min containers'],
    ],
    [
      'crash back-off: nothing starts while the crashed container is down',
      fleet([], { crash: { version: 2, replaceAtMs: NOW + 1 }, unplacedRequests: 1 }),
      { ...spec, minContainers: 1 },
      [],
    ],
    [
      'crash back-off over: the replacement starts, once',
      fleet([], { crash: { version: 2, replaceAtMs: NOW } }),
      { ...spec, minContainers: 3 },
      ['start: replacement after crash'],
    ],
    [
      'a crash of another version does not hold the current one back',
      fleet([], { crash: { version: 1, replaceAtMs: NOW + 1 } }),
      { ...spec, minContainers: 1 },
      ['start: min containers'],
    ],
    [
      'scale-down comes first: no start in the same decision',
      fleet([engine('a', { lastActiveAtMs: NOW - 90_000 }), engine('b')], {
        crash: { version: 2, replaceAtMs: NOW },
      }),
      spec,
      ['stop a: scaled down after 60 s idle'],
    ],
  ])('%s', (_name, input, scaling, expected) => {
    expect(described(input, scaling)).toEqual(expected);
  });

  test('the engines it stops are the very objects it was given', () => {
    const old = engine('old', { version: 1 });
    const [action] = decide(NOW, fleet([old]), spec);
    expect(action).toEqual({ kind: 'stop', engine: old, reason: 'drained; v1 is no longer current' });
    expect(action?.kind === 'stop' && action.engine).toBe(old);
  });
});
