/** Unit, infra and end-to-end tests on the local runtime. LocalStack tests live in jest.localstack.config.js. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/localstack/'],
  // SWC strips the types (type-checking is `tsc --noEmit` in .ci/run, as with ts-jest's isolatedModules);
  // CommonJS with TypeScript's esModuleInterop semantics, inline source maps for the stack traces.
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs', strictMode: true }, sourceMaps: 'inline' },
    ],
  },
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
