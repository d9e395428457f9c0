// Lint gates (run by npm test): type-aware promise rules everywhere, lines of at most 120 columns, and the import
// boundaries of the design: the mock and the engine/tests share only specs/ and schemas/. The layer rules (family
// files, support/, cycles incl. type-only) are dependency-cruiser's: .dependency-cruiser.cjs.
import stylistic from '@stylistic/eslint-plugin';
import tseslint from 'typescript-eslint';

const boundary = (group, message) => ({ 'no-restricted-imports': ['error', { patterns: [{ group, message }] }] });

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'playwright-report/**',
      'test-results/**',
      'conformance-report/**',
      'mutants-report/**',
      'blob-report/**',
      'all-blob-reports/**',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js', '.dependency-cruiser.cjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
              package: 'node:test',
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.property.name='only']", message: 'No .only in committed tests.' },
      ],
    },
  },
  {
    files: ['mock/**/*.ts'],
    rules: boundary(
      ['**/src/**', '**/tests/**', '**/scripts/**'],
      'The mock reads specs/ and schemas/ only; it never imports the engine, the tests or scripts.',
    ),
  },
  {
    files: ['src/**/*.ts', 'tests/**/*.ts'],
    rules: boundary(['**/mock/**'], 'The engine and the tests reach the mock over HTTP only.'),
  },
  { files: ['src/**/*.ts'], rules: boundary(['**/tests/**'], 'The engine never imports tests.') },
  {
    // Lines ≤ 120 columns everywhere, strings and comments included (the formatter, oxfmt, wraps code, not text).
    plugins: { '@stylistic': stylistic },
    rules: { '@stylistic/max-len': ['error', { code: 120, ignoreUrls: true }] },
  },
  { files: ['eslint.config.js', '.dependency-cruiser.cjs'], ...tseslint.configs.disableTypeChecked },
);
