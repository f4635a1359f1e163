/**
 * Hostile input across the whole operation table (Datafence, Data Flow, CFS and Stockade's own
 * operations): for every operation, variants generated from its schemas (path parameters that
 * climb, are empty, NUL, 10,000 characters, unicode or not numbers; query and body fields of the
 * wrong type, out of range, overlong, NUL, arrays of 10,000 items or nested 10,000 deep; bodies
 * that are not JSON, not an object, empty or 5 MB), each signed with an owner key and sent over
 * a real socket exactly as written (no client normalises the path).
 *
 * Every answer must be below 500, an error must come in the service's own envelope, and an error
 * must leave the service's tables and the audit log as they were. The variants are the same on
 * every run: where an operation has more than MAX_FIELD_VARIANTS field variants, a seeded sample
 * of them is sent.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Kind, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { sql } from 'kysely';
import {
  allOperations,
  CfsClient,
  DataFlowClient,
  DatafenceClient,
  ncpSignHeaders,
  uriEncode,
  type OperationDef,
  type ServiceName,
} from '@stockade/sdk';
import { SERVICES } from '../../src/services/index.js';
import { bceRawHeaders } from '../helpers/bce.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { boxInfo, infraOf, newestBox, runTasks } from '../helpers/datafence.js';

const VPC = 'vpc-hostile00001';
const SUBNETS = ['sbn-hostile0001a', 'sbn-hostile0001b'];
const CFS_SETTINGS = {
  zones: ['zoneA', 'zoneB'],
  vpcs: [
    {
      vpcId: VPC,
      cidr: '10.7.0.0/16',
      subnets: [
        { subnetId: SUBNETS[0]!, zone: 'zoneA', cidr: '10.7.0.0/24' },
        { subnetId: SUBNETS[1]!, zone: 'zoneB', cidr: '10.7.1.0/24' },
      ],
    },
  ],
  fileSystemsPerAccount: 50,
  usageIntervalSeconds: 3600,
};
/** Field variants sent per operation at most (a seeded sample beyond). */
const MAX_FIELD_VARIANTS = 400;
const MB = 1024 * 1024;

let srv: TestServer;
let port: number;
/** Real resources the variants' otherwise valid inputs name. */
const fx: Record<string, unknown> = {};
/** Complete valid inputs of operations whose input a schema alone cannot produce. */
const bases: Record<string, Record<string, unknown>> = {};

// ---------------------------------------------------------------------------------------------
// Deterministic choice

