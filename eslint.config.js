// Lint gates (run by npm test), the rules that need no type information: lines of at most 120 columns, no `.only`,
// type-only imports, and the import boundaries of the design: the mock and the engine/tests share only specs/ and
// schemas/. The type-aware rules (typescript-eslint's recommendedTypeChecked set, the promise rules) and the type check
// itself run in oxlint with tsgolint (TypeScript's native compiler): .oxlintrc.json, `npm run lint:types`. The layer
// rules (family files, support/, cycles incl. type-only) are dependency-cruiser's: .dependency-cruiser.cjs.
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
  ...tseslint.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
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
);
