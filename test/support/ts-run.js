'use strict';
/*
 * `node test/support/ts-run.js src/main.ts`: runs a TypeScript entry point of this repository in
 * a process of its own, for end-to-end tests that need one (signals, exit codes, its memory). Each
 * file is transpiled as it is required, as ts-jest does for the suites: no build, no type check.
 */
const { readFileSync } = require('node:fs');
const { resolve } = require('node:path');
const ts = require('typescript');

const compilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  esModuleInterop: true,
  inlineSourceMap: true,
};

require.extensions['.ts'] = (module, filename) => {
  const source = readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename });
  module._compile(outputText, filename);
};

require(resolve(process.argv[2]));
