// The layering rule of CONTRIBUTING.md, checked by dependency-cruiser (`npm run lint:layers`, part of `npm test`).
// Each entry of LAYERS is one rank, top first; a module may import only from ranks BELOW its own. Folders that share
// a rank are siblings and do not import each other either. CONTRIBUTING.md draws the same list as a diagram: change
// both together.

/** One rank per line, top first. A name ending in `.ts` is a file at the top of src/, anything else a folder. */
const LAYERS = [
  ['cli', 'scripts'],
  ['worker.ts'],
  ['platform-wiring.ts', 'worker-bundle.ts'],
  ['devstack'],
  ['workflows'],
  ['activities'],
  ['schedules', 'probes', 'triage', 'loadgen'],
  ['platforms'],
  ['emulator', 'storage', 'hub'],
  ['config'],
  ['spec'],
  ['shared'],
  ['process', 'net', 'random'],
];

// Not anchored: in a worktree whose node_modules is a symlink, packages resolve to the link's target path.
const TEMPORAL_WORKFLOW_PACKAGES = 'node_modules/@temporalio/(workflow|common)/';

/**
 * The one upward edge the layering allows, and only for types: a workflow contract in shared/ carries a Spec, while
 * spec/ (like every layer) uses shared/'s error vocabulary. `shared-types-and-constants` below forbids the code.
 */
const TYPE_ONLY_UPWARD = { shared: ['spec'] };

const pathOf = (name) => (name.endsWith('.ts') ? `^src/${name.replace('.', '\\.')}$` : `^src/${name}/`);

/** For every layer: no import of a layer at or above its rank (other than itself). */
const layerRules = LAYERS.flatMap((rank, index) =>
  rank.map((name) => {
    const notBelow = LAYERS.slice(0, index + 1)
      .flat()
      .filter((other) => other !== name && !(TYPE_ONLY_UPWARD[name] ?? []).includes(other));
    const below = LAYERS.slice(index + 1).flat();
    return {
      name: `layer-${name.replace('.ts', '')}`,
      comment:
        `src/${name} may import only the layers below it (${below.join(', ') || 'none'}) and npm packages; ` +
        'see "The layering rule" in CONTRIBUTING.md',
      severity: 'error',
      from: { path: pathOf(name) },
      to: { path: notBelow.map(pathOf) },
    };
  }),
);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-circular',
      comment: 'A cycle makes two modules one: neither can be understood, tested or moved without the other.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'adapters-independent',
      comment: 'The local and Modal platforms implement one port; neither imports the other (shared code goes below).',
      severity: 'error',
      from: { path: '^src/platforms/(local|modal)/' },
      to: { path: '^src/platforms/(local|modal)/', pathNot: '^src/platforms/$1/' },
    },
    {
      name: 'workflows-deterministic',
      comment:
        'Workflow code runs in the deterministic sandbox and is replayed: it imports @temporalio/workflow (and the ' +
        '@temporalio/common it is built on), shared/ and itself; activities only as types.',
      severity: 'error',
      from: { path: '^src/workflows/' },
      to: {
        pathNot: ['^src/(workflows|shared)/', TEMPORAL_WORKFLOW_PACKAGES],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'workflows-types-from-activities-only',
      comment: 'Workflows see the rest of the code base only through activity types and shared/.',
      severity: 'error',
      from: { path: '^src/workflows/' },
      to: { path: '^src/', pathNot: ['^src/(workflows|shared|activities)/'] },
    },
    {
      name: 'shared-types-and-constants',
      comment:
        'shared/ is bundled into workflow code: constants and types only. It may name spec/ types (a workflow input ' +
        'carries a Spec) but never import spec/ code, Node built-ins or other packages.',
      severity: 'error',
      from: { path: '^src/shared/' },
      to: {
        pathNot: ['^src/shared/', TEMPORAL_WORKFLOW_PACKAGES],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve is a typo or a missing dependency.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(lib|node_modules)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports count: a layer that names an upper layer's type depends on it as much as on its code.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
