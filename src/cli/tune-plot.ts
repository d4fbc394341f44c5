import type { TrialRecord } from '../shared/tune-types';
import { svgChart } from './svg-chart';
import { measuredTrials, paretoFront } from './tune-pareto';

const GREEN = '#2ca02c';
const ORANGE = '#ff7f0e';
const BLUE = '#1f77b4';
const RED = '#d62728';

/** What the plot draws: every trial of the tune, the one chosen, and the SLO's TTFT ceiling. */
export interface TunePlotInput {
  app: string;
  trials: readonly TrialRecord[];
  chosen: TrialRecord | null;
  ttftP95LimitMs: number;
}

/**
 * Throughput against TTFT p95, one dot per measured trial (labelled with its number; green when it meets the SLO,
 * orange when it misses), the Pareto front as a line, the chosen trial ringed and the SLO's TTFT ceiling dashed.
 * Infeasible and failed trials have no figures and are not drawn (the report's table lists them).
 */
export function tunePlot(input: TunePlotInput): string {
  const measured = measuredTrials(input.trials);
  const dots = (isMeeting: boolean): TrialRecord[] => measured.filter((trial) => trial.meetsSlo === isMeeting);
  const point = (trial: TrialRecord): [number, number] => [trial.figures!.ttftP95Ms, trial.figures!.outputTokensPerSec];
  const front = paretoFront(input.trials);
  const chosen = measured.find((trial) => trial.index === input.chosen?.index);
  return svgChart({
    title: `${input.app}: throughput against TTFT p95 per trial`,
    xLabel: 'TTFT p95 (ms)',
    yLabel: 'output tok/s',
    series: [
      {
        name: 'meets the SLO',
        color: GREEN,
        points: dots(true).map(point),
        labels: dots(true).map((trial) => `#${trial.index}`),
        isLine: false,
        radius: 4,
      },
      {
        name: 'misses the SLO',
        color: ORANGE,
        points: dots(false).map(point),
        labels: dots(false).map((trial) => `#${trial.index}`),
        isLine: false,
        radius: 4,
      },
      { name: 'Pareto front', color: BLUE, points: front.map(point), isLine: true, radius: 1.5 },
      ...(chosen
        ? [
            {
              name: `chosen: #${chosen.index}`,
              color: RED,
              points: [point(chosen)],
              isLine: false,
              marker: 'ring' as const,
            },
          ]
        : []),
    ],
    verticalLines: [{ x: input.ttftP95LimitMs, label: `SLO TTFT p95 ${input.ttftP95LimitMs} ms`, color: RED }],
  });
}
