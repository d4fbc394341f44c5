import * as path from 'node:path';

/** The require hook (ts-register.js) that lets a child process run TypeScript sources without a build of lib/. */
export const TS_REGISTER = path.join(__dirname, 'ts-register.js');

/**
 * The command that runs a TypeScript entry from the sources in a child process: [node, -r, hook, entry]. Like ts-jest
 * in this process, it transpiles module by module without type-checking (`npx tsc` is the typecheck), so a test
 * that needs a real process (to SIGKILL it, to read its exit code) neither builds nor waits for a build.
 */
export function tsSourceCommand(entry: string): string[] {
  return [process.execPath, '-r', TS_REGISTER, entry];
}
