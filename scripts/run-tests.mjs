#!/usr/bin/env node
// Runs the compiled test files of every package with Node's test runner: once on SQLite, then
// once more on PostgreSQL when STOCKADE_TEST_DATABASE_URL is set (each test file then uses its
// own schema). Extra arguments are passed to `node --test` (e.g. --test-name-pattern).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function findTests(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(findTests(p));
    else if (e.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = ['packages/sdk', 'packages/server'].flatMap((p) => findTests(join(p, 'dist', 'test'))).sort();
if (files.length === 0) {
  console.error('no compiled tests found: run `npm run build` first');
  process.exit(1);
}
const extra = process.argv.slice(2);
const pgUrl = process.env.STOCKADE_TEST_DATABASE_URL;

function run(label, env) {
  console.log(`\n=== tests on ${label} (${files.length} files) ===`);
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...extra, ...files], { stdio: 'inherit', env });
  return r.status ?? 1;
}

const sqliteEnv = { ...process.env };
delete sqliteEnv.STOCKADE_TEST_DATABASE_URL;
let status = run('SQLite', sqliteEnv);
if (pgUrl) {
  status = run(`PostgreSQL ${pgUrl.replace(/\/\/[^@/]*@/, '//***@')}`, process.env) || status;
} else {
  console.log('PostgreSQL run skipped: STOCKADE_TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test).');
}
process.exit(status);
