import { closestMatches } from './edit-distance';
import { readFlagValue } from './sglang-argparse';
import type { SglangFlag } from './sglang-flags';

/** Actions that take no value on the command line (store_true and friends): the spec writes `true`. */
export function isSwitch(flag: SglangFlag): boolean {
  return flag.nargs === 0 || flag.action === 'BooleanOptionalAction';
}

function describeAccepted(flag: SglangFlag): string {
  if (Array.isArray(flag.choices)) return `one of ${flag.choices.map(String).join(', ')}`;
  const type = (flag.type ?? 'str').split('.').pop();
  if (type === 'int') return 'an integer';
  if (type === 'float') return 'a number';
  if (type === 'loads' || type === 'json_list_type') return 'a JSON value';
  if (type === 'human_readable_int') return 'an integer (1k, 1Mi suffixes allowed)';
  return 'a value';
}

/**
 * Why a spec value does not fit a flag as this release parses it, or undefined when it does. `true` renders a bare
 * switch and `false` omits the flag (glm-ops' convention); anything else is one argv element, read with argparse's
 * own type and choices.
 */
export function describeFlagValueProblem(
  key: string,
  flag: SglangFlag,
  value: unknown,
  release: string,
): string | undefined {
  if (value === false) return undefined;
  if (flag.deprecated?.errorMessage !== undefined) {
    return `"${key}" is retired in ${release}, which stops with: ${flag.deprecated.errorMessage}`;
  }
  if (isSwitch(flag)) {
    return value === true
      ? undefined
      : `"${key}" is a switch in ${release} (it takes no value): write true, or false to leave it out; got ${JSON.stringify(value)}`;
  }
  if (value === true) {
    if (flag.nargs === '?' || flag.nargs === '*') return undefined;
    return `"${key}" takes ${describeAccepted(flag)} in ${release}, not a bare switch (true)`;
  }
  if (typeof flag.nargs === 'number' && flag.nargs > 1) {
    return `"${key}" takes ${flag.nargs} values in ${release}; a spec value is one argv element`;
  }
  const read = readFlagValue(flag, String(value));
  if (read.ok) return undefined;
  if (Array.isArray(flag.choices)) {
    const nearest = closestMatches(String(value), flag.choices.map(String), 1)[0];
    return `"${key}" must be ${describeAccepted(flag)} (${release}), got ${JSON.stringify(value)}${nearest ? `: did you mean ${nearest}?` : ''}`;
  }
  return `"${key}" takes ${describeAccepted(flag)} in ${release}, got ${JSON.stringify(value)} (argparse: ${read.message})`;
}
