/**
 * Every integer a client sends has an upper bound in the table: an unbounded integer reaches the
 * handler as a float beyond 2^53 (or beyond the database's 64 bits) and turns into a 500.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kind, type TSchema } from '@sinclair/typebox';
import { allOperations } from '../src/ops/index.js';

type Schema = TSchema & {
  properties?: Record<string, TSchema>;
  items?: TSchema | TSchema[];
  anyOf?: TSchema[];
  allOf?: TSchema[];
  patternProperties?: Record<string, TSchema>;
  additionalProperties?: boolean | TSchema;
  maximum?: number;
  exclusiveMaximum?: number;
  maxLength?: number;
  pattern?: string;
};

/**
 * Integers whose documented maximum lies beyond 2^53 − 1 (values near it are not exact as JSON
 * numbers, but still fit the database's 64 bits): CFS quotas go up to 10 PB (cfs.md §3.1, §3.3).
 */
const DOCUMENTED_BEYOND_2_53 = new Set(['cfs.createFileSystem body.capacityQuota|1', 'cfs.updateFileSystem body.capacityQuota|1']);

/**
 * Paths (`body.nodes[].id`) of integer schemas below `schema` without a maximum of at most
 * 2^53 − 1 (2^62 for the documented exceptions).
 */
function unboundedIntegers(schema: TSchema | undefined, path: string): string[] {
  if (!schema) return [];
  const s = schema as Schema;
  const out: string[] = [];
  if (s[Kind] === 'Integer' || s.type === 'integer') {
    const max = s.maximum ?? s.exclusiveMaximum;
    const ceiling = DOCUMENTED_BEYOND_2_53.has(path) ? 2 ** 62 : Number.MAX_SAFE_INTEGER;
    if (typeof max !== 'number' || !(max <= ceiling)) out.push(path);
  }
  for (const [k, p] of Object.entries(s.properties ?? {})) out.push(...unboundedIntegers(p, `${path}.${k}`));
  for (const [k, p] of Object.entries(s.patternProperties ?? {})) out.push(...unboundedIntegers(p, `${path}[${k}]`));
  if (typeof s.additionalProperties === 'object') out.push(...unboundedIntegers(s.additionalProperties, `${path}[*]`));
  const items = Array.isArray(s.items) ? s.items : s.items ? [s.items] : [];
  for (const i of items) out.push(...unboundedIntegers(i, `${path}[]`));
  for (const [i, u] of (s.anyOf ?? []).entries()) out.push(...unboundedIntegers(u, `${path}|${i}`));
  for (const [i, u] of (s.allOf ?? []).entries()) out.push(...unboundedIntegers(u, `${path}&${i}`));
  return out;
}

test('every integer in a request (path, query or body, at any depth, in every union branch) has a maximum', () => {
  const unbounded = allOperations().flatMap(({ key, def }) => [
    ...unboundedIntegers(def.params, `${def.service}.${key} params`),
    ...unboundedIntegers(def.query, `${def.service}.${key} query`),
    ...unboundedIntegers(def.body, `${def.service}.${key} body`),
  ]);
  assert.deepEqual(unbounded, []);
});

test('the walker finds integers nested in objects, arrays, records and unions', async () => {
  const { Type } = await import('@sinclair/typebox');
  const schema = Type.Object({
    ok: Type.Integer({ maximum: 10 }),
    a: Type.Array(Type.Object({ n: Type.Integer() })),
    u: Type.Union([Type.String(), Type.Integer()]),
    r: Type.Record(Type.String(), Type.Integer()),
    huge: Type.Integer({ maximum: 2 ** 60 }),
  });
  assert.deepEqual(unboundedIntegers(schema, 'x').sort(), ['x.a[].n', 'x.huge', 'x.r[^(.*)$]', 'x.u|1'].sort());
});
