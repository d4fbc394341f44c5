import type { Command } from 'commander';
import { registerDoctorCommand } from './doctor';
import { registerPlatformCommand } from './platform';
import { registerSpecCommand } from './spec';
import { registerCostCommand } from './cost';
import { registerEmulatorCommand } from './emulator';
import { registerDevCommand } from './dev';
import { registerWorkerCommand } from './worker';
import { registerRolloutCommand } from './rollout';
import { registerHubCommand } from './hub';
import { registerVerifyCommand } from './verify';
import { registerEmulatorCompileCommand } from './emulator-compile';
import { registerKeepwarmCommand } from './keepwarm';
import { registerUpgradeCommand } from './upgrade';

/** Each command group registers itself on the program; add one line per group. */
export function registerCommands(program: Command): void {
  registerDoctorCommand(program);
  registerHubCommand(program);
  registerVerifyCommand(program);
  registerEmulatorCompileCommand(program);
  registerSpecCommand(program);
  registerCostCommand(program);
  registerDevCommand(program);
  registerWorkerCommand(program);
  registerRolloutCommand(program);
  registerEmulatorCommand(program);
  registerPlatformCommand(program);
  registerKeepwarmCommand(program);
  registerUpgradeCommand(program);
}
