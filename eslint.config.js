// @ts-check
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Folders that must not reach outward (see docs/ARCHITECTURE.md; `test/unit/architecture.test.ts`
 * checks every arrow of its table). One entry per folder: a later entry for the same files would
 * replace this rule's options, not add to them.
 */
const boundaries = [
  {
    files: ['src/mastery/**/*.ts'],
    message: 'src/mastery is pure: it imports nothing of ours but types from its own folder.',
    patterns: [
      '../*',
      'express',
      'kysely',
      'pg',
      '@electric-sql/*',
      'node:fs',
      'node:fs/promises',
      'node:http',
    ],
  },
  {
    files: ['src/lti/**/*.ts'],
    message:
      'src/lti is protocol only: it knows nothing of standards, mastery, storage or Express.',
    patterns: [
      '../standards/*',
      '../mastery/*',
      '../passback/*',
      '../storage/*',
      '../web/*',
      'express',
      'kysely',
    ],
  },
  {
    files: ['src/web/**/*.ts'],
    message:
      'src/web calls use cases; it never imports src/storage (docs/ARCHITECTURE.md: web ↛ storage).',
    patterns: ['**/storage/**'],
  },
  {
    files: ['src/passback/**/*.ts'],
    message:
      'src/passback reads the policy from src/policy and the LMS through the port: it imports neither src/evidence, src/courses, the composition root nor the web layer.',
    patterns: ['../evidence/*', '../courses/*', '../app-services.ts', '../web/*', 'express'],
  },
  {
    files: ['src/mastery-views/**/*.ts'],
    message:
      'src/mastery-views presenters are pure: they declare what they read (inputs.ts) and import neither src/storage, src/evidence nor the web layer.',
    patterns: ['../storage/*', '../evidence/*', '../web/*', 'express'],
  },
  {
    files: ['src/courses/**/*.ts', 'src/evidence/**/*.ts', 'src/policy/**/*.ts'],
    message:
      'Nothing below src/web imports the composition root or the web layer: take named dependencies.',
    patterns: ['**/app-services.ts', '**/web/**', 'express'],
  },
  {
    files: ['src/standards/**/*.ts', 'src/storage/**/*.ts'],
    message: 'Domain and storage code does not depend on the web layer.',
    patterns: ['../web/*', 'express'],
  },
];

export default defineConfig(
  {
    ignores: ['dist/', 'node_modules/', 'data/', 'coverage/', 'public/vendor/'],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        projectService: {
          allowDefaultProject: ['*.js', 'bin/*.js', 'public/js/*.js', 'test/support/*.cjs'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  ...boundaries.map(({ files, message, patterns }) => ({
    files,
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: patterns, message }] }],
    },
  })),
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // chai's property assertions (`expect(x).to.be.true`) are expressions by design.
      '@typescript-eslint/no-unused-expressions': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-console': 'off',
    },
  },
  {
    files: ['bin/**/*.js', 'src/cli.ts', 'src/main.ts', 'src/emulator/main.ts', 'src/demo.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    // Small progressive-enhancement scripts for the browser: plain JavaScript, no type information.
    files: ['public/js/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['public/js/**/*.js'],
    languageOptions: { globals: { ...globals.browser }, sourceType: 'script' },
  },
  {
    files: ['**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
