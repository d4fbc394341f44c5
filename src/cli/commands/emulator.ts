import type { Command } from 'commander';
import { runEmulatorProcess } from '../../emulator';

/** Registers `glm-ops emulator [SGLang flags]`: the SGLang digital twin, started exactly like sglang.launch_server. */
export function registerEmulatorCommand(program: Command): void {
  program
    .command('emulator')
    .description(
      'Run the SGLang emulator (digital twin) with sglang.launch_server flags; settings from GLM_OPS_EMULATOR_* env',
    )
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[sglang-flags...]', 'flags exactly as python3 -m sglang.launch_server takes them')
    .action(async (flags: string[]) => {
      await runEmulatorProcess(flags);
    });
}
