// Jest runs the TypeScript sources as native ESM (node --experimental-vm-modules), transpiled per file
// by ts-jest; type errors are tsc's job (npm run typecheck), so tests stay fast.
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }] },
};

export default {
  // Global only (a project's testTimeout is ignored): integration tests drive real builds and pushes.
  testTimeout: 180_000,
  // Used with --coverage (the test command): our sources only; the action processes add theirs (scripts/coverage.mjs).
  coverageProvider: 'v8',
  collectCoverageFrom: ['packages/*/src/**/*.ts', 'actions/*/src/**/*.ts'],
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/packages/*/test/**/*.test.ts',
        '<rootDir>/actions/*/test/**/*.test.ts',
        '<rootDir>/test/unit/**/*.test.ts',
      ],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/support/free-images.ts'],
    },
  ],
};
