#!/usr/bin/env node
// Bundles the compiled CLI into one ESM file (packages/server/dist/stockade.mjs). Loading one file
// instead of ~600 modules is what keeps cold start within a few hundred milliseconds. Native and
// optional modules stay external: better-sqlite3 (native addon) and pg (loaded only for PostgreSQL).
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

const outfile = 'packages/server/dist/stockade.mjs';
await build({
  entryPoints: ['packages/server/dist/src/cli/main.js'],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: ['better-sqlite3', 'pg', 'pg-native'],
  // CommonJS dependencies bundled into ESM still call require / __dirname.
  banner: {
    js: [
      "import { createRequire as __stockadeRequire } from 'node:module';",
      "import { fileURLToPath as __stockadeFileUrl } from 'node:url';",
      'const require = __stockadeRequire(import.meta.url);',
      'const __filename = __stockadeFileUrl(import.meta.url);',
      "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    ].join('\n'),
  },
  legalComments: 'none',
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);

// Data Flow's engine runs in a child process of its own (services/dataflow/engine-child.ts): a
// second bundle next to the CLI. DuckDB (a native addon) stays external and loads only there.
await build({
  entryPoints: ['packages/server/dist/src/services/dataflow/engine-child.js'],
  outfile: 'packages/server/dist/dataflow-engine.mjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: ['@duckdb/node-api'],
  legalComments: 'none',
  logLevel: 'warning',
});
