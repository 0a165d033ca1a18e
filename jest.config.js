// Jest runs TypeScript through swc, with the options child processes use too. It
// runs under NODE_OPTIONS=--experimental-vm-modules so that Node's real require(esm)
// loads the ESM-only packages (Nest 12, client-node 2).
const swcOptions = require('./test/support/swc-options.js');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/src'],
  testMatch: ['**/*.spec.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['@swc/jest', swcOptions],
  },
  testTimeout: 30000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