function seeded(seedText: string): () => number {
  let h = 2166136261;
  for (const c of seedText) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sample<T>(items: T[], n: number, seed: string): T[] {
  if (items.length <= n) return items;
  const rnd = seeded(seed);
  const idx = items.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx
    .slice(0, n)
    .sort((a, b) => a - b)
    .map((i) => items[i]!);
}

// ---------------------------------------------------------------------------------------------
// Valid values from schemas

type S = TSchema & {
  type?: string;
  minimum?: number;
  maximum?: number;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  items?: TSchema;
  anyOf?: TSchema[];
  const?: unknown;
  properties?: Record<string, TSchema>;
  required?: string[];
};
const kindOf = (s: TSchema): string => String((s as { [Kind]?: unknown })[Kind]);

/** Strings tried, in order, for a field with a pattern. */
const PATTERN_CANDIDATES = [
  'hostile_base', 'Hostile1', '20250101000000', '2025-03-19T00:00:00', '10:00', '7', '1', 'Passw0rd#2024', '10.7.0.0', '',
];

/** Values fixture resources give to fields of this name (the names the operation tables use). */
function known(name: string): unknown {
  return Object.hasOwn(fx, name) ? fx[name] : undefined;
}

/** A valid value of a schema: required members only, the smallest numbers, fixture ids by name. */
function valid(schema: TSchema, name = ''): unknown {
  const s = schema as S;
  const k = known(name);
  if (k !== undefined && Value.Check(schema, k)) return k;
  switch (kindOf(schema)) {
    case 'Literal':
      return s.const;
    case 'Union': {
      const branches = s.anyOf ?? [];
      for (const b of branches) if (kindOf(b) !== 'Null') return valid(b, name);
      return null;
    }
    case 'Integer':
    case 'Number': {
      let n = s.minimum ?? 1;
      if (s.multipleOf && n % s.multipleOf !== 0) n = Math.ceil(n / s.multipleOf) * s.multipleOf;
      return n;
    }
    case 'Boolean':
      return false;
    case 'String': {
      if (s.pattern) {
        const re = new RegExp(s.pattern);
        const hit = PATTERN_CANDIDATES.find((c) => re.test(c) && c.length >= (s.minLength ?? 0));
        return hit ?? 'a';
      }
      return 'v'.repeat(Math.max(1, Math.min(s.minLength ?? 1, 8)));
    }
    case 'Array':
      return Array.from({ length: s.minItems ?? 0 }, () => valid(s.items!, name));
    case 'Object': {
      const out: Record<string, unknown> = {};
      for (const key of s.required ?? []) out[key] = valid(s.properties![key]!, key);
      return out;
    }
    case 'Record':
      return {};
    case 'Null':
      return null;
    default:
      return 'v';
  }
}

/** The valid input of an operation: `bases` when given, else one built from the schemas. */
function baseInput(key: string, def: OperationDef): Record<string, unknown> {
  const b = bases[key];
  if (b) return structuredClone(b);
  const out: Record<string, unknown> = {};
  for (const schema of [def.params, def.query, def.body]) {
    if (schema && kindOf(schema) === 'Object') Object.assign(out, valid(schema) as object);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Hostile values

const UNICODE = 'ünïcødé 😀 \u202eتست ㄱ\u0301\ufeff';
const NUL = 'a\u0000b';
const HUNDRED_KB = 'y'.repeat(100 * 1024);
const TEN_K = 't'.repeat(10_000);
/**
 * Values nested 10,000 deep: too deep for JSON.stringify, so they travel as markers that `encode`
 * writes out as text.
 */
const DEEP_ARRAY = 'HOSTILE::arrays-10000-deep';
const DEEP_OBJECT = 'HOSTILE::objects-10000-deep';
const DEEP_TEXT: Record<string, string> = {
  [DEEP_ARRAY]: '['.repeat(10_000) + ']'.repeat(10_000),
  [DEEP_OBJECT]: '{"a":'.repeat(10_000) + '{}' + '}'.repeat(10_000),
};

/** JSON text of a value, deep markers written out. */
function encode(value: unknown): Buffer {
  let text = JSON.stringify(value);
  for (const [marker, deep] of Object.entries(DEEP_TEXT)) text = text.split(JSON.stringify(marker)).join(deep);
  return Buffer.from(text);
}

/** The JSON kinds a schema accepts. */
function accepts(schema: TSchema): Set<string> {
  const s = schema as S;
  switch (kindOf(schema)) {
    case 'Union':
      return new Set((s.anyOf ?? []).flatMap((b) => [...accepts(b)]));
    case 'Literal':
      return new Set([typeof s.const === 'number' ? 'number' : typeof s.const === 'boolean' ? 'boolean' : 'string']);
    case 'Integer':
    case 'Number':
      return new Set(['number']);
    case 'String':
      return new Set(['string']);
    case 'Boolean':
      return new Set(['boolean']);
    case 'Array':
      return new Set(['array']);
    case 'Object':
    case 'Record':
      return new Set(['object']);
    case 'Null':
      return new Set(['null']);
    default:
      return new Set(['string', 'number', 'boolean', 'array', 'object', 'null']);
  }
}

function bounds(schema: TSchema): { min?: number; max?: number; maxLength?: number; maxItems?: number; item?: TSchema } {
  const s = schema as S;
  if (kindOf(schema) === 'Union') {
    const out: ReturnType<typeof bounds> = {};
    for (const b of s.anyOf ?? []) {
      const x = bounds(b);
      if (x.min !== undefined) out.min = Math.min(out.min ?? Infinity, x.min);
      if (x.max !== undefined) out.max = Math.max(out.max ?? -Infinity, x.max);
      if (x.maxLength !== undefined) out.maxLength = Math.max(out.maxLength ?? 0, x.maxLength);
      if (x.item) out.item = x.item;
    }
    return out;
  }
  return {
    ...(s.minimum !== undefined ? { min: s.minimum } : {}),
    ...(s.maximum !== undefined ? { max: s.maximum } : {}),
    ...(s.maxLength !== undefined ? { maxLength: s.maxLength } : {}),
    ...(s.maxItems !== undefined ? { maxItems: s.maxItems } : {}),
    ...(s.items ? { item: s.items } : {}),
  };
}

/** JSON values a body field of this schema should refuse (or, for free text, take without harm). */
function hostileJson(schema: TSchema, name: string): Array<[string, unknown]> {
  const ok = accepts(schema);
  const b = bounds(schema);
  const out: Array<[string, unknown]> = [];
  const wrong: Array<[string, unknown]> = [
    ['string', 'hostile'],
    ['number', 12345],
    ['boolean', true],
    ['array', [1, 'a']],
    ['object', { a: 1 }],
    ['null', null],
  ];
  for (const [kind, v] of wrong) if (!ok.has(kind)) out.push([`a ${kind}`, v]);
  if (ok.has('number')) {
    if (b.min !== undefined) out.push(['min-1', b.min - 1]);
    if (b.max !== undefined) out.push(['max+1', b.max + 1]);
    out.push(['2^53', 2 ** 53], ['-1', -1], ['1e308', 1e308], ['"NaN"', 'NaN'], ['1.5', 1.5]);
  }
  if (ok.has('string')) {
    if (b.maxLength !== undefined) out.push(['maxLength+1', 'x'.repeat(b.maxLength + 1)]);
    out.push(
      ['100 KB', HUNDRED_KB],
      ['NUL', NUL],
      ['unicode', UNICODE],
      ['empty', ''],
      ['"-1"', '-1'],
      ['"9007199254740993"', '9007199254740993'],
      ['LIKE wildcards', '%_\\'],
      ['a path', '../../etc/passwd'],
    );
  }
  if (ok.has('array')) {
    const item = b.item ? valid(b.item, name) : 'i';
    out.push(
      ['10,000 items', Array.from({ length: 10_000 }, () => structuredClone(item))],
      ['arrays nested 10,000 deep', DEEP_ARRAY],
      ['[null]', [null]],
    );
    if (b.maxItems !== undefined) out.push(['maxItems+1', Array.from({ length: b.maxItems + 1 }, () => structuredClone(item))]);
  }
  if (ok.has('object')) {
    out.push(['objects nested 10,000 deep', DEEP_OBJECT], ['10,000 keys', Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, i]))]);
  }
  return out;
}

