import { defaultPayloadConverter } from '@temporalio/common';
import { formatBytes, liveActivityLine, pendingHeartbeats } from '../../src/cli/live-activity';
import { fitLine } from '../../src/cli/terminal-width';
import type { HealthHeartbeat } from '../../src/activities/health-wait-budget';
import { ProgressMeter, type TransferProgress } from '../../src/storage/download-progress';

/** A heartbeat as the weights download sends it: the real meter, 700 GB over 142 files, 3.1 GB in. */
function downloadBeat(): TransferProgress {
  let beat: TransferProgress | undefined;
  const meter = new ProgressMeter('download', 700e9, 142, (p) => (beat = p), 0);
  meter.addExisting(1.1e9);
  for (let i = 0; i < 4; i++) meter.fileDone();
  meter.addBytes(2e9);
  meter.flush();
  return { ...beat!, rateBytesPerSec: 1.2e9 };
}

describe('the live line of a running step', () => {
  test('a download: bytes / total (percent), files, rate and ETA from the heartbeat', () => {
    const line = liveActivityLine([{ activityType: 'ensureWeights', details: downloadBeat() }], { nowMs: 0 });
    expect(line).toBe('download 3.10 GB / 700 GB (0.4 %), 4 of 142 files, 1.20 GB/s, ETA 9.7 min');
  });

  test('a download before its first bytes says it is starting', () => {
    const start = { stage: 'download', bytesDone: 0, bytesTotal: 0, filesDone: 0, filesTotal: 0, rateBytesPerSec: 0 };
    expect(liveActivityLine([{ activityType: 'ensureWeights', details: start }], { nowMs: 0 })).toBe(
      'download: starting',
    );
  });

  test('the health wait: the attempt and the polled time against the startup timeout', () => {
    const beat: HealthHeartbeat = { attempt: 12, startedAtMs: 1_000, polledMs: 84_000, atMs: 85_000, outcomes: {} };
    expect(
      liveActivityLine([{ activityType: 'waitForHealth', details: beat }], { nowMs: 90_000, startupTimeoutSec: 900 }),
    ).toBe('/health attempt 12, polled 1.4 min of the 15.0 min startup timeout');
    // A beat of an older worker (no polledMs): the time since the wait began.
    const old = { attempt: 3, startedAtMs: 1_000, outcomes: {} };
    expect(liveActivityLine([{ activityType: 'waitForHealth', details: old }], { nowMs: 31_000 })).toBe(
      '/health attempt 3, polled 30.0 s',
    );
  });

  test('no heartbeat that says anything: no line', () => {
    expect(liveActivityLine([{ activityType: 'deploy', details: undefined }], { nowMs: 0 })).toBeUndefined();
    expect(liveActivityLine([], { nowMs: 0 })).toBeUndefined();
  });

  test.each([80, 120])('at %i columns the task output stays on one line', (columns) => {
    const line = `running for 3.2 min — ${liveActivityLine([{ activityType: 'ensureWeights', details: downloadBeat() }], { nowMs: 0 })}`;
    const shown = fitLine(line, columns - 4);
    expect(shown.length).toBeLessThanOrEqual(columns - 4);
    expect(shown).toMatch(columns >= 120 ? /ETA 9\.7 min$/ : /^running for 3\.2 min — download 3\.10 GB \/ 700 GB/);
  });

  test('heartbeats are read from the described pending activities', () => {
    const description = {
      pendingActivities: [
        { activityType: { name: 'deploy' } },
        {
          activityType: { name: 'waitForHealth' },
          heartbeatDetails: { payloads: [defaultPayloadConverter.toPayload({ attempt: 2, startedAtMs: 5 })] },
        },
      ],
    };
    expect(pendingHeartbeats(description)).toEqual([
      { activityType: 'waitForHealth', details: { attempt: 2, startedAtMs: 5 } },
    ]);
  });
});

test('formatBytes uses the decimal units of the guide (700 GB)', () => {
  expect([512, 6.2e6, 3.1e9, 700e9, 1.5e12].map(formatBytes)).toEqual([
    '512 B',
    '6.20 MB',
    '3.10 GB',
    '700 GB',
    '1.50 TB',
  ]);
});
