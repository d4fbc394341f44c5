export { startEmulator, type EmulatorHandle, type StartEmulatorOptions } from './emulator';
export { runEmulatorProcess } from './run-emulator-process';
export type { EngineExit } from './engine-exit';
