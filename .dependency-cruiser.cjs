/**
 * The dependency direction of DESIGN §7, checked in CI (`npm run lint`):
 * connectors → engine ← db; the engine knows no vendor, database, HTTP or scheduler
 * library; connectors never touch the database; only the CLI (and its demo) starts simulators.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Import cycles make modules impossible to read or test alone.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'engine-knows-no-adapter',
      severity: 'error',
      comment: 'src/engine holds the sync logic: no vendor, db, http, config, admin, cli or sim code.',
      from: { path: '^src/engine/' },
      to: { path: '^src/(connectors|db|http|config|admin|cli|sim)/' },
    },
    {
      name: 'engine-knows-no-io-library',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { path: 'node_modules/(got|drizzle-orm|postgres|node-cron|fastify|pino|prom-client|p-queue)/' },
    },
    {
      name: 'connectors-never-touch-the-database',
      severity: 'error',
      from: { path: '^src/connectors/' },
      to: { path: '^src/(db|admin|cli|sim)/|node_modules/(drizzle-orm|postgres)/' },
    },
    {
      name: 'simulators-only-from-the-cli',
      severity: 'error',
      comment: 'Simulators are for tests, the demo and benchmarks, never for elsync run against real systems.',
      from: { path: '^src/', pathNot: '^src/(cli|sim)/' },
      to: { path: '^src/sim/' },
    },
    {
      name: 'no-imports-from-the-composition-root',
      severity: 'error',
      comment: 'main.ts composes; nothing imports helpers from it (one assembly lives in src/app.ts).',
      from: { path: '^src/', pathNot: '^src/cli/(run|demo|demo\\.setup)\\.ts$' },
      to: { path: '^src/main\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
}
