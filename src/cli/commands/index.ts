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

/** Each command group registers itself on the program; the order here is the order of `glm-ops --help`. */
export function registerCommands(program: Command): void {
  registerDevCommand(program);
  registerRolloutCommand(program);
  registerKeepwarmCommand(program);
  registerUpgradeCommand(program);
  registerSpecCommand(program);
  registerCostCommand(program);
  registerVerifyCommand(program);
  registerDoctorCommand(program);
  registerPlatformCommand(program);
  registerHubCommand(program);
  registerEmulatorCommand(program);
  registerEmulatorCompileCommand(program);
  registerWorkerCommand(program);
}
