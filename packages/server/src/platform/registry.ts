/**
 * What the platform derives from the registered services (services/index.ts): the global order of
 * migrations, the tables reset empties, the handlers of each operation-table service.
 */
import type { ServiceName } from '@stockade/sdk';
import { SERVICES } from '../services/index.js';
import { coreMigrations, LEGACY_SCHEMA_VERSIONS } from '../store/core-migrations.js';
import { migrate, type MigrateResult, type MigrationSet } from '../store/migrations.js';
import type { Store } from '../store/db.js';
import { coreTables } from '../store/schema.js';
import type { TableSet } from '../store/tables.js';
import type { Handler, ServiceModule } from './service.js';

export const services: ReadonlyArray<ServiceModule> = SERVICES as unknown as ReadonlyArray<ServiceModule>;

/** The platform's migrations first, then each service's, in registration order. */
export function migrationSets(): MigrationSet[] {
  return [{ owner: 'core', migrations: coreMigrations }, ...services.map((s) => ({ owner: s.name, migrations: s.migrations }))];
}

export function migrateAll(store: Store): Promise<MigrateResult> {
  return migrate(store, migrationSets(), { legacy: LEGACY_SCHEMA_VERSIONS });
}

/** Every declared table: the platform's and each service's. */
export function declaredTables(): Array<{ owner: string; tables: TableSet }> {
  return [{ owner: 'core', tables: coreTables }, ...services.map((s) => ({ owner: s.name, tables: s.tables }))];
}

/** The platform tables reset empties; accounts, users and keys survive a reset, and the audit log restarts its chain. */
const CORE_RESET: ReadonlyArray<keyof typeof coreTables> = ['tasks', 'idempotency', 'probe_runs', 'blobs', 'volumes'];

export function resetTables(): string[] {
  return [...CORE_RESET, ...services.flatMap((s) => Object.keys(s.tables))];
}

/** The handlers of each operation-table service, by client method name. */
export function handlerTables(): Record<Exclude<ServiceName, 's3'>, Record<string, Handler>> {
  const out = { datafence: {}, dataflow: {}, cfs: {}, stockade: {} } as Record<Exclude<ServiceName, 's3'>, Record<string, Handler>>;
  for (const s of services) if (s.serves && s.handlers) out[s.serves] = s.handlers;
  return out;
}

/** Operations the raw services implement, by name (S3). */
export function rawOperations(): Set<string> {
  return new Set(services.flatMap((s) => s.rawOperations ?? []));
}
