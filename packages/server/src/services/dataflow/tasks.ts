/**
 * Data Flow's task kind: one durable task per job execution (`dataflow.execute`), enqueued by
 * executeJob in the transaction that creates the execution (READY), due when the `job-execution`
 * lifecycle policy says (immediate in the dev profile). Several processes on one database share
 * the work: the runner's lease makes one of them run it.
 *
 * A run moves the execution READY → RUNNING (compare-and-set, under the lease), runs the engine,
 * writes the script and logs, and ends it COMPLETED / FAILED / CANCELED in the transaction that
 * completes the task.
 *
 * A process that dies mid-run (killed, crashed) leaves the task's lease to expire; the next claim
 * (attempt 2, by any process) finds the execution RUNNING and marks it FAILED: executions are
 * not retried (the spec has no retries, §1.5). Its DuckDB child exits with it (IPC disconnect).
 */
import { Type } from '@sinclair/typebox';
import { taskFor } from '../../platform/service.js';
import { TaskCanceledError } from '../../tasks/errors.js';
import { RunEnded, runExecution, writeArtifacts, type RunLog } from './engine.js';
import type { DataflowService } from './service.js';

export const EXECUTE_KIND = 'dataflow.execute';

export const execute = taskFor<DataflowService>()({
  kind: EXECUTE_KIND,
  payload: Type.Object({ executionId: Type.String({ minLength: 1, maxLength: 64 }) }),
  concurrency: 2,
  maxAttempts: 3,
  async run(svc, payload, ctx) {
    const exec = await svc.repo.getExecution(payload.executionId);
    if (!exec || (exec.status !== 'READY' && exec.status !== 'RUNNING')) return;
    if (exec.status === 'RUNNING') {
      // An earlier attempt's process stopped mid-run.
      await ctx.complete((trx) => svc.finishExecution(trx, exec, 'FAILED', 'the server process running this execution stopped'));
      return;
    }
    const startedAt = svc.app.clock.now();
    const moved = await ctx.tx((trx) => svc.repo.moveExecution(trx, exec.id, ['READY'], { status: 'RUNNING', started_at: startedAt }));
    if (!moved) return;
    const running = { ...exec, status: 'RUNNING', started_at: startedAt };
    const log: RunLog = { executionId: exec.id, jobId: exec.job_id, nodes: [], console: [], script: [], error: null };
    let status: 'COMPLETED' | 'FAILED' | 'CANCELED' = 'COMPLETED';
    try {
      await runExecution(svc, running, ctx.signal, log);
    } catch (e) {
      if (e instanceof RunEnded) {
        status = e.status;
        log.error = e.message;
      } else if (ctx.signal.aborted && ctx.signal.reason instanceof TaskCanceledError) {
        status = 'CANCELED';
        log.error = 'canceled';
      } else if (ctx.signal.aborted) {
        // The runner is stopping or lost the lease: the next claim marks the execution FAILED.
        throw e;
      } else {
        status = 'FAILED';
        log.error = e instanceof Error ? e.message : String(e);
      }
    }
    log.console.push(`${new Date(svc.app.clock.now()).toISOString()} ${status}${log.error ? `: ${log.error}` : ''}`);
    await writeArtifacts(svc, running, log);
    await ctx.complete((trx) => svc.finishExecution(trx, running, status, log.error));
  },
});

export const tasks = [execute];
