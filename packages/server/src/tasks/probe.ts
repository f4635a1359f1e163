/**
 * The `probe` task kind (dev profile, test controls): sleeps `ms` milliseconds (abortably), then records
 * a row in `probe_runs (task_id, runner, finished_at)` in the transaction that completes the task
 * (`ctx.complete`). The insert itself is deliberately *not* idempotent: counting its rows
 * per task proves that the runner executed each task exactly once (no duplicate claims, no lost tasks).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { PermanentTaskError } from './errors.js';
import type { TaskRunner } from './runner.js';

export const PROBE_KIND = 'probe';

export interface ProbePayload {
  ms: number;
}

/** Longest accepted probe sleep (a probe is a test device, not a scheduler). */
export const MAX_PROBE_MS = 60_000;

export function registerProbe(runner: TaskRunner): void {
  runner.register<ProbePayload>(PROBE_KIND, async (payload, ctx) => {
    const ms = (payload as Partial<ProbePayload> | null)?.ms;
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > MAX_PROBE_MS) {
      throw new PermanentTaskError(`probe payload must be {"ms": <0..${MAX_PROBE_MS}>}`);
    }
    if (ms > 0) await sleep(ms, undefined, { signal: ctx.signal });
    ctx.signal.throwIfAborted();
    await ctx.complete(async (trx) => {
      await trx.insertInto('probe_runs').values({ task_id: ctx.taskId, runner: runner.owner, finished_at: runner.clock.now() }).execute();
    });
  });
}
