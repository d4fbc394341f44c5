import type { Command } from 'commander';
import type { Config } from '../../config/config';
import { registerDoctorCommand } from './doctor';
import { registerPlatformCommand } from './platform';
import { registerSpecCommand } from './spec';
import { registerCostCommand } from './cost';
import { registerEmulatorCommand } from './emulator';
import { registerDevCommand } from './dev';
import { registerWorkerCommand } from './worker';
import { registerRolloutCommand } from './rollout';
import { registerStatusCommand } from './status';
import { registerDecideCommand } from './decide';
import { registerHubCommand } from './hub';
import { registerVerifyCommand } from './verify';
import { registerEmulatorCompileCommand } from './emulator-compile';
import { registerKeepwarmCommand } from './keepwarm';
import { registerUpgradeCommand } from './upgrade';
import { registerBenchCommand } from './bench';
import { registerTuneCommand } from './tune';

/** Each command group registers itself on the program; the order here is the order of `glm-ops --help`. */
export function registerCommands(program: Command, config: Config): void {
  registerDevCommand(program, config);
  registerRolloutCommand(program, config);
  registerStatusCommand(program, config);
  registerDecideCommand(program, config);
  registerKeepwarmCommand(program, config);
  registerUpgradeCommand(program, config);
  registerSpecCommand(program);
  registerCostCommand(program, config);
  registerVerifyCommand(program, config);
  registerBenchCommand(program, config);
  registerTuneCommand(program, config);
  registerDoctorCommand(program);
  registerPlatformCommand(program, config);
  registerHubCommand(program, config);
  registerEmulatorCommand(program);
  registerEmulatorCompileCommand(program);
  registerWorkerCommand(program, config);
}
