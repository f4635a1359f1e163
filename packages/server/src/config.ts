/** Server configuration: command-line flags over environment variables over defaults. */
import { resolve } from 'node:path';

export type Profile = 'dev' | 'secure';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** PostgreSQL URL; SQLite in `dataDir` when absent. */
  databaseUrl?: string;
  /** PostgreSQL schema to use (tests give each file its own). */
  databaseSchema?: string;
  profile: Profile;
  /** Reject unknown request body fields instead of ignoring them. */
  strict: boolean;
  /** `box=delay:3000,export=immediate` */
  transitions?: string;
  /** JSON file `{ "transitions": { "box": "delay:3000" } }` */
  transitionsFile?: string;
  logLevel: string;
  /** Largest JSON request body, bytes. */
  bodyLimit: number;
  taskLeaseMs: number;
  taskPollMs: number;
}

export const DEFAULT_PORT = 4580;

export function defaultConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: env.STOCKADE_PORT ? Number(env.STOCKADE_PORT) : DEFAULT_PORT,
    host: env.STOCKADE_HOST ?? '127.0.0.1',
    dataDir: resolve(env.STOCKADE_DATA ?? '.stockade'),
    databaseUrl: env.DATABASE_URL || undefined,
    databaseSchema: env.STOCKADE_DATABASE_SCHEMA || undefined,
    profile: env.STOCKADE_PROFILE === 'secure' ? 'secure' : 'dev',
    strict: env.STOCKADE_STRICT === '1' || env.STOCKADE_STRICT === 'true',
    transitions: env.STOCKADE_TRANSITIONS,
    logLevel: env.STOCKADE_LOG_LEVEL ?? 'info',
    bodyLimit: 10 * 1024 * 1024,
    taskLeaseMs: env.STOCKADE_TASK_LEASE_MS ? Number(env.STOCKADE_TASK_LEASE_MS) : 30_000,
    taskPollMs: 250,
  };
}