/** Raw (already encoded) query values a query field should refuse. */
function hostileQuery(schema: TSchema): Array<[string, string]> {
  const b = bounds(schema);
  const out: Array<[string, string]> = [
    ['empty', ''],
    ['a word', 'hostile'],
    ['1.5', '1.5'],
    ['-1', '-1'],
    ['2^53', '9007199254740992'],
    ['1e308', '1e308'],
    ['NaN', 'NaN'],
    ['Infinity', 'Infinity'],
    ['null', 'null'],
    ['an array', uriEncode('[1,2]')],
    ['an object', uriEncode('{"a":1}')],
    ['10,000 characters', TEN_K],
    ['100 KB, over the header limit', HUNDRED_KB],
    ['NUL', '%00'],
    ['unicode', uriEncode(UNICODE)],
    ['bad percent-encoding', '%zz%E0%A4'],
    ['LIKE wildcards', uriEncode('%_\\')],
  ];
  if (b.min !== undefined) out.push(['min-1', String(b.min - 1)]);
  if (b.max !== undefined) out.push(['max+1', String(b.max + 1)]);
  if (b.maxLength !== undefined) out.push(['maxLength+1', 'x'.repeat(b.maxLength + 1)]);
  return out;
}

/** Raw (already encoded) path segments a path parameter should refuse. */
function hostilePath(schema: TSchema): Array<[string, string]> {
  const out: Array<[string, string]> = [
    ['..', '..'],
    ['../x', '../x'],
    ['%2e%2e%2f', '%2e%2e%2f'],
    ['%2e%2e', '%2e%2e'],
    ['10,000 characters', TEN_K],
    ['empty', ''],
    ['a space', '%20'],
    ['NUL', '%00'],
    ['NUL inside', 'ab%00cd'],
    ['unicode', uriEncode(UNICODE)],
    ['bad percent-encoding', '%zz'],
    ['truncated UTF-8', '%E0%A4'],
    ['-1', '-1'],
    ['huge', '99999999999999999999999'],
    ['2^53', '9007199254740993'],
    ['not a number', 'abc'],
    ['1.5', '1.5'],
    ['1e3', '1e3'],
  ];
  const b = bounds(schema);
  if (b.max !== undefined) out.push(['max+1', String(b.max + 1)]);
  if (b.maxLength !== undefined) out.push(['maxLength+1', 'x'.repeat(b.maxLength + 1)]);
  return out;
}

