/** Datafence's instance: its repository, fence creation, and the hooks the platform calls. */
import { randomBytes } from 'node:crypto';
import type { AppContext, RequestContext } from '../../context.js';
import type { ServiceHooks } from '../../platform/service.js';
import type { Executor } from '../../store/schema.js';
import type { DatafenceApi } from './api.js';
import { errors } from './errors.js';
import { DatafenceRepository } from './repository.js';
import type { FenceRow } from './tables.js';

/** Fence names: 3–30 lower-case letters, digits and hyphens (they also begin the review bucket's name). */
export const FENCE_NAME = /^[a-z][a-z0-9-]{2,29}$/;

export class DatafenceService implements ServiceHooks {
  readonly repo: DatafenceRepository;
  readonly api: DatafenceApi;

  constructor(readonly app: AppContext) {
    this.repo = new DatafenceRepository(app.store.db);
    this.api = {
      createFence: (trx, accountId, fence) => this.createFence(trx, accountId, fence),
      listFences: (accountId) => (accountId ? this.repo.listFences(accountId) : this.repo.listAllFences()),
    };
  }

  /**
   * A fence with its export-review bucket. The bucket is named `{fenceName}-review-{fenceId}`
   * (fence ids are unique in the store); if someone already holds that name, a random suffix is
   * added. The documented example names the bucket after the fence; a bare fence name would
   * collide across accounts, since bucket names are global.
   */
  async createFence(trx: Executor, accountId: string, opts: { name: string; description?: string }): Promise<FenceRow> {
    if (!FENCE_NAME.test(opts.name)) {
      throw new Error(`invalid fence name ${JSON.stringify(opts.name)}: 3-30 lower-case letters, digits or hyphens, starting with a letter`);
    }
    const row = {
      account_id: accountId,
      name: opts.name,
      description: opts.description ?? '',
      status: 'USE',
      export_bucket: '',
      ssl_vpn_name: `${opts.name}-sslvpn`,
      created_at: this.app.clock.now(),
    };
    const id = await this.repo.insertFence(trx, row);
    const s3 = this.app.api('s3');
    let bucket = `${opts.name}-review-${id}`;
    while ((await s3.createBucket(trx, { name: bucket, accountId })) === 'taken') {
      bucket = `${opts.name}-review-${id}-${randomBytes(3).toString('hex')}`;
    }
    await this.repo.setReviewBucket(trx, id, bucket);
    return { id, ...row, export_bucket: bucket };
  }

  async onAccountCreated(trx: Executor, account: { id: string }): Promise<void> {
    await this.createFence(trx, account.id, { name: 'fence-1', description: 'Default Datafence' });
  }

  /** The caller's fence, or 2600053 (also for another account's fence: existence never leaks). */
  async requireFence(ctx: RequestContext<DatafenceService>, fenceId: number): Promise<FenceRow> {
    const fence = await this.repo.findFence(ctx.identity.accountId, fenceId);
    if (!fence) throw errors.fenceNotFound(ctx.lang, { fenceId });
    return fence;
  }
}
