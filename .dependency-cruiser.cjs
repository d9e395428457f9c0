/**
 * The layer rules of the suite, checked by `npm run lint` (dependency-cruiser; type-only imports count too).
 * Layers: specs/ + schemas/ (data) → src/ (engine/, http/, secrets/, generators/, arbitraries/, checks/, report/)
 * → tests/ → reports; the mock reads the same data and nothing else. docs/ARCHITECTURE.md draws them.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles, type-only ones included: shared types live in their own module.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'mock-reads-data-only',
      severity: 'error',
      comment: 'The mock reads specs/ and schemas/ only; it never imports the engine, the tests or scripts.',
      from: { path: '^mock/' },
      to: { path: '^(src|tests|scripts)/' },
    },
    {
      name: 'src-never-imports-tests-or-mock',
      severity: 'error',
      comment: 'The engine never imports tests, and reaches the mock over HTTP only.',
      from: { path: '^src/' },
      to: { path: '^(tests|mock)/' },
    },
    {
      name: 'tests-never-import-mock',
      severity: 'error',
      comment: 'Tests reach the mock over HTTP (they start it as a process), never by import.',
      from: { path: '^tests/' },
      to: { path: '^mock/' },
    },
    {
      name: 'family-files-never-import-each-other',
      severity: 'error',
      comment: 'A check family file imports support/, engine/, http/, secrets/, generators/, arbitraries/ only.',
      from: { path: '^src/checks/[^/]+[.]ts$', pathNot: '^src/checks/index[.]ts$' },
      to: { path: '^src/checks/([^/]+[.]ts|rate/)' },
    },
    {
      name: 'rate-family-imports-no-other-family',
      severity: 'error',
      comment: 'The rate family (src/checks/rate/) imports no other family file.',
      from: { path: '^src/checks/rate/' },
      to: { path: '^src/checks/[^/]+[.]ts$' },
    },
    {
      name: 'support-imports-no-family',
      severity: 'error',
      comment: 'src/checks/support/ holds what families share; it never imports a family.',
      from: { path: '^src/checks/support/' },
      to: { path: '^src/checks/', pathNot: '^src/checks/support/' },
    },
    {
      name: 'lower-layers-import-no-checks-or-reports',
      severity: 'error',
      comment: 'engine/, http/, secrets/, generators/ and arbitraries/ know nothing of the checks or the reporters.',
      from: { path: '^src/(engine|http|secrets|generators|arbitraries)/' },
      to: { path: '^src/(checks|report)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every relative import resolves to a file.',
      from: {},
      to: { couldNotResolve: true, pathNot: '^(node:|[a-z@])' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|reports|conformance-report|playwright-report|test-results|mutants-report)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
