import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'lib/**',
      'node_modules/**',
      '.venv/**',
      '.glm-ops/**',
      '.bench-build/**',
      'coverage/**',
      'modal/**',
      '**/*.js',
      '*.cjs',
      '*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-exports': 'error',
      '@typescript-eslint/no-deprecated': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      'object-shorthand': 'error',
    },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/scripts/**', 'src/cli/**', 'src/worker.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    files: ['src/workflows/**/*.ts', 'src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'node:*',
                'fs',
                'fs/*',
                'path',
                'child_process',
                'http',
                'https',
                'net',
                'os',
                'crypto',
                'stream',
                'events',
                'util',
                'zlib',
                'timers',
                'timers/*',
              ],
              message: 'Workflow and shared code must stay deterministic: no Node built-ins.',
            },
            {
              group: ['**/activities/*', '**/activities', '**/platforms/**', '**/probes/**', '**/emulator/**'],
              importNames: ['*'],
              message: 'Workflows import activities as types only.',
            },
          ],
        },
      ],
    },
  },
);
