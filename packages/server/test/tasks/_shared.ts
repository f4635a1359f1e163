/**
 * Helpers for the task tests: a database that several Store connections can open at once (the same
 * SQLite file, or the same PostgreSQL schema when STOCKADE_TEST_DATABASE_URL is set), a silent logger
 * and polling.
 */
import { openTestStore, testDatabaseUrl } from '../helpers/db.js';
import type { Store } from '../../src/store/db.js';
import type { TaskLogger } from '../../src/tasks/runner.js';

export const BACKEND = testDatabaseUrl ? 'postgres' : 'sqlite';

export interface SharedDb {
  /** The first connection. */
  store: Store;
  /**
   * PostgreSQL: another independent pool on the same database, as a second process would have.
   * SQLite: the same connection. Two better-sqlite3 connections in one process cannot both run
   * transactions: one waiting for the other's write lock blocks the only thread, so the other can
   * never commit (two processes do not have that problem; one process uses one connection).
   */
  another(): Promise<Store>;
  /** Closes every connection and deletes the database. */
  close(): Promise<void>;
}

export async function openSharedDb(name: string): Promise<SharedDb> {
  const store = await openTestStore(`tasks_${name}`);
  const others: Store[] = [];
  return {
    store,
    async another() {
      if (store.dialect === 'sqlite') return store;
      const s = await store.reopen();
      others.push(s);
      return s;
    },
    async close() {
      for (const s of others) await s.close();
      await store.cleanup();
    },
  };
}

/** Collects warnings and errors instead of printing them. */
export function quietLogger(): TaskLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    warn: (obj, msg) => lines.push(`warn ${msg ?? ''} ${JSON.stringify(obj)}`),
    error: (obj, msg) => lines.push(`error ${msg ?? ''} ${JSON.stringify(obj)}`),
  };
}

export async function waitFor(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A promise with its resolve function exposed. */
export function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}

/** Resolves when `signal` aborts, then rejects with its reason. */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    else signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
}
