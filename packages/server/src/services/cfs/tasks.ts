/**
 * CFS's task kinds. `cfs.measure-usage` walks every file system's volume and records the bytes it
 * holds (files written over NFS never pass through Stockade), then schedules the next run one
 * interval later (`usageIntervalSeconds`, 30 s by default). One task per interval slot, with a
 * dedupe key, so several processes on one database measure once. Its finished rows are kept an
 * hour, not the platform's week: one per interval would pile up.
 */
import { Type } from '@sinclair/typebox';
import { taskFor } from '../../platform/service.js';
import type { CfsService } from './service.js';

export const MEASURE_KIND = 'cfs.measure-usage';
export const measureKey = (intervalMs: number, slot: number): string => `${MEASURE_KIND}:${intervalMs}:${slot}`;

export const measureUsage = taskFor<CfsService>()({
  kind: MEASURE_KIND,
  payload: Type.Object({ slot: Type.Integer({ minimum: 0 }) }),
  concurrency: 1,
  retentionMs: 3600_000,
  async run(svc, payload, ctx) {
    await svc.measureAll(ctx.signal);
    const interval = svc.usageIntervalMs;
    // The next slot after now: a server that was down does not run the slots it missed.
    const next = Math.max(payload.slot + 1, Math.floor(svc.app.clock.now() / interval) + 1);
    await ctx.complete(async (trx) => {
      await svc.app.runner.enqueue(MEASURE_KIND, { slot: next }, { db: trx, dueAt: next * interval, dedupeKey: measureKey(interval, next) });
    });
    // A file system that reached or left its quota changes its export (read-only while full).
    await svc.exportsChanged();
  },
});

export const tasks = [measureUsage];
