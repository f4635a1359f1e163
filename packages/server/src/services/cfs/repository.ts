/** All of CFS's SQL. Methods take the database or a transaction. */
import type { Kysely } from 'kysely';
import type { Store } from '../../store/db.js';
import { asDb, type Executor } from '../../store/schema.js';
import type { CfsDatabase, FileSystemRow, Tag } from './tables.js';

export interface FileSystemFilter {
  accountId: string;
  /** Exact ids (at most 100). */
  ids?: string[];
  /** First id of the page (the previous page's `nextMarker`). */
  marker?: string;
  /** A tag key, and its value unless any value matches. */
  tag?: { key: string; value?: string };
  limit: number;
}

export class CfsRepository {
  constructor(private readonly store: Store) {}

  private db(e: Executor = this.store.db): Kysely<CfsDatabase> {
    return asDb<CfsDatabase>(e);
  }

  /** File systems from the marker on, in id order (byte order on both dialects), up to `limit`. */
  async listFileSystems(f: FileSystemFilter, e?: Executor): Promise<FileSystemRow[]> {
    let q = this.db(e).selectFrom('cfs_file_systems').selectAll().where('account_id', '=', f.accountId);
    if (f.ids?.length) q = q.where('id', 'in', f.ids);
    if (f.marker) q = q.where('id', '>=', f.marker);
    const tag = f.tag;
    if (tag) {
      q = q.where((eb) =>
        eb.exists(
          eb
            .selectFrom('cfs_tags')
            .select('cfs_tags.fs_id')
            .whereRef('cfs_tags.fs_id', '=', 'cfs_file_systems.id')
            .where('cfs_tags.tag_key', '=', tag.key)
            .$if(tag.value !== undefined, (sq) => sq.where('cfs_tags.tag_value', '=', tag.value!)),
        ),
      );
    }
    return q.orderBy('id').limit(f.limit).execute();
  }

  /** Tags of the given file systems, in their order. */
  async tagsOf(fsIds: string[], e?: Executor): Promise<Map<string, Tag[]>> {
    const out = new Map<string, Tag[]>(fsIds.map((id) => [id, []]));
    if (fsIds.length === 0) return out;
    const rows = await this.db(e).selectFrom('cfs_tags').selectAll().where('fs_id', 'in', fsIds).orderBy('fs_id').orderBy('seq').execute();
    for (const r of rows) out.get(r.fs_id)?.push({ tagKey: r.tag_key, tagValue: r.tag_value });
    return out;
  }

  async insertFileSystem(trx: Executor, row: FileSystemRow, tags: Tag[]): Promise<void> {
    await this.db(trx).insertInto('cfs_file_systems').values(row).execute();
    await this.replaceTags(trx, row.id, row.account_id, tags);
  }

  async replaceTags(trx: Executor, fsId: string, accountId: string, tags: Tag[]): Promise<void> {
    const db = this.db(trx);
    await db.deleteFrom('cfs_tags').where('fs_id', '=', fsId).execute();
    if (tags.length === 0) return;
    await db
      .insertInto('cfs_tags')
      .values(tags.map((t, seq) => ({ fs_id: fsId, account_id: accountId, tag_key: t.tagKey, tag_value: t.tagValue, seq })))
      .execute();
  }
}
