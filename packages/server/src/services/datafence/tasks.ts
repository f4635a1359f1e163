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

export const BOX_TRANSITION = 'datafence.box-transition';
export const FENCE_TRANSITION = 'datafence.fence-transition';

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
];
