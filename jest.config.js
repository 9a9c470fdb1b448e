/**
 * Unit specs live beside the code (src/**\/*.spec.ts, packages/*\/src/**\/*.spec.ts); end-to-end
 * suites under test/.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test', '<rootDir>/packages'],
  testRegex: '\\.(spec|e2e-spec)\\.ts$',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Node 24 and Redis checked once, in one line each; the run's temp folder made and removed.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // The client package is ESM: its relative imports name the `.js` files tsc will emit.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: 20000,
};
