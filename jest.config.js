/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  modulePathIgnorePatterns: ['<rootDir>/lib'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  clearMocks: true,
  // A hang guard, not a budget: at a load of 30 on 2 cores (two suites beside other work) a test that starts a
  // daemon through two CLI processes took over 60 s. Timing figures live in bench/.
  testTimeout: 180_000,
  maxWorkers: 2,
};
