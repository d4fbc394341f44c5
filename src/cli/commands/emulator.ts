import type { Command } from 'commander';
import { runEmulatorProcess } from '../../emulator';
import { DEFAULT_EMULATED_SGLANG_IMAGE, EMULATOR_SGLANG_IMAGE_ENV } from '../../emulator/engine-args';

/** What `glm-ops emulator --help` adds below the usage: the settings that are not SGLang flags. */
const SETTINGS_HELP = `
Every flag of \`python3 -m sglang.launch_server\` of the emulated release is accepted (--model-path is required);
a bad flag exits 2 with argparse's usage and message, as SGLang does.

Settings (environment):
  ${EMULATOR_SGLANG_IMAGE_ENV}   the SGLang image whose release is played (default ${DEFAULT_EMULATED_SGLANG_IMAGE})
  GLM_OPS_EMULATOR_TIME_SCALE     every modelled duration × this factor, in (0, 100] (default 1: real durations)
  GLM_OPS_EMULATOR_GPU            the GPU type played (default B200)
  GLM_OPS_EMULATOR_CONFIG         a JSON file of emulator settings (faults, timing), or
  GLM_OPS_EMULATOR_CONFIG_JSON    the same JSON inline
  SGLANG_DG_CACHE_DIR             the DeepGEMM cache folder (default ~/.cache/deep_gemm), as SGLang reads it`;

/** Registers `glm-ops emulator [SGLang flags]`: the SGLang digital twin, started exactly like sglang.launch_server. */
export function registerEmulatorCommand(program: Command): void {
  program
    .command('emulator')
    .description('run the SGLang emulator (digital twin) with sglang.launch_server flags')
    // --help is glm-ops's (this text, exit 0); every other option is SGLang's, parsed by the emulator.
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[sglang-flags...]', 'flags exactly as python3 -m sglang.launch_server takes them')
    .addHelpText('after', SETTINGS_HELP)
    .action(async (flags: string[]) => {
      await runEmulatorProcess(flags);
    });
}
