/* global require */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS require hook must use require */
// Lets a child process run the TypeScript sources directly (node -r this-file entry.ts), so tests that SIGKILL or
// spawn real CLI processes do not depend on a prior build of lib/.
const fs = require('node:fs');
const ts = require('typescript');

require.extensions['.ts'] = function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      sourceMap: false,
    },
  });
  module._compile(outputText, filename);
};
