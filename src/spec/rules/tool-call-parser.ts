import { findingOf, type LintRule } from '../finding';
import { stringArg } from '../spec-args';

/** GLM-5.1 tool calls need the glm47 parser. */
export const toolCallParser: LintRule = {
  id: 'tool-call-parser',
  summary: 'tool-call-parser missing or not glm47',
  reason: 'guide §18 "Tool calls return malformed JSON or wrong function names": add --tool-call-parser glm47',
  check(spec) {
    const parser = stringArg(spec, 'tool-call-parser');
    if (parser === 'glm47') return [];
    return [
      findingOf(this, {
        level: 'error',
        path: 'sglang.args.tool-call-parser',
        message:
          parser === undefined
            ? 'tool-call-parser is not set: tool calls come back as malformed text'
            : `tool-call-parser ${parser} does not parse GLM-5.1 tool calls`,
        fix: 'set tool-call-parser: glm47',
      }),
    ];
  },
};
