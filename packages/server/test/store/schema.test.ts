/**
 * The declared tables (store/schema.ts and each service's tables.ts) against the live database the
 * migrations build: the same tables, the same columns, the same types and nullability, on SQLite
 * and PostgreSQL. A migration that disagrees with a declaration fails here, not in a query.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { declaredTables } from '../../src/platform/registry.js';
import { sqlTypeOf } from '../../src/store/tables.js';
import { openTestStore, testDatabaseUrl, type TestStore } from '../helpers/db.js';

interface LiveColumn {
  type: string;
  nullable: boolean;
}

async function liveColumns(s: TestStore): Promise<Map<string, Map<string, LiveColumn>>> {
  const out = new Map<string, Map<string, LiveColumn>>();
  const add = (table: string, column: string, c: LiveColumn) => {
    if (!out.has(table)) out.set(table, new Map());
    out.get(table)!.set(column, c);
  };
  if (s.dialect === 'postgres') {
    const rows = await sql<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>`
      select table_name, column_name, data_type, is_nullable from information_schema.columns
      where table_schema = current_schema()`.execute(s.db);
    for (const r of rows.rows) add(r.table_name, r.column_name, { type: r.data_type, nullable: r.is_nullable === 'YES' });
  } else {
    const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(s.db);
    for (const t of tables.rows) {
      const cols = await sql<{ name: string; type: string; notnull: number; pk: number }>`select * from pragma_table_info(${t.name})`.execute(s.db);
      // An integer primary key is never null in SQLite, whatever the column says.
      for (const c of cols.rows) add(t.name, c.name, { type: c.type.toLowerCase(), nullable: c.notnull === 0 && c.pk === 0 });
    }
  }
  return out;
}

let store: TestStore;
after(async () => {
  await store.cleanup();
});

test(`every declared table and column matches the migrated database (${testDatabaseUrl ? 'postgres' : 'sqlite'})`, async () => {
  store = await openTestStore('schema_check');
  const live = await liveColumns(store);
  const problems: string[] = [];
  const declaredNames = new Set<string>();
  for (const { owner, tables } of declaredTables()) {
    for (const [table, columns] of Object.entries(tables)) {
      declaredNames.add(table);
      const cols = live.get(table);
      if (!cols) {
        problems.push(`${owner}: table ${table} is declared but does not exist`);
        continue;
      }
      for (const [name, c] of Object.entries(columns)) {
        const l = cols.get(name);
        if (!l) problems.push(`${table}.${name} is declared but does not exist`);
        else {
          const want = sqlTypeOf(c.kind, store.dialect);
          if (l.type !== want) problems.push(`${table}.${name}: declared ${c.kind} (${want}), database has ${l.type}`);
          if (l.nullable !== c.nullable) problems.push(`${table}.${name}: declared ${c.nullable ? 'nullable' : 'not null'}, database says the opposite`);
        }
      }
      for (const name of cols.keys()) if (!(name in columns)) problems.push(`${table}.${name} exists but is not declared`);
    }
  }
  for (const table of live.keys()) {
    if (!declaredNames.has(table) && table !== 'schema_migrations') problems.push(`table ${table} exists but no service declares it`);
  }
  assert.deepEqual(problems, []);
});