/** Every field of an object schema, nested objects and first array items included (a.b[0].c). */
function leaves(schema: TSchema, prefix: Array<string | number> = [], depth = 0): Array<{ path: Array<string | number>; schema: TSchema }> {
  const out: Array<{ path: Array<string | number>; schema: TSchema }> = [];
  const s = schema as S;
  if (kindOf(schema) !== 'Object' || depth > 4) return out;
  for (const [k, p] of Object.entries(s.properties ?? {})) {
    const path = [...prefix, k];
    out.push({ path, schema: p });
    if (kindOf(p) === 'Object') out.push(...leaves(p, path, depth + 1));
    if (kindOf(p) === 'Array' && kindOf((p as S).items!) === 'Object') out.push(...leaves((p as S).items!, [...path, 0], depth + 1));
  }
  return out;
}

/** Sets `value` at `path` in `root`, creating missing parents as valid values of their schemas. */
function setAt(root: Record<string, unknown>, schema: TSchema, path: Array<string | number>, value: unknown): void {
  let node: Record<string | number, unknown> = root;
  let s = schema as S;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    const childSchema = (typeof key === 'number' ? s.items : s.properties?.[key]) as S;
    const next = path[i + 1]!;
    let child = node[key];
    if (typeof next === 'number') {
      if (!Array.isArray(child)) child = [];
      const arr = child as unknown[];
      if (arr.length === 0) arr.push(valid(childSchema.items!, String(key)));
    } else if (child === null || typeof child !== 'object' || Array.isArray(child)) {
      child = valid(childSchema, String(key));
    }
    node[key] = child;
    node = child as Record<string | number, unknown>;
    s = childSchema;
  }
  node[path[path.length - 1]!] = value;
}

// ---------------------------------------------------------------------------------------------
// Requests as written

interface Variant {
  label: string;
  method: string;
  /** Path and query exactly as sent. */
  target: string;
  body?: Buffer;
  contentType?: string;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** A path or query value as text (base inputs hold scalars). */
function scalar(v: unknown): string {
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

function targetOf(def: OperationDef, input: Record<string, unknown>, raw: { path?: Record<string, string>; query?: Record<string, string | null> } = {}): string {
  const path = def.path.replace(/\{([^}]+)\}/g, (_m, name: string) =>
    raw.path && Object.hasOwn(raw.path, name) ? raw.path[name]! : uriEncode(scalar(input[name])),
  );
  const parts: string[] = [];
  if (def.queryFlag) parts.push(uriEncode(def.queryFlag));
  const declared = def.query ? Object.keys((def.query as S).properties ?? {}) : [];
  const names = new Set([...declared, ...Object.keys(raw.query ?? {})]);
  for (const k of names) {
    if (raw.query && Object.hasOwn(raw.query, k)) {
      const v = raw.query[k];
      parts.push(v === null ? uriEncode(k) : `${uriEncode(k)}=${v}`);
    } else if (input[k] !== undefined) {
      parts.push(`${uriEncode(k)}=${uriEncode(scalar(input[k]))}`);
    }
  }
  return path + (parts.length ? `?${parts.join('&')}` : '');
}

function bodyOf(def: OperationDef, input: Record<string, unknown>): Buffer | undefined {
  if (!def.body || def.method === 'GET' || def.method === 'DELETE') return undefined;
  const keys = Object.keys((def.body as S).properties ?? {});
  const obj: Record<string, unknown> = {};
  for (const k of keys) if (input[k] !== undefined) obj[k] = input[k];
  return Buffer.from(JSON.stringify(obj));
}

function signedHeaders(service: ServiceName, method: string, target: string): Record<string, string> {
  if (service !== 'cfs') {
    return ncpSignHeaders({ method, requestTarget: target, accessKey: srv.accessKeyId, secretKey: srv.secretAccessKey });
  }
  return bceRawHeaders(`127.0.0.1:${port}`, srv.creds, method, target);
}

function send(service: ServiceName, v: Variant): Promise<Answer> {
  const headers: Record<string, string | number> = { ...signedHeaders(service, v.method, v.target), accept: 'application/json' };
  if (v.body !== undefined) {
    headers['content-type'] = v.contentType ?? (service === 'cfs' ? 'application/json; charset=utf-8' : 'application/json');
    headers['content-length'] = v.body.length;
  }
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request({ host: '127.0.0.1', port, method: v.method, path: v.target, headers, agent: false }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    // A server that answers before reading a large body may close the socket under the writer.
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    req.end(v.body);
  });
}

// ---------------------------------------------------------------------------------------------
// What every answer must be

