/** CFS handlers: one function per operation of `cfsOps`. Behaviour only. */
import { cfsOps } from '@stockade/sdk';
import { handlersFor } from '../../platform/service.js';
import { errors } from './errors.js';
import type { CfsService } from './service.js';

export const handlers = handlersFor<CfsService>()(cfsOps, {
  async queryFileSystem(ctx, input) {
    const maxKeys = input.maxKeys ?? 1000;
    const invalid = (detail: string) => errors.inappropriateJson(ctx.lang, { detail });
    const ids = input.fsId ? input.fsId.split(',').map((s) => s.trim()).filter(Boolean) : [];
    if (ids.length > 100) throw invalid('fsId lists at most 100 file systems.');
    let tag: { key: string; value?: string } | undefined;
    if (input.filterTag) {
      const i = input.filterTag.indexOf(':');
      if (i <= 0) throw invalid('filterTag must be {key}:{value}.');
      const value = input.filterTag.slice(i + 1);
      // `@@@` matches any value of the key.
      tag = { key: input.filterTag.slice(0, i), ...(value === '@@@' ? {} : { value }) };
    }
    // userId names the owner account; another account's id sees nothing (accounts are isolated).
    if (input.userId && input.userId !== ctx.identity.accountId) return { fileSystemList: [], isTruncated: false, maxKeys };

    // One row more than the page tells whether another page follows; its id is the next marker.
    const rows = await ctx.svc.repo.listFileSystems({
      accountId: ctx.identity.accountId,
      ids,
      ...(input.marker ? { marker: input.marker } : {}),
      ...(tag ? { tag } : {}),
      limit: maxKeys + 1,
    });
    const page = rows.slice(0, maxKeys);
    const next = rows[maxKeys];
    const tags = await ctx.svc.repo.tagsOf(page.map((r) => r.id));
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
      tags: tags.get(r.id) ?? [],
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
