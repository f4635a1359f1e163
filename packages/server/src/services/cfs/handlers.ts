/** CFS handlers: one function per operation of `cfsOps`. */
import { cfsOps } from '@stockade/sdk';
import { ApiError } from '../../gateway/errors.js';
import { defineHandlers } from '../../gateway/handler.js';

const invalid = (message: string) =>
  new ApiError(400, 'InappropriateJSON', 'The JSON you provided was well-formed and valid, but not appropriate for this operation.', message);

export const cfsHandlers = defineHandlers(cfsOps, {
  async queryFileSystem(ctx, input) {
    const maxKeys = input.maxKeys ?? 1000;
    const ids = input.fsId ? input.fsId.split(',').map((s) => s.trim()).filter(Boolean) : [];
    if (ids.length > 100) throw invalid('fsId lists at most 100 file systems.');
    let tagKey: string | undefined;
    let tagValue: string | undefined;
    if (input.filterTag) {
      const i = input.filterTag.indexOf(':');
      if (i <= 0) throw invalid('filterTag must be {key}:{value}.');
      tagKey = input.filterTag.slice(0, i);
      const v = input.filterTag.slice(i + 1);
      tagValue = v === '@@@' ? undefined : v; // `@@@` matches any value of the key
    }
    // userId names the owner account; another account's id sees nothing (accounts are isolated).
    if (input.userId && input.userId !== ctx.identity.accountId) return { fileSystemList: [], isTruncated: false, maxKeys };

    let q = ctx.app.store.db.selectFrom('cfs_file_systems').selectAll().where('account_id', '=', ctx.identity.accountId);
    if (ids.length) q = q.where('id', 'in', ids);
    if (input.marker) q = q.where('id', '>=', input.marker);
    let rows = await q.orderBy('id').execute();
    if (tagKey !== undefined) {
      rows = rows.filter((r) =>
        (JSON.parse(r.tags) as Array<{ tagKey: string; tagValue: string }>).some(
          (tag) => tag.tagKey === tagKey && (tagValue === undefined || tag.tagValue === tagValue),
        ),
      );
    }
    const page = rows.slice(0, maxKeys);
    const next = rows[maxKeys];
    const list = page.map((r) => ({
      fsId: r.id,
      fsName: r.name,
      type: r.type,
      protocol: r.protocol,
      status: r.status,
      vpcId: r.vpc_id,
      zone: r.zone,
      fsUsage: String(r.usage_bytes),
      capacityQuota: Number(r.capacity_quota),
      tags: JSON.parse(r.tags) as Array<{ tagKey: string; tagValue: string }>,
      mountTargetList: [],
    }));
    // Paging fields per cfs.md §1.4: `marker` only with a non-empty list, `nextMarker` only when truncated.
    return {
      fileSystemList: list,
      ...(list.length ? { marker: input.marker ?? '' } : {}),
      isTruncated: next !== undefined,
      ...(next ? { nextMarker: next.id } : {}),
      maxKeys,
    };
  },
});
