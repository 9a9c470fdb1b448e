/**
 * Unit specs live beside the code (src/**\/*.spec.ts, packages/*\/src/**\/*.spec.ts); end-to-end
 * suites under test/.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test', '<rootDir>/packages'],
  testRegex: '\\.(spec|e2e-spec)\\.ts$',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // The client package is ESM: its relative imports name the `.js` files tsc will emit.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: 20000,
};
