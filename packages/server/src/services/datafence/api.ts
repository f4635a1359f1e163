/** Datafence's interface for the rest of Stockade (the CLI's `fences` commands). */
import type { Executor } from '../../store/schema.js';
import type { FenceRow } from './tables.js';

export interface DatafenceApi {
  /** Creates a fence in `trx`, with its own export-review bucket (a name unique in the store). */
  createFence(trx: Executor, accountId: string, fence: { name: string; description?: string }): Promise<FenceRow>;
  /** The account's fences, or every fence. */
  listFences(accountId?: string): Promise<FenceRow[]>;
}

declare module '../../context.js' {
  interface ServiceApis {
    datafence: DatafenceApi;
  }
}
