import { findingOf, type LintRule } from '../finding';
import { stringArg } from '../spec-args';

/** GLM-5.1 reasoning needs the glm45 parser, or reasoning_content stays empty. */
export const reasoningParser: LintRule = {
  id: 'reasoning-parser',
  summary: 'reasoning-parser missing or not glm45',
  reason: 'guide §18 "reasoning_content is empty even though thinking should be enabled": add --reasoning-parser glm45',
  check(spec) {
    const parser = stringArg(spec, 'reasoning-parser');
    if (parser === 'glm45') return [];
    return [
      findingOf(this, {
        level: 'warning',
        path: 'sglang.args.reasoning-parser',
        message:
          parser === undefined
            ? 'reasoning-parser is not set: reasoning_content will be empty'
            : `reasoning-parser ${parser} is not the GLM-5.1 parser`,
        fix: 'set reasoning-parser: glm45',
      }),
    ];
  },
};
