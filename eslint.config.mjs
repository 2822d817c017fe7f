// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const LIB_INDEX_ONLY = {
  group: ['@herald/*/*'],
  message: 'Import a lib through its index (@herald/<lib>), never deep.',
};
const NO_APP_INTERNALS = {
  regex: '^(\\.\\./)+(api|worker|beat|cli|all)/src(/|$)',
  message:
    "Another app's internals: apps/all composes an app through its index (@herald/app-<name>); code two apps share belongs in a lib.",
};

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.data/**',
      'coverage/**',
      'helm/**',
      'docker/**',
      'deploy/**',
      // Generated from the OpenAPI document by `npm run client:generate`; its staleness test guards it.
      'libs/api-client/src/generated/**',
      'test-results/**',
      'playwright-report/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: [
            '*.js',
            '*.mjs',
            'scripts/*.mjs',
            'scripts/client/*.mjs',
            'test/support/*.js',
          ],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-extraneous-class': 'off',
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Only libs/config reads process.env: inject HERALD_CONFIG instead.',
        },
      ],
      'no-restricted-imports': ['error', { patterns: [LIB_INDEX_ONLY] }],
    },
  },
  // Dependencies point one way: apps depend on libs, and only apps/all composes other apps.
  {
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            LIB_INDEX_ONLY,
            { group: ['@herald/app-*', '**/apps/**'], message: 'A lib never depends on an app.' },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/*/src/**/*.ts'],
    ignores: ['apps/all/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            LIB_INDEX_ONLY,
            NO_APP_INTERNALS,
            { group: ['@herald/app-*'], message: 'Only apps/all composes other apps.' },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/all/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [LIB_INDEX_ONLY, NO_APP_INTERNALS] }] },
  },
  {
    // The console runs in the browser.
    files: ['apps/console/src/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // Where reading the environment is the point: the config lib, the test harness, scripts and tests.
    files: [
      'libs/config/**',
      'libs/testing/**',
      'scripts/**',
      'test/**',
      'bench/**',
      'playwright.config.ts',
      '**/*.spec.ts',
      '**/*.int-spec.ts',
      '**/*.e2e-spec.ts',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { ...globals.node } },
    // Plain CommonJS files (jest config, its global setup): require is how they load.
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