const NCP_GATEWAY_CODES = new Set(['100', '200', '210', '300', '430']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Why an answer is not an error in the service's own envelope (undefined when it is). */
function envelopeProblem(service: ServiceName, a: Answer): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(a.text);
  } catch {
    return 'the body is not JSON';
  }
  if (!isObject(body)) return 'the body is not a JSON object';
  const ncpLegacy = (): string | undefined => {
    const e = body.error;
    if (!isObject(e)) return 'no error object';
    if (typeof e.errorCode !== 'string' || e.errorCode === '') return 'no error.errorCode';
    if (typeof e.message !== 'string' || e.message === '') return 'no error.message';
    if (typeof e.details !== 'string') return 'no error.details';
    return undefined;
  };
  switch (service) {
    case 'datafence':
    case 'stockade':
      return ncpLegacy();
    case 'dataflow': {
      if (body.errorType === undefined) {
        const p = ncpLegacy();
        if (p) return `neither problem details nor the gateway envelope (${p})`;
        const code = (body.error as Record<string, unknown>).errorCode as string;
        return NCP_GATEWAY_CODES.has(code) ? undefined : `gateway envelope with a service failure ${code}`;
      }
      if (typeof body.errorType !== 'string' || body.errorType === '') return 'no errorType';
      if (body.status !== a.status) return `status ${String(body.status)} in the body`;
      for (const f of ['type', 'title', 'detail', 'instance']) if (typeof body[f] !== 'string') return `no ${f}`;
      return undefined;
    }
    case 'cfs': {
      if (typeof body.code !== 'string' || body.code === '') return 'no code';
      if (typeof body.message !== 'string' || body.message === '') return 'no message';
      if (typeof body.requestId !== 'string' || body.requestId !== a.headers['x-bce-request-id']) return 'requestId differs from x-bce-request-id';
      return undefined;
    }
    default:
      return `no envelope check for ${service}`;
  }
}

/** A cheap picture of a service's state: row counts of its tables and of request-made audit events. */
async function fingerprint(service: ServiceName): Promise<string> {
  const mod = SERVICES.find((m) => m.name === service);
  const tables = Object.keys(mod?.tables ?? {});
  const db = srv.app.ctx.store.db;
  const counts = [
    ...tables.map((t) => sql<{ n: number | string }>`select count(*) as n from ${sql.table(t)}`),
    sql<{ n: number | string }>`select count(*) as n from audit_events where request_id is not null`,
  ];
  const out: string[] = [];
  for (const q of counts) out.push(String((await q.execute(db)).rows[0]!.n));
  return [...tables, 'audit'].map((t, i) => `${t}=${out[i]}`).join(' ');
}

interface Run {
  problems: string[];
  sent: number;
  /** Variants the service took as valid input (2xx). */
  accepted: string[];
}

/**
 * Sends the variants of one operation in order and checks each answer. For an operation that
 * changes state, the service's fingerprint is taken around every call: an error must leave it as
 * it was. A 2xx (a variant that is valid input after all, such as unicode free text) moves the
 * baseline instead, once the tasks it started have run.
 */
async function runVariants(key: string, def: OperationDef, variants: Variant[], run: Run): Promise<void> {
  const mutates = def.method !== 'GET' && def.method !== 'HEAD';
  let print = await fingerprint(def.service);
  for (const v of variants) {
    let a: Answer;
    try {
      a = await send(def.service, v);
    } catch (e) {
      run.problems.push(`${key} [${v.label}]: no answer (${String(e)})`);
      continue;
    }
    run.sent++;
    const where = `${key} ${v.method} ${v.target.slice(0, 120)} [${v.label}]`;
    if (a.status >= 500) {
      run.problems.push(`${where}: ${a.status} ${a.text.slice(0, 300)}`);
    } else if (a.status >= 400) {
      const p = envelopeProblem(def.service, a);
      if (p) run.problems.push(`${where}: ${a.status} not in the ${def.service} envelope: ${p}: ${a.text.slice(0, 200)}`);
    } else if (a.status >= 200 && a.status < 300) {
      run.accepted.push(`${key} [${v.label}]`);
    } else {
      run.problems.push(`${where}: unexpected status ${a.status}`);
    }
    if (!mutates) continue;
    if (a.status >= 200 && a.status < 300) {
      await runTasks(srv);
      print = await fingerprint(def.service);
      continue;
    }
    const now = await fingerprint(def.service);
    if (now !== print) run.problems.push(`${where}: answered ${a.status} but changed state: ${print} → ${now}`);
    print = now;
  }
  if (!mutates) {
    const now = await fingerprint(def.service);
    if (now !== print) run.problems.push(`${key}: reads changed state: ${print} → ${now}`);
  }
}

