import type { Command } from 'commander';
import type { Config } from '../../config/config';
import { loadSpecFile } from '../../spec/parse-spec';
import { estimateMonthlyCost } from '../../spec/cost-model';
import { positiveNumberOption, printSpecIssues } from './spec-output';

const dollars = (value: number): string => `$${Math.round(value).toLocaleString('en-US')}`;

/** `glm-ops cost FILE`: the guide §8 strategies priced for a spec. */
export function registerCostCommand(program: Command, settings: Config): void {
  program
    .command('cost')
    .description(
      'estimate the monthly cost of a spec under the guide §8 strategies (scale-to-zero, business-hours keep-alive, always-on)',
    )
    .argument('<file>', 'spec YAML file')
    .option('--json', 'print JSON')
    .option(
      '--active-hours <n>',
      'billed hours per day under scale-to-zero (default 8)',
      positiveNumberOption('--active-hours'),
    )
    .option('--days-per-month <n>', 'days per billing month (default 30)', positiveNumberOption('--days-per-month'))
    .option('--price <dollars>', '$ per GPU-hour (overrides spec, env and catalog)', positiveNumberOption('--price'))
    .action(
      async (
        file: string,
        options: { json?: boolean; activeHours?: number; daysPerMonth?: number; price?: number },
      ) => {
        const parsed = await loadSpecFile(file);
        if (!parsed.ok) {
          printSpecIssues(parsed, file);
          process.exitCode = 2;
          return;
        }
        const spec = options.price
          ? { ...parsed.spec, gpu: { ...parsed.spec.gpu, dollarsPerGpuHour: options.price } }
          : parsed.spec;
        const report = estimateMonthlyCost(spec, {
          env: settings.env,
          ...(options.activeHours !== undefined ? { activeHoursPerDay: options.activeHours } : {}),
          ...(options.daysPerMonth !== undefined ? { daysPerMonth: options.daysPerMonth } : {}),
        });
        if (options.json) {
          console.log(JSON.stringify(report, null, 2));
          return;
        }
        console.log(
          `${spec.app}: ${report.gpu} at $${report.dollarsPerGpuHour}/GPU-h (${report.priceSource}) = $${report.dollarsPerReplicaHour.toFixed(2)}/replica-h\n`,
        );
        console.log('| Strategy | Replica-h/month | Monthly | Guide (8×B200) | Cold profile |');
        console.log('|---|---:|---:|---:|---|');
        for (const strategy of report.strategies) {
          console.log(
            `| ${strategy.label} | ${strategy.replicaHoursPerMonth.toFixed(0)} | ${dollars(strategy.dollarsPerMonth)} | ~${dollars(strategy.guideDollarsPerMonth)} | ${strategy.coldProfile} |`,
          );
        }
        console.log('');
        for (const strategy of report.strategies) console.log(`- ${strategy.id}: ${strategy.basis}`);
        for (const note of report.notes) console.log(`- ${note}`);
      },
    );
}
