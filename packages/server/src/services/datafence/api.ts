/** Datafence's interface for the rest of Stockade (the CLI's `fences`, `keys` and `box` commands). */
import type { Executor } from '../../store/schema.js';
import type { BoxRow, FenceRow } from './tables.js';
import type { BoxNas } from './service.js';
import type { SessionOptions, SessionResult } from './sandbox.js';

export type { BoxNas } from './service.js';
export type { SessionOptions, SessionResult } from './sandbox.js';

export interface DatafenceApi {
  /** Creates a fence in `trx`, with its own export-review bucket (a name unique in the store). */
  createFence(trx: Executor, accountId: string, fence: { name: string; description?: string }): Promise<FenceRow>;
  /** The account's fences, or every fence. */
  listFences(accountId?: string): Promise<FenceRow[]>;
  /**
   * Binds a box-user access key to boxes of its account (in `trx`, with the key): the key then sees
   * only these boxes. Throws for a box of another account or one already returned.
   */
  bindKeyToBoxes(trx: Executor, accountId: string, accessKeyId: string, boxIds: readonly number[]): Promise<void>;
  /** The boxes a key is bound to. */
  boundBoxes(accessKeyId: string): Promise<number[]>;
  getBox(boxId: number): Promise<BoxRow | undefined>;
  /** The box's NAS that exist (USE or being changed), with the volume behind each. */
  boxNas(boxId: number, e?: Executor): Promise<BoxNas[]>;
  /** Runs a command or a shell inside the box (a bubblewrap sandbox over its NAS), audited. */
  runBoxSession(opts: SessionOptions): Promise<SessionResult>;
}

declare module '../../context.js' {
  interface ServiceApis {
    datafence: DatafenceApi;
  }
}