function report(t: { diagnostic(message: string): void }, run: Run): void {
  t.diagnostic(`${run.sent} requests; ${run.accepted.length} taken as valid input: ${run.accepted.join(', ')}`);
  if (run.problems.length) {
    assert.fail(`${run.problems.length} of ${run.sent} hostile requests were mishandled:\n${run.problems.slice(0, 60).join('\n')}`);
  }
}

/** The operations under test: every NCP and CFS operation of the table. */
const OPS = allOperations().filter(({ def }) => def.auth === 'ncp-v2' || def.auth === 'bce-v1');

// ---------------------------------------------------------------------------------------------
// Fixture

before(async () => {
  srv = await startTestServer('hostile_input', { config: { cfsSettings: CFS_SETTINGS, transitions: 'job-execution=manual' } });
  port = Number(new URL(srv.url).port);

  // Datafence: the account's fence and one box in use.
  const df = new DatafenceClient(srv.creds);
  const fenceId = (await df.getDatafence())[0]!.fenceId;
  const catalog = await df.getProductSpec();
  await df.createBox({ fenceId, description: 'hostile', createBoxInfo: boxInfo(catalog) });
  await runTasks(srv);
  const box = await newestBox(df, fenceId);
  const infra = await infraOf(df, fenceId, box.boxId);
  const nas = infra.find((i) => i.infraType === 'BOX_NAS')!;
  const linux = infra.find((i) => i.infraType === 'SVR_LNX_UBUNTU')!;
  Object.assign(fx, { fenceId, boxId: box.boxId, instanceNo: linux.instanceNo, fileId: 1, hadoopClusterNo: 1 });
  Object.assign(fx, { targetNasInstanceNo: nas.instanceNo, sourceNasInstanceNo: nas.instanceNo });
  bases['createBox'] = { fenceId, description: 'hostile', createBoxInfo: boxInfo(catalog) };
  bases['changeBoxNasVolume'] = { fenceId, boxId: box.boxId, instanceNo: nas.instanceNo, volumeSize: 600 };
  bases['changeBoxBlockExternalNetwork'] = { fenceId, boxId: box.boxId, isBlock: true };
  bases['createFileImport'] = {
    fenceId, boxId: box.boxId, sourceBucketName: 'no-such-bucket', sourceFilePathList: ['a.csv'], targetNasInstanceNo: nas.instanceNo, description: 'hostile',
  };
  bases['createFileExport'] = {
    fenceId, boxId: box.boxId, sourceNasInstanceNo: nas.instanceNo, sourceFilePathList: ['a.csv'], targetBucketName: 'no-such-bucket',
    fileDescription: 'hostile', exportPurpose: 'hostile', description: 'hostile',
  };

  // Data Flow: a job, a manual trigger, a workflow over them, one execution.
  const flow = new DataFlowClient(srv.creds);
  const nodes = [
    { type: 'SOURCE_OBS', id: 1, name: 'in', parentNodeIds: [], regionNo: '1', bucketName: 'hostile', prefix: 'in', dataType: 'CSV', fieldList: [{ name: 'id', type: 'Int' }] },
    { type: 'TARGET_OBS', id: 2, name: 'out', parentNodeIds: [1], regionNo: '1', bucketName: 'hostile', prefix: 'out', dataType: 'CSV', fieldList: [{ name: 'id', type: 'Int' }] },
  ];
  const job = await flow.createJob({ name: 'hostile_job', nodes });
  const trigger = await flow.createTrigger({ name: 'hostile_trigger', type: 'NONE', triggerRule: { type: 'NONE' } });
  const wfNodes = [
    { id: trigger.triggerId, name: trigger.name, type: 'TRIGGER' as const, parentNodeIds: [] },
    { id: job.jobId, name: job.name, type: 'JOB' as const, parentNodeIds: [trigger.triggerId], jobCondition: { numWorker: 2, timeout: 10 } },
  ];
  const wf = await flow.createWorkflow({ name: 'hostile_workflow', nodes: wfNodes });
  const execution = await flow.executeJob({ jobId: job.jobId });
  Object.assign(fx, { jobId: job.jobId, triggerId: trigger.triggerId, workflowId: wf.workflowId, executionId: execution.jobExecutionId });
  bases['createJob'] = { name: 'hostile_job_2', nodes };
  bases['verifyJob'] = { name: 'hostile_job_3', nodes };
  bases['updateJob'] = { jobId: job.jobId, type: 'VISUAL', name: 'hostile_job', nodes };
  bases['createWorkflow'] = { name: 'hostile_workflow_2', nodes: wfNodes };
  bases['updateWorkflow'] = { workflowId: wf.workflowId, name: 'hostile_workflow', nodes: wfNodes };
  bases['createTrigger'] = { name: 'hostile_trigger_2', type: 'SCHEDULED', triggerRule: { type: 'RECURRING', interval: 'DAY', time: '10:00' } };

  // CFS: a file system with a mount target, an access group with a rule.
  const cfs = new CfsClient(srv.creds);
  const { fsId } = await cfs.createFileSystem({ fsName: 'hostile', zone: 'zoneA', vpcId: VPC });
  const { mountId } = await cfs.createMountTarget({ fsId, vpcId: VPC, subnetId: SUBNETS[0]! });
  await cfs.createAccessGroup({ accessGroupName: 'hostile_group' });
  const rule = { ip: '10.7.0.0', mask: 24, writeAccess: 'read_write', userAccess: 'no_squash', priority: 5 } as const;
  const { accessRuleId } = await cfs.createAccessRule({ agName: 'hostile_group', ...rule });
  Object.assign(fx, { fsId, mountId, agName: 'hostile_group', arId: accessRuleId, accessGroupName: 'hostile_group' });
  bases['createFileSystem'] = { fsName: 'hostile2', zone: 'zoneB', vpcId: VPC };
  bases['createMountTarget'] = { fsId, vpcId: VPC, subnetId: SUBNETS[1]! };
  bases['createAccessRule'] = { agName: 'hostile_group', ...rule };
  bases['updateAccessRule'] = { agName: 'hostile_group', arId: accessRuleId, ...rule };
  bases['batchCreateAccessRules'] = {
    ag_name: 'hostile_group',
    access_rules: [{ ip: '10.7.1.0', mask: 24, write_access: 'read_only', user_access: 'root_squash', priority: 6 }],
  };
  bases['updateFileSystemTags'] = { fsId: [fsId], tags: [{ tagKey: 'k', tagValue: 'v' }] };
  bases['modifyMountTargetAccessGroup'] = { fsId, mountId, accessGroupName: 'hostile_group' };
});

