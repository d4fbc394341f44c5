import {
  normaliseTime,
  parseAppHistory,
  parseAppList,
  parseAppLogs,
  parseVolumeListing,
} from '../../../src/platforms/modal/modal-output';

/** Samples in the formats modal 1.6's display_table(json=True) prints (column names snake_cased). */
describe('modal output parsers', () => {
  test('app history with tags, newest first regardless of input order', () => {
    const stdout = JSON.stringify([
      {
        version: 'v2',
        time_deployed: '2026-03-01 06:00:00+00:00',
        client: '1.6.4',
        deployed_by: 'ci',
        commit: 'abc1234*',
        tag: 'rollout-2',
      },
      {
        version: 'v10',
        time_deployed: '2026-03-02 06:00:00+01:00',
        client: '1.6.4',
        deployed_by: 'ci',
        commit: null,
        tag: null,
      },
      {
        version: 'v1',
        time_deployed: '2026-03-01 05:00:00+00:00',
        client: '1.6.4',
        deployed_by: 'ci',
        commit: null,
        tag: 'rollout-1',
      },
    ]);
    expect(parseAppHistory(stdout)).toEqual([
      { version: 10, deployedAt: '2026-03-02T05:00:00.000Z' },
      { version: 2, deployedAt: '2026-03-01T06:00:00.000Z', tag: 'rollout-2' },
      { version: 1, deployedAt: '2026-03-01T05:00:00.000Z', tag: 'rollout-1' },
    ]);
  });

  test('app history without a tag column (no deploy used one)', () => {
    expect(
      parseAppHistory(
        JSON.stringify([
          {
            version: 'v1',
            time_deployed: '2026-03-01 05:00:00+00:00',
            client: '1.6.4',
            deployed_by: 'me',
            commit: null,
          },
        ]),
      ),
    ).toEqual([{ version: 1, deployedAt: '2026-03-01T05:00:00.000Z' }]);
  });

  test('a non-JSON or wrongly shaped answer is a typed output error', () => {
    expect(() => parseAppHistory('Traceback ...')).toThrow(/printed no JSON/);
    expect(() => parseAppHistory(JSON.stringify([{ version: '3' }]))).toThrow(
      expect.objectContaining({ name: 'ModalOutputError' }),
    );
  });

  test('app list and volume ls', () => {
    const apps = parseAppList(
      JSON.stringify([
        {
          app_id: 'ap-1',
          description: 'glm',
          state: 'deployed',
          tasks: '2',
          created_at: '2026-03-01 05:00:00+00:00',
          stopped_at: null,
        },
      ]),
    );
    expect(apps[0]).toMatchObject({ description: 'glm', state: 'deployed' });
    const entries = parseVolumeListing(
      JSON.stringify([
        { filename: 'GLM-5.1-FP8/config.json', type: 'file', created_modified: '2026-03-01 05:00:00+00:00', size: 29 },
      ]),
    );
    expect(entries[0]).toMatchObject({ filename: 'GLM-5.1-FP8/config.json', size: 29 });
  });

  test('logs with timestamps; continuation lines keep the previous time', () => {
    const lines = parseAppLogs(
      '2026-03-01 05:00:00+00:00 [monitor] FATAL: SGLang died (code -9)\nTraceback (most recent call last):\n\n2026-03-01 05:00:02+00:00 hello\n',
    );
    expect(lines).toEqual([
      { time: '2026-03-01T05:00:00.000Z', stream: 'system', text: '[monitor] FATAL: SGLang died (code -9)' },
      { time: '2026-03-01T05:00:00.000Z', stream: 'stdout', text: 'Traceback (most recent call last):' },
      { time: '2026-03-01T05:00:02.000Z', stream: 'stdout', text: 'hello' },
    ]);
    expect(normaliseTime('not a time')).toBe('not a time');
  });
});
