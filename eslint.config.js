import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettierRecommended from 'eslint-plugin-prettier/recommended';

const startupPaths = ['node:http', 'http'].map((name) => ({
  name,
  allowTypeImports: true,
  message:
    "take it with process.getBuiltinModule('node:http'): imported as an ES module, its namespace loads undici, ~20 ms of every action's start (test/integration/bundle.test.ts fails if undici is bundled)",
}));
const startupPatterns = [
  {
    group: ['@sigstore/sign/dist/*'],
    message:
      "only supply-chain's sign.ts imports @sigstore/sign's bundler directly (its index loads the keyless HTTP stack, 0.9 MB); go through sign.ts",
  },
];

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', 'coverage/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
        AbortSignal: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off',
      // With noUncheckedIndexedAccess, `match[1]!` after a successful match is the clear way to say it.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  // Start-up rules of the actions' own code (each action starts on every job: its first milliseconds are
  // everyone's). The reasons are in the messages, where a newcomer meets them.
  {
    files: ['packages/*/src/**/*.ts', 'actions/*/src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: startupPaths, patterns: startupPatterns }],
      'no-restricted-globals': [
        'error',
        {
          name: 'fetch',
          message:
            "use action-kit's httpRequest: one HTTP path with one set of proxy and TLS rules; fetch also loads undici (~20 ms) and costs 2-5 ms of CPU per request",
        },
      ],
    },
  },
  // The line between library and action (docs/ARCHITECTURE.md): a domain package knows input names only in
  // its *inputs.ts module (a parser two actions share); everything else in it takes typed options.
  {
    files: ['packages/{kube,supply-chain,image-build,checks,oci}/src/**/*.ts'],
    ignores: ['**/*inputs.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...startupPaths,
            {
              name: '@deploy-suite/action-kit',
              importNames: ['InputReader'],
              message:
                "inputs are read in an action's inputs.ts, or in a package's *inputs.ts when two actions share the parser; this module takes typed options (docs/ARCHITECTURE.md, 'Where a new thing goes')",
            },
          ],
          patterns: startupPatterns,
        },
      ],
    },
  },
  // Last: Prettier's layout (.prettierrc.json) is a lint error, and the style rules it replaces are off.
  prettierRecommended,
);
