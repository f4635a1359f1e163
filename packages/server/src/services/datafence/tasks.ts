/**
 * Datafence's durable task kinds: the transitions of boxes and fences. A request that starts a
 * transition (create-box → INITIALIZE, a change → ING, return-box → RETURN) enqueues, in its own
 * transaction, the task that ends it, due when the `box` or `fence` lifecycle policy says
 * (immediate, delay:<ms>, manual). The task ends exactly the transition it was enqueued for: the
 * payload names the resource's version, the dedupe key makes one task per version however many
 * times it is enqueued, and the state change is a compare-and-set in the task's completing
 * transaction, so a transition is applied once however many processes run tasks.
 */
import { Type } from '@sinclair/typebox';
import { taskFor } from '../../platform/service.js';
import type { DatafenceService } from './service.js';
import { TRANSFER_ATTEMPTS } from './airlock.js';

export const BOX_TRANSITION = 'datafence.box-transition';
export const FENCE_TRANSITION = 'datafence.fence-transition';
/** Issue 9: the transfers of import and export requests (airlock.ts). */
export const IMPORT_FILE = 'datafence.import-file';
export const EXPORT_UPLOAD = 'datafence.export-upload';
export const EXPORT_RELEASE = 'datafence.export-release';
const FileTask = Type.Object({ fileId: Type.Integer({ minimum: 1 }) });
/** A transfer may take minutes (2 GB); its lease is renewed while it runs. */
const TRANSFER = { payload: FileTask, concurrency: 2, maxAttempts: TRANSFER_ATTEMPTS, timeoutMs: 3_600_000 } as const;

const BoxTransition = Type.Object({
  boxId: Type.Integer({ minimum: 1 }),
  version: Type.Integer({ minimum: 1 }),
  /** change-box-block-external-network: the setting the box has once the change is done. */
  webBlock: Type.Optional(Type.Boolean()),
});
export interface BoxTransitionPayload {
  boxId: number;
  version: number;
  webBlock?: boolean;
}

const task = taskFor<DatafenceService>();

export const tasks = [
  task({
    kind: BOX_TRANSITION,
    payload: BoxTransition,
    async run(svc, payload, ctx) {
      const after = (await ctx.complete((trx) => svc.finishBoxTransition(trx, payload))) ?? [];
      // Files of returned NAS go once their rows are gone (a crash here leaves them to the volumes' orphan collection).
      for (const cleanup of after) await cleanup();
    },
  }),
  task({
    kind: FENCE_TRANSITION,
    payload: Type.Object({ fenceId: Type.Integer({ minimum: 1 }), version: Type.Integer({ minimum: 1 }) }),
    async run(svc, payload, ctx) {
      const after = (await ctx.complete((trx) => svc.finishFenceTransition(trx, payload))) ?? [];
      for (const cleanup of after) await cleanup();
    },
  }),
  task({ kind: IMPORT_FILE, ...TRANSFER, run: (svc, p, ctx) => svc.airlock.runImport(p.fileId, ctx) }),
  task({ kind: EXPORT_UPLOAD, ...TRANSFER, run: (svc, p, ctx) => svc.airlock.runUpload(p.fileId, ctx) }),
  task({ kind: EXPORT_RELEASE, ...TRANSFER, run: (svc, p, ctx) => svc.airlock.runRelease(p.fileId, ctx) }),
];
