/**
 * Two tiers. `unit`: the domain, translator, executor and use cases over the fakes of
 * src/drivers/fake/ — no Docker engine, milliseconds each (`npm run test:unit`). `integration`:
 * everything else, against real Docker engines, git and HTTP as before. `npm test` runs unit first.
 */
const unitTests = [
  '<rootDir>/test/domain/**/*.test.ts',
  '<rootDir>/test/translator/**/*.test.ts',
  '<rootDir>/test/executor/**/*.test.ts',
  '<rootDir>/test/use-cases/**/*.test.ts',
  '<rootDir>/test/**/*.unit.test.ts',
];

const common = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: {
    // Type errors are caught once by `tsc --noEmit` in `npm test`; with isolatedModules (tsconfig.json)
    // ts-jest transpiles file by file, which keeps jest fast.
    '^.+\\.ts$': ['ts-jest', {}],
  },
};

/** @type {import('jest').Config} */
module.exports = {
  // A global option: the real-engine tests pull images and start containers.
  testTimeout: 120000,
  projects: [
    { ...common, displayName: 'unit', testMatch: unitTests },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/(domain|translator|executor|use-cases)/', '\\.unit\\.test\\.ts$'],
      globalSetup: '<rootDir>/test/global-setup.ts',
    },
  ],
};
