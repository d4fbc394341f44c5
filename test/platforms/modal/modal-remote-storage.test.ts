import {
  judgeRemoteMarker,
  judgeRemoteWeights,
  parseRemoteSentinel,
} from '../../../src/platforms/modal/modal-remote-storage';

const sentinel = {
  schemaVersion: 1 as const,
  repo: 'zai-org/GLM-5.1-FP8',
  revision: 'main',
  commit: '0123456789abcdef0123456789abcdef01234567',
  files: [
    { path: 'config.json', sizeBytes: 29, sha256: 'a'.repeat(64) },
    { path: 'model-00001-of-00002.safetensors', sizeBytes: 15, sha256: 'b'.repeat(64) },
  ],
  totalBytes: 44,
  completedAt: '2026-01-01T00:00:00Z',
};

test('a sentinel read from the volume is parsed, or named as absent / not JSON / malformed', () => {
  expect(parseRemoteSentinel(null, 's')).toEqual({ kind: 'absent' });
  expect(parseRemoteSentinel('{', 's')).toMatchObject({
    kind: 'invalid',
    problem: expect.stringContaining('not valid JSON'),
  });
  expect(parseRemoteSentinel('{"schemaVersion":2}', 's')).toMatchObject({
    kind: 'invalid',
    problem: expect.stringContaining('malformed'),
  });
  expect(parseRemoteSentinel(JSON.stringify(sentinel), 's')).toMatchObject({ kind: 'ok' });
});

test('remote sizes are judged like the local quick check', () => {
  const sizes = new Map([
    ['config.json', 29],
    ['model-00001-of-00002.safetensors', 15],
  ]);
  expect(judgeRemoteWeights(sentinel, sizes, { repo: sentinel.repo, commit: sentinel.commit })).toEqual([]);
  expect(
    judgeRemoteWeights(
      sentinel,
      new Map([
        ['config.json', 29],
        ['model-00001-of-00002.safetensors', 9],
      ]),
      { repo: sentinel.repo },
    ),
  ).toEqual(['model-00001-of-00002.safetensors: size 9, sentinel says 15']);
  expect(judgeRemoteWeights(sentinel, new Map([['config.json', 29]]), { repo: 'other/model' })).toEqual([
    'sentinel names repo "zai-org/GLM-5.1-FP8", expected "other/model"',
    'model-00001-of-00002.safetensors: missing',
  ]);
});

test('the marker is valid for its GPU and stale for another, missing when absent', () => {
  const where = { path: '/dg-cache/deepgemm/B200', markerPath: '/dg-cache/.compiled-GLM-5.1-FP8' };
  const marker = JSON.stringify({
    model: 'zai-org/GLM-5.1-FP8',
    gpuType: 'B200',
    smArch: 'sm100',
    sglangImage: 'img:1',
    modelRevision: 'c'.repeat(40),
    compiledAt: 'now',
  });
  const target = { repo: 'zai-org/GLM-5.1-FP8', gpuType: 'B200', sglangImage: 'img:1', modelRevision: 'c'.repeat(40) };
  expect(judgeRemoteMarker(marker, target, where).state).toBe('valid');
  expect(judgeRemoteMarker(marker, { ...target, gpuType: 'H200' }, where)).toMatchObject({
    state: 'stale',
    reasons: ['other GPU: compiled for B200 (sm100), spec needs H200 (sm90)'],
  });
  expect(judgeRemoteMarker(null, target, where).state).toBe('missing');
  expect(judgeRemoteMarker('nope', target, where).state).toBe('stale');
});
