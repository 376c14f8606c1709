// Architecture rules: the folders of src/ import one way only (see DESIGN.md), and no cycles.
/** Folders each folder may import, besides itself. */
const allowed = {
  common: [],
  runtime: ['common'],
  cri: ['runtime', 'common'],
  drivers: ['runtime', 'cri', 'common'],
  scenario: ['common'],
  metrics: ['common'],
  load: ['scenario', 'drivers', 'metrics', 'common'],
  report: ['metrics', 'scenario', 'common'],
  // The Kubernetes client of churn cluster: reads reports and scenarios, knows no runtime.
  cluster: ['report', 'scenario', 'common'],
  cli: ['common', 'runtime', 'cri', 'drivers', 'scenario', 'load', 'metrics', 'report', 'cluster'],
};
const folders = Object.keys(allowed);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles make module initialisation order fragile.',
      from: {},
      to: { circular: true },
    },
    ...folders.map((folder) => ({
      name: `layering-${folder}`,
      severity: 'error',
      comment: `src/${folder} may import only: ${allowed[folder].join(', ') || 'nothing in src'}`,
      from: { path: `^src/${folder}/` },
      to: {
        path: '^src/',
        pathNot: [`^src/${folder}/`, ...allowed[folder].map((f) => `^src/${f}/`)],
      },
    })),
    {
      name: 'load-uses-driver-interface-only',
      severity: 'error',
      comment: 'The harness knows runtimes only through the Driver interface.',
      from: { path: '^src/load/' },
      to: { path: '^src/drivers/', pathNot: '^src/drivers/driver\\.ts$' },
    },
    {
      name: 'report-uses-types-only',
      severity: 'error',
      comment: 'report/ reads metrics and scenario types; of their code only the HDR codec.',
      from: { path: '^src/report/' },
      to: {
        path: '^src/(metrics|scenario)/',
        pathNot: '^src/metrics/hdr\\.ts$',
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'no-orphans',
      severity: 'warn',
      from: { orphan: true, pathNot: ['\\.d\\.ts$', '^src/cri/generated/'] },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js'],
    },
  },
};
