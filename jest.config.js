/** Unit, infra and end-to-end tests on the local runtime. LocalStack tests live in jest.localstack.config.js. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/localstack/'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  setupFiles: ['<rootDir>/test/setup.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/setup-after-env.ts'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 60000,
  // Three workers on the 2-core machines this project targets: much of a suite waits on DynamoDB Local
  // (its own process), on child processes or on backoff, so a third worker fills those gaps (measured on
  // 2 cores: 107 s with 3 workers, 114 s with 2; 4 gave nothing more); Jest's default, cores - 1, is 1.
  maxWorkers: 3,
};
