/**
 * The floors of src/ (docs/architecture.md, "Floors"): a folder imports only the folders below
 * it, and nothing cycles. `npm run check` runs this through `npm run lint:floors`.
 */

/** Bottom to top. A folder may import itself and any folder before it in this list. */
const FLOORS = [
  'http',
  'config',
  'audit',
  'redis',
  'keys',
  'observability',
  'session',
  'capacity',
  'rate-limit',
  'quota',
  'usage',
  'auth',
  'gather',
  'admin-page',
];

const above = (i) => FLOORS.slice(i + 1);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'Two modules that import each other, directly or through others.',
      from: {},
      to: { circular: true },
    },
    ...FLOORS.map((floor, i) => ({
      name: `floor-${floor}`,
      severity: 'error',
      comment: `src/${floor}/ may import only the floors below it (docs/architecture.md, "Floors").`,
      // Tests assemble what they test from any floor.
      from: { path: `^src/${floor}/`, pathNot: '\\.spec\\.ts$' },
      // The files at the top of src/ (app module, bootstrap, main) and demo/ are above every floor.
      to: { path: `^src/(?:(?:${[...above(i), 'demo'].join('|')})/|[^/]+$)` },
    })),
    {
      name: 'client-stands-alone',
      severity: 'error',
      comment: 'The client package ships on its own: it imports nothing of the server.',
      from: { path: '^packages/client/src/' },
      to: { path: '^src/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    // Type-only imports are arrows too.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