after(async () => {
  await srv?.close();
});

/**
 * Destructive operations run last: a variant that is valid after all must not take the fixture
 * away from the operations that follow.
 */
const ORDER = (def: OperationDef) => (def.method === 'DELETE' ? 2 : def.method === 'GET' ? 0 : 1);
const ORDERED = [...OPS].sort((a, b) => ORDER(a.def) - ORDER(b.def));

describe('hostile input, every NCP and CFS operation, signed with an owner key', () => {
  test("no operation answers 5xx to malformed path parameters; errors come in the service's envelope and change nothing", async (t) => {
    const run: Run = { problems: [], sent: 0, accepted: [] };
    for (const { key, def } of ORDERED) {
      if (!def.params) continue;
      const input = baseInput(key, def);
      const variants: Variant[] = [];
      for (const [name, schema] of Object.entries((def.params as S).properties ?? {})) {
        for (const [label, raw] of hostilePath(schema)) {
          variants.push({ label: `${name}: ${label}`, method: def.method, target: targetOf(def, input, { path: { [name]: raw } }), body: bodyOf(def, input) });
        }
      }
      await runVariants(key, def, variants, run);
    }
    report(t, run);
  });

  test("no operation answers 5xx to query fields of the wrong type, out of range or overlong; errors come in the service's envelope and change nothing", async (t) => {
    const run: Run = { problems: [], sent: 0, accepted: [] };
    for (const { key, def } of ORDERED) {
      if (!def.query) continue;
      const input = baseInput(key, def);
      const variants: Variant[] = [];
      for (const [name, schema] of Object.entries((def.query as S).properties ?? {})) {
        for (const [label, raw] of hostileQuery(schema)) {
          variants.push({ label: `${name}: ${label}`, method: def.method, target: targetOf(def, input, { query: { [name]: raw } }), body: bodyOf(def, input) });
        }
        // The same key twice, and the key without a value.
        const plain = targetOf(def, input);
        const twice = `${plain}${plain.includes('?') ? '&' : '?'}${uriEncode(name)}=2`;
        variants.push({ label: `${name}: twice`, method: def.method, target: twice, body: bodyOf(def, input) });
        variants.push({ label: `${name}: no value`, method: def.method, target: targetOf(def, input, { query: { [name]: null } }), body: bodyOf(def, input) });
      }
      await runVariants(key, def, sample(variants, MAX_FIELD_VARIANTS, key), run);
    }
    report(t, run);
  });

  test("no operation answers 5xx to body fields of the wrong type, out of range, overlong or oversized; errors come in the service's envelope and change nothing", async (t) => {
    const run: Run = { problems: [], sent: 0, accepted: [] };
    for (const { key, def } of ORDERED) {
      if (!def.body || def.method === 'GET' || def.method === 'DELETE') continue;
      const input = baseInput(key, def);
      const target = targetOf(def, input);
      const base = JSON.parse(bodyOf(def, input)!.toString()) as Record<string, unknown>;
      const variants: Variant[] = [];
      for (const { path, schema } of leaves(def.body)) {
        for (const [label, value] of hostileJson(schema, String(path[path.length - 1]))) {
          const body = structuredClone(base);
          setAt(body, def.body, path, value);
          const name = path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[');
          variants.push({ label: `${name}: ${label}`, method: def.method, target, body: encode(body) });
        }
      }
      await runVariants(key, def, sample(variants, MAX_FIELD_VARIANTS, key), run);
    }
    report(t, run);
  });

  test("no operation answers 5xx to a body that is not JSON, not an object, empty or 5 MB; errors come in the service's envelope and change nothing", async (t) => {
    const run: Run = { problems: [], sent: 0, accepted: [] };
    const fiveMbArray = Buffer.from(`[${'0,'.repeat(5 * MB / 2 - 1)}0]`);
    const fiveMbJunk = Buffer.alloc(5 * MB, 'x');
    for (const { key, def } of ORDERED) {
      if (!def.body || def.method === 'GET' || def.method === 'DELETE') continue;
      const input = baseInput(key, def);
      const target = targetOf(def, input);
      const base = bodyOf(def, input)!.toString();
      const b = (label: string, body: Buffer | string, contentType?: string): Variant => ({
        label, method: def.method, target, body: Buffer.isBuffer(body) ? body : Buffer.from(body), ...(contentType ? { contentType } : {}),
      });
      const variants = [
        b('not JSON', '{"a": 1,'),
        b('a JSON array', '[]'),
        b('an array of the body', `[${base}]`),
        b('a JSON string', '"hostile"'),
        b('a JSON number', '12345'),
        b('JSON null', 'null'),
        b('empty', ''),
        b('whitespace', ' \n '),
        b('a byte-order mark', `\ufeff${base}`),
        b('invalid UTF-8', Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')])),
        b('prototype keys', '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}'),
        b('not JSON as text/plain', 'hostile', 'text/plain'),
        b('form-encoded', 'a=1&b=2', 'application/x-www-form-urlencoded'),
        b('5 MB JSON array', fiveMbArray),
        b('5 MB not JSON', fiveMbJunk),
      ];
      await runVariants(key, def, variants, run);
    }
    // `__proto__` in a body is a field like any other: nothing reached Object.prototype (the server runs in this process).
    assert.equal((Object.prototype as Record<string, unknown>)['polluted'], undefined);
    // Over the body limit (10 MiB), once per service.
    for (const service of ['datafence', 'dataflow', 'cfs'] as const) {
      const { key, def } = OPS.find(({ def }) => def.service === service && def.method === 'POST' && def.body)!;
      const input = baseInput(key, def);
      await runVariants(key, def, [{ label: '11 MB', method: def.method, target: targetOf(def, input), body: Buffer.alloc(11 * MB, ' ') }], run);
    }
    report(t, run);
  });

  test('after every hostile request the server still answers ordinary ones, and its fixtures are intact', async () => {
    const df = new DatafenceClient(srv.creds);
    assert.equal((await df.getBoxSummaryInfo({ fenceId: fx.fenceId as number, boxId: fx.boxId as number })).boxId, fx.boxId);
    assert.equal((await new DataFlowClient(srv.creds).getJobById({ jobId: fx.jobId as string })).jobId, fx.jobId);
    const cfs = new CfsClient(srv.creds);
    assert.deepEqual((await cfs.queryFileSystem({ fsId: fx.fsId as string })).fileSystemList.map((f) => f.fsId), [fx.fsId]);
  });
});
