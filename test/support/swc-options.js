// The one swc configuration for running the TypeScript sources without type checks:
// Jest (jest.config.js) and child processes (swc-register.js) both use it. Nest DI
// needs legacy decorators with metadata, and kept class names.
'use strict';
module.exports = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    keepClassNames: true,
    target: 'es2023',
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};
