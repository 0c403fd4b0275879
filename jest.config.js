/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Type errors are caught once by `tsc --noEmit` in `npm test`; with isolatedModules (tsconfig.json)
    // ts-jest transpiles file by file, which keeps jest fast.
    '^.+\\.ts$': ['ts-jest', {}],
  },
  globalSetup: '<rootDir>/test/global-setup.ts',
  testTimeout: 120000,
};
