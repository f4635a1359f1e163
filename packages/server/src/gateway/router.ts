/**
 * Routes derived from the operation table. Static paths are a map lookup; templated paths are
 * tried in declaration order, literal segments before parameters (so `/jobs/verify` wins over
 * `/jobs/{jobId}` and `/v1/cfs/quota` over `/v1/cfs/{fsId}`).
 */
import type { OperationDef, ServiceName } from '@stockade/sdk';

export interface RouteMatch {
  def: OperationDef;
  key: string; // client method name
  params: Record<string, string>;
}

interface TemplateRoute {
  def: OperationDef;
  key: string;
  method: string;
  segments: string[]; // literal or '{name}'
  literalCount: number;
}

export class Router {
  private readonly statics = new Map<string, Array<{ def: OperationDef; key: string }>>();
  private readonly templates: TemplateRoute[] = [];
  /** Paths (any method) that exist, to tell "wrong method" from "no such path". */
  readonly services = new Set<ServiceName>();

  add(key: string, def: OperationDef): void {
    this.services.add(def.service);
    const methods = [def.method, ...(def.aliasMethods ?? [])];
    const paths = [def.path, ...(def.aliasPaths ?? [])];
    for (const method of methods) {
      for (const path of paths) {
        if (!path.includes('{')) {
          const k = `${method} ${path}`;
          const list = this.statics.get(k) ?? [];
          list.push({ def, key });
          // Routes with a query-flag discriminator are tried first.
          list.sort((a, b) => Number(Boolean(b.def.queryFlag)) - Number(Boolean(a.def.queryFlag)));
          this.statics.set(k, list);
        } else {
          const segments = path.split('/').slice(1);
          this.templates.push({
            def,
            key,
            method,
            segments,
            literalCount: segments.filter((s) => !s.startsWith('{')).length,
          });
          this.templates.sort((a, b) => b.literalCount - a.literalCount);
        }
      }
    }
  }

  /**
   * Find the operation for a request. `path` is the raw (still percent-encoded) path; parameters
   * are decoded. `hasQueryKey` tells whether a query flag is present. Returns null when nothing
   * matches; `decodeError` when a path segment is not valid percent-encoding.
   */
  match(method: string, path: string, hasQueryKey: (k: string) => boolean): RouteMatch | null | 'decodeError' {
    const list = this.statics.get(`${method} ${path}`);
    if (list) {
      for (const r of list) {
        if (!r.def.queryFlag || hasQueryKey(r.def.queryFlag)) return { def: r.def, key: r.key, params: {} };
      }
    }
    const parts = path.split('/').slice(1);
    for (const r of this.templates) {
      if (r.method !== method || r.segments.length !== parts.length) continue;
      if (r.def.queryFlag && !hasQueryKey(r.def.queryFlag)) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length; i++) {
        const seg = r.segments[i] as string;
        const part = parts[i] as string;
        if (seg.startsWith('{')) {
          if (part === '') {
            ok = false;
            break;
          }
          try {
            params[seg.slice(1, -1)] = decodeURIComponent(part);
          } catch {
            return 'decodeError';
          }
        } else if (seg !== part) {
          ok = false;
          break;
        }
      }
      if (ok) return { def: r.def, key: r.key, params };
    }
    return null;
  }
}
