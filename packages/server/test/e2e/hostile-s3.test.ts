/**
 * Hostile input to every Object Storage (S3 API) operation: bucket names, keys, query parameters,
 * headers, XML bodies and aws-chunked bodies that real S3 refuses, each signed with the owner's
 * key (SigV4, the SDK's own signer) and sent over a real socket exactly as written (no client
 * normalises the path); framing errors go out as raw bytes.
 *
 * Every answer must be below 500; an error must be S3's XML error document (Code, Message and the
 * request's RequestId; a HEAD error has no body); and an error must leave the buckets, objects,
 * uploads, parts and stored content as they were. The variants are the same on every run.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { sql } from 'kysely';
import { sigv4SignHeaders, uriEncode, type S3OperationName } from '@stockade/sdk';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { filesUnder } from '../helpers/s3.js';

const MB = 1024 * 1024;
const BUCKET = 'hostile-s3-a';
const EMPTY_BUCKET = 'hostile-s3-b';
/** A bucket name no variant may create. */
const NEW_BUCKET = 'hostile-s3-new';
const OBJ = 'obj.txt';
const OBJ_BODY = 'hello, hostile world';
const MP_OBJ = 'mp.bin';
const UP_KEY = 'up.bin';
/** Where variants S3 takes as valid write (PutObject, CopyObject). */
const VALID_KEY = 'valid.bin';

let srv: TestServer;
let port: number;
let s3: S3Client;
let uploadId: string;
let part1Etag: string;

const sha256Hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const md5B64 = (b: Buffer | string) => createHash('md5').update(b).digest('base64');
const b64url = (s: string) => Buffer.from(s).toString('base64url');

// ---------------------------------------------------------------------------------------------
// Requests as written

interface Variant {
  op: S3OperationName;
  label: string;
  method: string;
  /** Path exactly as sent (already encoded). */
  path: string;
  /** Query exactly as sent (already encoded), without `?`. */
  query?: string;
  /** Headers besides the signature's; signed, except `content-length`. */
  headers?: Record<string, string>;
  body?: Buffer;
  /** The secret to sign with (default: the owner key's). */
  secret?: string;
  /** `x-amz-content-sha256` (default: the SHA-256 of the body). */
  payloadHash?: string;
  /**
   * A request S3 takes as it is (ignored or tolerated input): a 2xx may change state. Every other
   * variant is one S3 refuses, and must change nothing whatever the answer.
   */
  valid?: boolean;
  /** The whole request as bytes after the signed head (framing errors): sent on a raw socket. */
  raw?: { contentLength: string; body: Buffer; halfClose?: boolean };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

function signed(v: Variant): Record<string, string> {
  const extra: Record<string, string> = {};
  for (const [k, val] of Object.entries(v.headers ?? {})) if (k.toLowerCase() !== 'content-length') extra[k] = val;
  const search = v.query === undefined ? '' : `?${v.query}`;
  // The path as written: `new URL` would resolve `..` and re-encode.
  const url = { host: `127.0.0.1:${port}`, pathname: v.path, search } as unknown as URL;
  return sigv4SignHeaders({
    method: v.method,
    url,
    headers: extra,
    accessKeyId: srv.accessKeyId,
    secretAccessKey: v.secret ?? srv.secretAccessKey,
    region: 'us-east-1',
    payloadHash: v.payloadHash ?? sha256Hex(v.body ?? Buffer.alloc(0)),
  });
}

function target(v: Variant): string {
  return v.path + (v.query === undefined ? '' : `?${v.query}`);
}

const ANSWER_TIMEOUT_MS = 10_000;

function send(v: Variant): Promise<Answer | 'closed'> {
  if (v.raw) return sendRaw(v);
  const headers: Record<string, string | number> = { ...signed(v) };
  for (const [k, val] of Object.entries(v.headers ?? {})) if (k.toLowerCase() === 'content-length') headers[k] = val;
  if (v.body !== undefined && headers['content-length'] === undefined) headers['content-length'] = v.body.length;
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request({ host: '127.0.0.1', port, method: v.method, path: target(v), headers, agent: false }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(ANSWER_TIMEOUT_MS, () => req.destroy(new Error('no answer in time')));
    // A server that answers before reading a large body may close the socket under the writer.
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    req.end(v.body);
  });
}

/** A request whose framing lies (Content-Length, a body cut short): written byte for byte. */
function sendRaw(v: Variant): Promise<Answer | 'closed'> {
  const raw = v.raw!;
  const headers = { ...signed(v), host: `127.0.0.1:${port}`, 'content-length': raw.contentLength, connection: 'close', ...(v.headers ?? {}) };
  const head = `${v.method} ${target(v)} HTTP/1.1\r\n${Object.entries(headers).map(([k, val]) => `${k}: ${val}\r\n`).join('')}\r\n`;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(head);
      socket.write(raw.body);
      if (raw.halfClose) socket.end();
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer in time'));
    }, ANSWER_TIMEOUT_MS);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks).toString('latin1');
      if (all === '') {
        resolve('closed');
        return;
      }
      const end = all.indexOf('\r\n\r\n');
      const lines = all.slice(0, end < 0 ? all.length : end).split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
      const h: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) h[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      let text = end < 0 ? '' : all.slice(end + 4);
      if (h['content-length'] !== undefined) text = text.slice(0, Number(h['content-length']));
      resolve({ status, headers: h, text: Buffer.from(text, 'latin1').toString('utf8') });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// What every answer must be

/** Why an answer is not S3's error document (undefined when it is). */
function envelopeProblem(v: Variant, a: Answer): string | undefined {
  if (v.method === 'HEAD') return a.text === '' ? undefined : 'a HEAD error has a body';
  const m = /^<\?xml version="1\.0" encoding="UTF-8"\?>\s*<Error><Code>([A-Za-z0-9]+)<\/Code><Message>[^<]+<\/Message>.*<RequestId>([^<]+)<\/RequestId>.*<\/Error>$/s.exec(a.text);
  if (!m) return 'not an S3 <Error> document with Code, Message and RequestId';
  if (!String(a.headers['content-type'] ?? '').startsWith('application/xml')) return `content-type ${String(a.headers['content-type'])}`;
  if (a.headers['x-amz-request-id'] !== undefined && a.headers['x-amz-request-id'] !== m[2]) return 'RequestId differs from x-amz-request-id';
  return undefined;
}

/**
 * The state of Object Storage: buckets, objects (size, ETag, version), uploads and parts, content
 * rows and the content files on disk.
 */
async function fingerprint(): Promise<string> {
  const db = srv.app.ctx.store.db;
  const rows = async (q: ReturnType<typeof sql>) => JSON.stringify((await q.execute(db)).rows);
  const out = [
    await rows(sql`select name, region from s3_buckets order by name`),
    await rows(sql`select bucket, ${sql.ref('key')}, size, etag, version from s3_objects order by bucket, ${sql.ref('key')}`),
    await rows(sql`select upload_id, bucket, ${sql.ref('key')} from s3_uploads order by upload_id`),
    await rows(sql`select upload_id, part_number, size, etag from s3_parts order by upload_id, part_number`),
    await rows(sql`select count(*) as n from blobs`),
    String((await filesUnder(path.join(srv.app.ctx.config.dataDir, 'blobs'))).length),
  ];
  return out.join('\n');
}

/** The fingerprint once content files an error is still removing are gone (a few tries). */
async function settledFingerprint(expected: string): Promise<string> {
  let now = await fingerprint();
  for (let i = 0; i < 20 && now !== expected; i++) {
    await new Promise((r) => setTimeout(r, 25));
    now = await fingerprint();
  }
  return now;
}

/** The lines of two fingerprints that differ. */
function difference(before: string, after: string): string {
  const a = before.split('\n');
  const b = after.split('\n');
  return a.map((l, i) => (l === b[i] ? '' : `${l.slice(0, 600)} → ${b[i]?.slice(0, 600)}`)).filter(Boolean).join('; ');
}

interface Run {
  problems: string[];
  sent: number;
  codes: Map<string, number>;
  /** Variants answered 2xx/3xx (a valid request after all). */
  accepted: string[];
}

const newRun = (): Run => ({ problems: [], sent: 0, codes: new Map(), accepted: [] });

/**
 * Sends the variants in order and checks each answer; around every variant the state must stay
 * as it was (every variant here is an invalid request, so even a 2xx must change nothing).
 */
async function runVariants(variants: Variant[], run: Run): Promise<void> {
  let print = await fingerprint();
  for (const v of variants) {
    const where = `${v.op} ${v.method} ${target(v).slice(0, 100)} [${v.label}]`;
    let a: Answer | 'closed';
    try {
      a = await send(v);
    } catch (e) {
      run.problems.push(`${where}: no answer (${String(e)})`);
      continue;
    }
    run.sent++;
    if (a === 'closed') {
      // A body cut short by the client: closing without an answer is all HTTP allows.
      if (!v.raw?.halfClose) run.problems.push(`${where}: connection closed without an answer`);
    } else {
      const code = a.status >= 400 && v.method !== 'HEAD' ? (/<Code>([^<]*)<\/Code>/.exec(a.text)?.[1] ?? '?') : '';
      run.codes.set(`${a.status} ${code}`.trim(), (run.codes.get(`${a.status} ${code}`.trim()) ?? 0) + 1);
      // 501 NotImplemented: a feature this server does not have (a sub-resource such as ?acl), in S3's envelope.
      const notImplemented = a.status === 501 && (v.method === 'HEAD' || code === 'NotImplemented');
      if (a.status >= 500 && !notImplemented) {
        run.problems.push(`${where}: ${a.status} ${a.text.slice(0, 300)}`);
      } else if (a.status >= 400) {
        const p = envelopeProblem(v, a);
        if (p) run.problems.push(`${where}: ${a.status} not S3's error document: ${p}: ${a.text.slice(0, 200)}`);
        if (code === 'SignatureDoesNotMatch' && !v.label.includes('signature')) run.problems.push(`${where}: the test's signature did not verify`);
      } else {
        run.accepted.push(`${where}: ${a.status}`);
      }
    }
    const now = await settledFingerprint(print);
    if (now !== print && !v.valid) run.problems.push(`${where}: answered ${a === 'closed' ? 'nothing' : a.status} but changed state: ${difference(print, now)}`);
    print = now;
  }
}

function report(t: { diagnostic(message: string): void }, run: Run): void {
  const codes = [...run.codes.entries()].sort().map(([c, n]) => `${c} ×${n}`).join(', ');
  t.diagnostic(`${run.sent} requests: ${codes}`);
  if (run.accepted.length) t.diagnostic(`answered 2xx/3xx: ${run.accepted.join('; ')}`);
  if (run.problems.length) {
    assert.fail(`${run.problems.length} of ${run.sent} hostile requests were mishandled:\n${run.problems.slice(0, 60).join('\n')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The operations, each as a function of bucket, key and query

interface OpShape {
  op: S3OperationName;
  method: string;
  /** Query flags that select the operation (before the variant's own). */
  flags?: string;
  onKey: boolean;
  headers?: () => Record<string, string>;
  body?: () => Buffer;
}

const deleteXml = (keys: string[]) =>
  Buffer.from(`<Delete><Quiet>true</Quiet>${keys.map((k) => `<Object><Key>${k}</Key></Object>`).join('')}</Delete>`);
const completeXml = (parts: Array<[number, string]>) =>
  Buffer.from(
    `<CompleteMultipartUpload>${parts.map(([n, e]) => `<Part><PartNumber>${n}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`,
  );

/** Every operation, addressed at the fixture's bucket (and key) by default. */
function shapes(): OpShape[] {
  const up = () => `uploadId=${uriEncode(uploadId)}`;
  return [
    { op: 'CreateBucket', method: 'PUT', onKey: false },
    { op: 'HeadBucket', method: 'HEAD', onKey: false },
    { op: 'DeleteBucket', method: 'DELETE', onKey: false },
    { op: 'GetBucketLocation', method: 'GET', flags: 'location', onKey: false },
    { op: 'ListObjects', method: 'GET', onKey: false },
    { op: 'ListObjectsV2', method: 'GET', flags: 'list-type=2', onKey: false },
    { op: 'ListMultipartUploads', method: 'GET', flags: 'uploads', onKey: false },
    { op: 'DeleteObjects', method: 'POST', flags: 'delete', onKey: false, body: () => deleteXml([OBJ]) },
    { op: 'PutObject', method: 'PUT', onKey: true, body: () => Buffer.from('replaced') },
    { op: 'GetObject', method: 'GET', onKey: true },
    { op: 'HeadObject', method: 'HEAD', onKey: true },
    { op: 'DeleteObject', method: 'DELETE', onKey: true },
    { op: 'CopyObject', method: 'PUT', onKey: true, headers: () => ({ 'x-amz-copy-source': `/${BUCKET}/${OBJ}`, 'x-amz-metadata-directive': 'REPLACE' }) },
    { op: 'CreateMultipartUpload', method: 'POST', flags: 'uploads', onKey: true },
    { op: 'UploadPart', method: 'PUT', get flags() { return `partNumber=1&${up()}`; }, onKey: true, body: () => Buffer.from('replaced') },
    {
      op: 'UploadPartCopy', method: 'PUT', get flags() { return `partNumber=1&${up()}`; }, onKey: true,
      headers: () => ({ 'x-amz-copy-source': `/${BUCKET}/${OBJ}` }),
    },
    {
      op: 'CompleteMultipartUpload', method: 'POST', get flags() { return up(); }, onKey: true,
      body: () => completeXml([[1, part1Etag]]),
    },
    { op: 'AbortMultipartUpload', method: 'DELETE', get flags() { return up(); }, onKey: true },
    { op: 'ListParts', method: 'GET', get flags() { return up(); }, onKey: true },
  ];
}

function variantOf(s: OpShape, label: string, o: { bucket?: string; key?: string; query?: string; headers?: Record<string, string>; body?: Buffer } = {}): Variant {
  const bucket = o.bucket ?? BUCKET;
  // Operations on an upload address the upload's key.
  const key = o.key ?? (s.flags?.includes('uploadId') ? UP_KEY : OBJ);
  const q = [s.flags, o.query].filter((x) => x !== undefined && x !== '').join('&');
  return {
    op: s.op,
    label,
    method: s.method,
    path: s.onKey ? `/${bucket}/${key}` : `/${bucket}`,
    ...(q ? { query: q } : {}),
    headers: { ...(s.headers?.() ?? {}), ...(o.headers ?? {}) },
    ...(o.body ?? s.body?.() ? { body: o.body ?? s.body!() } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Hostile values

const BAD_BUCKETS: Array<[string, string]> = [
  ['too short', 'ab'],
  ['64 characters', 'b'.repeat(64)],
  ['255 characters', 'b'.repeat(255)],
  ['..', '..'],
  ['a..b', 'a..b'],
  ['%2e%2e', '%2e%2e'],
  ['uppercase', 'Hostile-Bucket'],
  ['IP-like', '192.168.1.1'],
  ['unicode', uriEncode('bücket-ünïcødé')],
  ['underscore', 'bad_bucket'],
  ['leading hyphen', '-bucket'],
  ['xn-- prefix', 'xn--bucket'],
  ['a space', 'a%20bucket'],
  ['control character', 'a%01b'],
  ['bad percent-encoding', 'a%zzb'],
  ['lone surrogate', 'a%ED%A0%80b'],
  ['truncated UTF-8', 'a%E0%A4'],
];

const deepKey = (n: number) => Array.from({ length: n }, () => 'a').join('/');

/** Keys no object may be stored under, or that name nothing (every operation must refuse or miss). */
const BAD_KEYS: Array<[string, string]> = [
  ['1025 bytes', 'k'.repeat(1025)],
  ['1025 bytes of 2-byte characters', uriEncode('é'.repeat(513), false)],
  ['very deep, over 1024 bytes', deepKey(600)],
  ['bad percent-encoding', 'a%zz'],
  ['lone surrogate', 'a%ED%A0%80'],
  ['truncated UTF-8', 'a%E0%A4'],
  ['overlong UTF-8 for /', 'a%C0%AFb'],
];

/** Keys S3 takes as they are: a read finds nothing, a delete deletes nothing. */
const ODD_KEYS: Array<[string, string]> = [
  ['../../etc/passwd', '../../etc/passwd'],
  ['%2e%2e/%2e%2e/etc/passwd', '%2e%2e/%2e%2e/etc/passwd'],
  ['control characters', 'a%01%1f%7fb'],
  ['CR LF', 'a%0d%0aSet-Cookie:%20x'],
  ['very deep', deepKey(500)],
  ['unicode', uriEncode('ключ 😀 \u202eتست', false)],
];

const QUERY_VALUES: Array<[string, string]> = [
  ['-1', '-1'],
  ['huge', '99999999999999999999'],
  ['2^63', '9223372036854775808'],
  ['not a number', 'abc'],
  ['1.5', '1.5'],
  ['empty', ''],
  ['10,000 characters', 'q'.repeat(10_000)],
  ['bad percent-encoding', '%zz'],
  ['lone surrogate', '%ED%A0%80'],
];

const TOKENS: Array<[string, string]> = [
  ['garbage', 'not*a*token'],
  ['10,000 characters', 't'.repeat(10_000)],
  ['base64 of garbage', b64url('garbage\u00ff')],
  ['base64 of a marker with NUL', b64url('1:a\u0000b')],
  ['base64 of NUL', b64url('\u0000\u0000\u0000')],
  ['base64 of an overlong marker', b64url(`1:${'m'.repeat(5000)}`)],
  ['standard base64 with padding', Buffer.from('1:obj').toString('base64')],
  ['base64 of invalid UTF-8', Buffer.from([0x31, 0x3a, 0xff, 0xfe]).toString('base64url')],
];

/** An XML bomb: entities expanding a billion times (refused unexpanded). */
const BILLION_LAUGHS = Buffer.from(
  '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
    Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('') +
    ']><Delete><Object><Key>&lol9;</Key></Object></Delete>',
);
const EXTERNAL_ENTITY = Buffer.from('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Delete><Object><Key>&x;</Key></Object></Delete>');
const deepXml = (root: string, depth: number) => Buffer.from(`<${root}>${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</${root}>`);

function xmlBodies(root: string, valid: Buffer): Array<[string, Buffer]> {
  const text = valid.toString();
  return [
    ['not XML', Buffer.from('this is not xml')],
    ['JSON', Buffer.from('{"Delete":{"Object":[{"Key":"obj.txt"}]}}')],
    ['truncated', Buffer.from(text.slice(0, Math.floor(text.length / 2)))],
    ['another root', Buffer.from(text.replaceAll(root, 'Other'))],
    ['billion laughs', Buffer.from(BILLION_LAUGHS.toString().replaceAll('Delete', root))],
    ['external entity', Buffer.from(EXTERNAL_ENTITY.toString().replaceAll('Delete', root))],
    ['nested 10,000 deep', deepXml(root, 10_000)],
    ['nested 100,000 deep', deepXml(root, 100_000)],
    ['5 MB of junk', Buffer.alloc(5 * MB, 'x')],
    ['5 MB document', Buffer.from(`<${root}>${'<Unknown>x</Unknown>'.repeat((5 * MB) / 20)}</${root}>`)],
    ['a NUL reference', Buffer.from(text.replace('</', '&#0;</'))],
    ['a NUL byte', Buffer.from(text.replace('</', '\u0000</'))],
    ['an unknown entity', Buffer.from(text.replace('</', '&bogus;</'))],
    ['a bare &', Buffer.from(text.replace('</', '&</'))],
    ['a lone surrogate reference', Buffer.from(text.replace('</', '&#xD800;</'))],
    ['invalid UTF-8', Buffer.concat([Buffer.from(text.slice(0, text.indexOf('</'))), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(text.slice(text.indexOf('</')))])],
    ['an overlong UTF-8 <', Buffer.concat([Buffer.from(text.slice(0, text.indexOf('</'))), Buffer.from([0xc0, 0xbc]), Buffer.from(text.slice(text.indexOf('</')))])],
    ['UTF-16', Buffer.from(`\ufeff${text}`, 'utf16le')],
    ['CDATA hiding markup in a value', Buffer.from(text.replace(/<\/(?!Quiet)/, '<![CDATA[</x>]]></'))],
  ];
}

// ---------------------------------------------------------------------------------------------
// aws-chunked bodies

/** `STREAMING-UNSIGNED-PAYLOAD-TRAILER` framing of the given chunks (a final 0 chunk, no trailer). */
function unsignedChunked(chunks: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const c of chunks) parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

const TOLERATED = new Set(['decoded length missing', 'no final CRLF', 'trailer not declared']);

function chunkedVariants(): Variant[] {
  const s = shapes().find((x) => x.op === 'PutObject')!;
  const text = 'hostile chunked data';
  const data = Buffer.from(text);
  const good = unsignedChunked([data]);
  const v = (label: string, body: Buffer, headers: Record<string, string>, payloadHash = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER'): Variant => ({
    ...variantOf(s, label, { key: 'chunked.bin', body, headers: { 'content-encoding': 'aws-chunked', ...headers } }),
    payloadHash,
    // Tolerated as S3's own decoder does: no decoded length (the framing gives it), no empty line
    // after the final chunk, a trailer no header announced (nothing to verify it against).
    ...(TOLERATED.has(label) ? { valid: true } : {}),
  });
  const decoded = (n: number | string) => ({ 'x-amz-decoded-content-length': String(n) });
  const crc = { 'x-amz-trailer': 'x-amz-checksum-crc32' };
  return [
    v('decoded length larger than the data', good, decoded(data.length + 10)),
    v('decoded length smaller than the data', good, decoded(data.length - 5)),
    v('decoded length 0', good, decoded(0)),
    v('decoded length -1', good, decoded(-1)),
    v('decoded length not a number', good, decoded('abc')),
    v('decoded length huge', good, decoded('99999999999999999999')),
    v('decoded length missing', good, {}),
    v('chunk size not hex', Buffer.from(`zz\r\n${text}\r\n0\r\n\r\n`), decoded(data.length)),
    v('chunk size negative', Buffer.from(`-14\r\n${text}\r\n0\r\n\r\n`), decoded(data.length)),
    v('chunk size huge', Buffer.from(`ffffffffffffffffff\r\n${text}\r\n0\r\n\r\n`), decoded(data.length)),
    v('chunk size larger than the data', Buffer.from(`${(data.length + 4).toString(16)}\r\n${text}\r\n0\r\n\r\n`), decoded(data.length)),
    v('chunk size smaller than the data', Buffer.from(`${(data.length - 4).toString(16)}\r\n${text}\r\n0\r\n\r\n`), decoded(data.length)),
    v('no CRLF after the data', Buffer.from(`${data.length.toString(16)}\r\n${text}0\r\n\r\n`), decoded(data.length)),
    v('no final chunk', Buffer.from(`${data.length.toString(16)}\r\n${text}\r\n`), decoded(data.length)),
    v('no final CRLF', Buffer.from(`${data.length.toString(16)}\r\n${text}\r\n0\r\n`), decoded(data.length)),
    v('a chunk line of 10,000 characters', Buffer.from(`${'0'.repeat(10_000)}14\r\n${text}\r\n0\r\n\r\n`), decoded(data.length)),
    v('bytes after the final chunk', Buffer.concat([good, Buffer.from('trailing junk')]), decoded(data.length)),
    v('declared trailer missing', good, { ...decoded(data.length), ...crc }),
    v('trailer garbage', Buffer.from(`${data.length.toString(16)}\r\n${text}\r\n0\r\nx-amz-checksum-crc32:!!!\r\n\r\n`), { ...decoded(data.length), ...crc }),
    v('trailer wrong', Buffer.from(`${data.length.toString(16)}\r\n${text}\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n`), { ...decoded(data.length), ...crc }),
    v('trailer not declared', Buffer.from(`${data.length.toString(16)}\r\n${text}\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n`), decoded(data.length)),
    v('trailer of an unknown algorithm', good, { ...decoded(data.length), 'x-amz-trailer': 'x-amz-checksum-md5' }),
    v('garbage chunk signature', Buffer.from(`${data.length.toString(16)};chunk-signature=${'0'.repeat(64)}\r\n${text}\r\n0;chunk-signature=${'0'.repeat(64)}\r\n\r\n`), decoded(data.length), 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'),
    v('no chunk signature', good, decoded(data.length), 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'),
    v('unknown streaming mode', good, decoded(data.length), 'STREAMING-HOSTILE-PAYLOAD'),
  ];
}

// ---------------------------------------------------------------------------------------------
// Fixture

before(async () => {
  srv = await startTestServer('hostile_s3');
  port = Number(new URL(srv.url).port);
  s3 = new S3Client({ endpoint: srv.url, forcePathStyle: true, region: 'us-east-1', credentials: srv.creds, maxAttempts: 1 });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new CreateBucketCommand({ Bucket: EMPTY_BUCKET }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: OBJ, Body: OBJ_BODY }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'dir/x.txt', Body: 'x' }));
  const mp = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: MP_OBJ }));
  const p = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: MP_OBJ, UploadId: mp.UploadId, PartNumber: 1, Body: 'part one' }));
  await s3.send(
    new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: MP_OBJ, UploadId: mp.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] } }),
  );
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: UP_KEY }));
  uploadId = up.UploadId!;
  part1Etag = (await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: UP_KEY, UploadId: uploadId, PartNumber: 1, Body: 'first part' }))).ETag!;
});

after(async () => {
  s3?.destroy();
  await srv?.close();
});

describe('hostile input, every S3 operation, signed with the owner key', () => {
  test("no operation answers 5xx to invalid bucket names; errors are S3's error document and change nothing", async (t) => {
    const run = newRun();
    const variants: Variant[] = [];
    for (const s of shapes()) for (const [label, b] of BAD_BUCKETS) variants.push(variantOf(s, `bucket: ${label}`, { bucket: b }));
    // A copy source in such a bucket.
    for (const op of ['CopyObject', 'UploadPartCopy'] as const) {
      const s = shapes().find((x) => x.op === op)!;
      for (const [label, b] of BAD_BUCKETS) {
        variants.push(variantOf(s, `copy source bucket: ${label}`, { headers: { 'x-amz-copy-source': `/${b}/${OBJ}` } }));
      }
    }
    await runVariants(variants, run);
    report(t, run);
  });

  test("no operation answers 5xx to keys that are too long or do not decode; errors are S3's error document and change nothing", async (t) => {
    const run = newRun();
    const variants: Variant[] = [];
    for (const s of shapes().filter((x) => x.onKey)) {
      for (const [label, k] of BAD_KEYS) variants.push(variantOf(s, `key: ${label}`, { key: k }));
    }
    // Keys S3 would store, against operations that only read or miss.
    for (const s of shapes().filter((x) => x.onKey && x.op !== 'PutObject' && x.op !== 'CopyObject' && x.op !== 'CreateMultipartUpload')) {
      for (const [label, k] of ODD_KEYS) variants.push(variantOf(s, `key: ${label}`, { key: k }));
    }
    for (const op of ['CopyObject', 'UploadPartCopy'] as const) {
      const s = shapes().find((x) => x.op === op)!;
      for (const [label, k] of [...BAD_KEYS, ...ODD_KEYS]) {
        variants.push(variantOf(s, `copy source key: ${label}`, { headers: { 'x-amz-copy-source': `/${BUCKET}/${k}` } }));
      }
    }
    // DeleteObjects of keys that are too long, or name nothing.
    const del = shapes().find((x) => x.op === 'DeleteObjects')!;
    variants.push(variantOf(del, 'keys: 1025 bytes', { body: deleteXml(['k'.repeat(1025)]) }));
    variants.push(variantOf(del, 'keys: empty', { body: deleteXml(['']) }));
    variants.push(variantOf(del, 'keys: odd', { body: deleteXml(['../../etc/passwd', '&#x1;', 'a'.repeat(1024)]) }));
    await runVariants(variants, run);
    report(t, run);
  });

  test("no operation answers 5xx to query parameters out of range, malformed or overlong; errors are S3's error document and change nothing", async (t) => {
    const run = newRun();
    const variants: Variant[] = [];
    const s = (op: S3OperationName) => shapes().find((x) => x.op === op)!;
    const withValues = (op: S3OperationName, name: string, values: Array<[string, string]>) => {
      for (const [label, value] of values) variants.push(variantOf(s(op), `${name}: ${label}`, { query: `${name}=${value}` }));
    };
    for (const op of ['ListObjects', 'ListObjectsV2'] as const) {
      withValues(op, 'max-keys', QUERY_VALUES);
      withValues(op, 'prefix', [['10,000 characters', 'p'.repeat(10_000)], ['NUL', '%00'], ['LIKE wildcards', '%25_%5C']]);
      withValues(op, 'delimiter', [['10,000 characters', 'd'.repeat(10_000)], ['NUL', '%00'], ['unicode', uriEncode('😀')]]);
      withValues(op, 'encoding-type', [['bad', 'base64'], ['empty', ''], ['URL', 'URL']]);
    }
    withValues('ListObjects', 'marker', [['10,000 characters', 'm'.repeat(10_000)], ['NUL', '%00'], ['lone surrogate', '%ED%A0%80']]);
    withValues('ListObjectsV2', 'continuation-token', TOKENS);
    withValues('ListObjectsV2', 'start-after', [['10,000 characters', 'm'.repeat(10_000)], ['NUL', '%00']]);
    withValues('ListObjectsV2', 'fetch-owner', [['not a boolean', 'maybe']]);
    for (const [label, value] of [['3', '3'], ['1', '1'], ['0', '0'], ['empty', ''], ['not a number', 'abc']] as const) {
      variants.push({ ...variantOf(s('ListObjects'), `list-type: ${label}`, { query: `list-type=${value}` }), op: 'ListObjectsV2' });
    }
    const listBuckets = (label: string, query: string): Variant => ({ op: 'ListBuckets', label, method: 'GET', path: '/', query, headers: {} });
    for (const [label, value] of QUERY_VALUES) variants.push(listBuckets(`max-buckets: ${label}`, `max-buckets=${value}`));
    for (const [label, value] of TOKENS) variants.push(listBuckets(`continuation-token: ${label}`, `continuation-token=${value}`));
    variants.push(listBuckets('prefix: 10,000 characters', `prefix=${'p'.repeat(10_000)}`));
    variants.push(listBuckets('bucket-region: garbage', 'bucket-region=%zz'));
    withValues('ListMultipartUploads', 'max-uploads', QUERY_VALUES);
    withValues('ListMultipartUploads', 'key-marker', [['10,000 characters', 'k'.repeat(10_000)], ['NUL', '%00']]);
    withValues('ListMultipartUploads', 'upload-id-marker', [['garbage', 'not-an-upload'], ['10,000 characters', 'u'.repeat(10_000)]]);
    withValues('ListMultipartUploads', 'encoding-type', [['bad', 'base64']]);
    withValues('ListMultipartUploads', 'prefix', [['10,000 characters', 'p'.repeat(10_000)]]);
    withValues('ListMultipartUploads', 'delimiter', [['10,000 characters', 'd'.repeat(10_000)]]);
    withValues('ListParts', 'max-parts', QUERY_VALUES);
    withValues('ListParts', 'part-number-marker', QUERY_VALUES);
    // Part numbers and upload ids.
    const partNumbers: Array<[string, string]> = [
      ['0', '0'], ['10001', '10001'], ['-1', '-1'], ['abc', 'abc'], ['1.5', '1.5'], ['empty', ''], ['huge', '99999999999999999999'], ['00001', '00001x'],
    ];
    const uploadIds: Array<[string, string]> = [
      ['garbage', 'not-an-upload'], ['empty', ''], ['10,000 characters', 'u'.repeat(10_000)], ['NUL', '%00'], ['another upload id', `${uploadId}x`],
      ['bad percent-encoding', '%zz'], ['lone surrogate', '%ED%A0%80'],
    ];
    for (const op of ['UploadPart', 'UploadPartCopy'] as const) {
      for (const [label, n] of partNumbers) {
        variants.push({ ...variantOf(s(op), `partNumber: ${label}`), query: `partNumber=${n}&uploadId=${uriEncode(uploadId)}` });
      }
      for (const [label, id] of uploadIds) variants.push({ ...variantOf(s(op), `uploadId: ${label}`), query: `partNumber=1&uploadId=${id}` });
      variants.push({ ...variantOf(s(op), 'partNumber without uploadId'), query: 'partNumber=1' });
    }
    for (const op of ['CompleteMultipartUpload', 'AbortMultipartUpload', 'ListParts'] as const) {
      for (const [label, id] of uploadIds) variants.push({ ...variantOf(s(op), `uploadId: ${label}`), query: `uploadId=${id}` });
    }
    for (const op of ['GetObject', 'HeadObject'] as const) {
      withValues(op, 'partNumber', partNumbers);
      withValues(op, 'versionId', [['garbage', 'not-a-version'], ['10,000 characters', 'v'.repeat(10_000)], ['empty', '']]);
      withValues(op, 'response-content-type', [['CR LF', 'text/plain%0d%0aSet-Cookie:%20x=1'], ['10,000 characters', 't'.repeat(10_000)]]);
      withValues(op, 'response-content-disposition', [['unicode', uriEncode('attachment; filename="ключ.txt"')]]);
    }
    withValues('DeleteObject', 'versionId', [['garbage', 'not-a-version'], ['10,000 characters', 'v'.repeat(10_000)], ['empty', '']]);
    // Sub-resources this server does not implement, and unknown ones, on every operation.
    for (const x of shapes()) {
      for (const flag of ['acl', 'tagging', 'versions', 'policy', 'torrent']) variants.push(variantOf(x, `sub-resource: ${flag}`, { query: flag }));
      variants.push(variantOf(x, 'query: 100 KB, over the header limit', { query: `x=${'y'.repeat(100 * 1024)}` }));
    }
    await runVariants(variants, run);
    report(t, run);
  });

  test("no operation answers 5xx to malformed headers; errors are S3's error document and change nothing", async (t) => {
    const run = newRun();
    const s = (op: S3OperationName) => shapes().find((x) => x.op === op)!;
    const variants: Variant[] = [];
    /** A variant S3 takes writes elsewhere than the fixture's object and part 1 (checked at the end). */
    const h = (op: S3OperationName, label: string, headers: Record<string, string>, extra: Partial<Variant> = {}) => {
      const v = { ...variantOf(s(op), label, { headers, ...(extra.valid ? { key: VALID_KEY } : {}) }), ...extra };
      if (extra.valid && v.query?.includes('uploadId')) v.query = `partNumber=2&uploadId=${uriEncode(uploadId)}`;
      if (extra.valid && v.query?.includes('uploadId')) v.path = `/${BUCKET}/${UP_KEY}`;
      variants.push(v);
    };
    const body = Buffer.from('replaced');
    for (const op of ['PutObject', 'UploadPart'] as const) {
      h(op, 'Content-MD5 garbage', { 'content-md5': 'garbage!' });
      h(op, 'Content-MD5 of other bytes', { 'content-md5': md5B64('other') });
      h(op, 'Content-MD5 hex', { 'content-md5': createHash('md5').update(body).digest('hex') });
      h(op, 'x-amz-content-sha256 of other bytes', {}, { payloadHash: sha256Hex('other') });
      h(op, 'x-amz-content-sha256 garbage', {}, { payloadHash: 'garbage' });
      h(op, 'x-amz-content-sha256 empty', {}, { payloadHash: '' });
      h(op, 'x-amz-content-sha256 upper-case hex', {}, { payloadHash: sha256Hex('other').toUpperCase() });
      for (const alg of ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256']) {
        h(op, `x-amz-checksum-${alg} garbage`, { [`x-amz-checksum-${alg}`]: 'garbage!' });
        h(op, `x-amz-checksum-${alg} wrong`, { [`x-amz-checksum-${alg}`]: Buffer.alloc(alg.startsWith('sha') ? (alg === 'sha1' ? 20 : 32) : alg === 'crc64nvme' ? 8 : 4).toString('base64') });
      }
      h(op, 'two checksums, one wrong', { 'x-amz-checksum-crc32': 'AAAAAA==', 'x-amz-checksum-sha256': createHash('sha256').update(body).digest('base64') });
      h(op, 'x-amz-checksum-algorithm unknown', { 'x-amz-checksum-algorithm': 'MD5' });
      h(op, 'x-amz-sdk-checksum-algorithm unknown', { 'x-amz-sdk-checksum-algorithm': 'BOGUS' });
      h(op, 'x-amz-checksum-algorithm without its value', { 'x-amz-checksum-algorithm': 'CRC32', 'x-amz-checksum-sha256': createHash('sha256').update('x').digest('base64') });
      // Without an aws-chunked body there is no trailer: the header is ignored.
      h(op, 'x-amz-trailer unknown, no aws-chunked body', { 'x-amz-trailer': 'x-amz-bogus' }, { valid: true });
    }
    // Content-Length that lies, raw on the wire.
    for (const op of ['PutObject', 'UploadPart'] as const) {
      const raw = (label: string, contentLength: string, b: Buffer, halfClose = false) =>
        variants.push({ ...variantOf(s(op), label, { body: b }), raw: { contentLength, body: b, halfClose } });
      raw('Content-Length negative', '-1', body);
      raw('Content-Length not a number', 'abc', body);
      raw('Content-Length twice, different', `${body.length}\r\ncontent-length: ${body.length + 1}`, body);
      raw('Content-Length larger than the body, then the client stops sending', String(body.length + 100), body, true);
      raw('Content-Length huge, then the client stops sending', '999999999999999', body, true);
      raw('Content-Length smaller than the body', String(body.length - 3), body);
    }
    h('PutObject', 'Content-Length over 5 GB, no body', { 'content-length': String(6 * 1024 * MB) }, { raw: { contentLength: String(6 * 1024 * MB), body: Buffer.alloc(0), halfClose: true } });
    // Metadata and object headers.
    for (const op of ['PutObject', 'CreateMultipartUpload', 'CopyObject'] as const) {
      h(op, 'one x-amz-meta over 2 KB', { 'x-amz-meta-big': 'm'.repeat(2100) });
      h(op, 'x-amz-meta-* over 2 KB in all', Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`x-amz-meta-k${i}`, 'm'.repeat(80)])));
      h(op, 'x-amz-tagging not URL-encoded', { 'x-amz-tagging': '%zz=%zz' });
      h(op, 'x-amz-tagging an empty tag key', { 'x-amz-tagging': 'a=1&=2' });
      h(op, 'x-amz-tagging a key twice', { 'x-amz-tagging': 'a=1&a=2' });
      h(op, 'x-amz-tagging 11 tags', { 'x-amz-tagging': Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&') });
      h(op, 'x-amz-tagging a key of 129 characters', { 'x-amz-tagging': `${'k'.repeat(129)}=v` });
      h(op, 'x-amz-tagging a value of 257 characters', { 'x-amz-tagging': `k=${'v'.repeat(257)}` });
      h(op, 'x-amz-storage-class unknown', { 'x-amz-storage-class': 'HOSTILE' });
      h(op, 'x-amz-server-side-encryption unknown', { 'x-amz-server-side-encryption': 'rot13' });
      h(op, 'x-amz-checksum-algorithm unknown', { 'x-amz-checksum-algorithm': 'MD5' });
    }
    h('CreateMultipartUpload', 'x-amz-checksum-type unknown', { 'x-amz-checksum-type': 'PARTIAL' });
    h('PutObject', 'If-None-Match other than *', { 'if-none-match': '"abc"' });
    h('PutObject', 'If-Match garbage', { 'if-match': 'garbage' });
    h('PutObject', 'If-None-Match * on an existing key', { 'if-none-match': '*' });
    // Reads: ranges and conditions.
    for (const op of ['GetObject', 'HeadObject'] as const) {
      for (const r of ['garbage', 'bytes=abc', 'bytes=5-1', 'bytes=0-1,3-4', 'items=0-1', 'bytes=99999999999999999999-', 'bytes=-0', 'bytes=100-200', 'bytes=--1', 'bytes=-99999999999999999999']) {
        h(op, `Range ${r}`, { range: r });
      }
      for (const name of ['if-modified-since', 'if-unmodified-since']) {
        for (const d of ['garbage', '', '99999-99-99', 'Tue, 31 Feb 2025 25:61:61 GMT', `${'9'.repeat(400)}`]) h(op, `${name}: ${d || 'empty'}`, { [name]: d });
      }
      h(op, 'If-Match garbage', { 'if-match': 'garbage' });
      h(op, 'If-None-Match garbage', { 'if-none-match': 'garbage,,,' });
      h(op, 'x-amz-checksum-mode garbage', { 'x-amz-checksum-mode': 'maybe' });
      h(op, 'Range with partNumber', { range: 'bytes=0-1' }, { query: 'partNumber=1' });
    }
    // Copy sources.
    const sources: Array<[string, string]> = [
      ['garbage', 'garbage'],
      ['/', '/'],
      ['empty', ''],
      ['a bucket only', `/${BUCKET}`],
      ['a bucket and /', `/${BUCKET}/`],
      ['a missing bucket', `/no-such-hostile-bucket/${OBJ}`],
      ['a missing key', `/${BUCKET}/missing`],
      ['bad percent-encoding', `/${BUCKET}/%zz`],
      ['NUL', `/${BUCKET}/a%00b`],
      ['a version id', `/${BUCKET}/${OBJ}?versionId=garbage`],
      ['an empty version id', `/${BUCKET}/${OBJ}?versionId=`],
      ['10,000 characters', `/${BUCKET}/${'c'.repeat(10_000)}`],
      ['a URL', `http://127.0.0.1/${BUCKET}/${OBJ}`],
      ['an access point ARN', `arn:aws:s3:us-east-1:123456789012:accesspoint/ap/object/${OBJ}`],
      ['the sealed-bucket way round: ../', `/${BUCKET}/../${EMPTY_BUCKET}/x`],
    ];
    for (const op of ['CopyObject', 'UploadPartCopy'] as const) {
      for (const [label, src] of sources) h(op, `x-amz-copy-source: ${label}`, { 'x-amz-copy-source': src });
      // An unparsable date makes no condition (RFC 9110, as S3 does): the copy goes ahead.
      for (const name of ['x-amz-copy-source-if-modified-since', 'x-amz-copy-source-if-unmodified-since']) h(op, `${name} garbage`, { [name]: 'garbage' }, { valid: true });
      h(op, 'x-amz-copy-source-if-match other', { 'x-amz-copy-source-if-match': '"abc"' });
    }
    h('CopyObject', 'itself, metadata copied', { 'x-amz-copy-source': `/${BUCKET}/${OBJ}`, 'x-amz-metadata-directive': 'COPY' });
    h('CopyObject', 'x-amz-metadata-directive unknown', { 'x-amz-metadata-directive': 'MERGE' });
    h('CopyObject', 'x-amz-tagging-directive unknown', { 'x-amz-tagging-directive': 'MERGE' });
    h('CopyObject', 'x-amz-tagging-directive REPLACE with garbage tags', { 'x-amz-tagging-directive': 'REPLACE', 'x-amz-tagging': '%zz' });
    for (const r of ['garbage', 'bytes=5-1', 'bytes=0-99999999', 'bytes=-1', 'bytes=0-', 'bytes=0-1,2-3', 'bytes=99999999999999999999-99999999999999999999', 'bytes=0-99999999999999999999']) {
      h('UploadPartCopy', `x-amz-copy-source-range ${r}`, { 'x-amz-copy-source-range': r });
    }
    // Signatures that must not verify.
    for (const x of shapes()) h(x.op, 'a signature with a wrong secret', {}, { secret: 'not-the-secret' });
    await runVariants(variants, run);
    report(t, run);
  });

  test("no operation answers 5xx to XML bodies that are malformed, bombs, too deep, too large or invalid; errors are S3's error document and change nothing", async (t) => {
    const run = newRun();
    const s = (op: S3OperationName) => shapes().find((x) => x.op === op)!;
    const variants: Variant[] = [];
    // CreateBucket: a new name, a configuration that is not valid.
    const createValid = Buffer.from('<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>');
    for (const [label, body] of xmlBodies('CreateBucketConfiguration', createValid)) {
      variants.push(variantOf(s('CreateBucket'), `CreateBucketConfiguration: ${label}`, { bucket: NEW_BUCKET, body }));
    }
    for (const lc of ['../x', 'US EAST', 'x'.repeat(100), '<x/>', '&lt;']) {
      variants.push(
        variantOf(s('CreateBucket'), `LocationConstraint ${lc.slice(0, 20)}`, {
          bucket: NEW_BUCKET,
          body: Buffer.from(`<CreateBucketConfiguration><LocationConstraint>${lc}</LocationConstraint></CreateBucketConfiguration>`),
        }),
      );
    }
    // DeleteObjects: the fixture's own object is in every list; none of them may delete it.
    const del = (label: string, body: Buffer, extra: Partial<Variant> = {}) => variants.push({ ...variantOf(s('DeleteObjects'), label, { body }), ...extra });
    for (const [label, body] of xmlBodies('Delete', deleteXml([OBJ]))) del(`Delete: ${label}`, body);
    del('Delete: 1001 keys', deleteXml([OBJ, ...Array.from({ length: 1000 }, (_, i) => `k${i}`)]));
    del('Delete: 10,000 keys', deleteXml([OBJ, ...Array.from({ length: 9999 }, (_, i) => `k${i}`)]));
    del('Delete: empty body', Buffer.alloc(0));
    del('Delete: no objects', Buffer.from('<Delete></Delete>'));
    del('Delete: an object without a key', Buffer.from(`<Delete><Object><Key>${OBJ}</Key></Object><Object></Object></Delete>`));
    del('Delete: a key with children', Buffer.from(`<Delete><Object><Key>${OBJ}</Key></Object><Object><Key><a/></Key></Object></Delete>`));
    del('Delete: two keys in one object', Buffer.from(`<Delete><Object><Key>${OBJ}</Key><Key>dir/x.txt</Key></Object></Delete>`));
    del('Delete: a version id', Buffer.from(`<Delete><Object><Key>${OBJ}</Key><VersionId>not-a-version</VersionId></Object></Delete>`));
    del('Delete: Quiet not a boolean', Buffer.from(`<Delete><Quiet>yes</Quiet><Object><Key>${OBJ}</Key></Object></Delete>`));
    del('Delete: Quiet with markup hidden in CDATA', Buffer.from(`<Delete><Quiet>true<![CDATA[</x>]]></Quiet><Object><Key>${OBJ}</Key></Object></Delete>`));
    del('Delete: Quiet twice', Buffer.from(`<Delete><Quiet>true</Quiet><Quiet>false</Quiet><Object><Key>${OBJ}</Key></Object></Delete>`));
    del('Delete: Content-MD5 of other bytes', deleteXml([OBJ]), { headers: { 'content-md5': md5B64('other') } });
    del('Delete: Content-MD5 garbage', deleteXml([OBJ]), { headers: { 'content-md5': 'garbage' } });
    del('Delete: x-amz-checksum-crc32 wrong', deleteXml([OBJ]), { headers: { 'x-amz-checksum-crc32': 'AAAAAA==' } });
    del('Delete: x-amz-content-sha256 of other bytes', deleteXml([OBJ]), { payloadHash: sha256Hex('other') });
    // CompleteMultipartUpload of the fixture's upload: none may complete it.
    const complete = (label: string, body: Buffer) => variants.push(variantOf(s('CompleteMultipartUpload'), label, { body }));
    for (const [label, body] of xmlBodies('CompleteMultipartUpload', completeXml([[1, part1Etag]]))) complete(`Complete: ${label}`, body);
    complete('Complete: empty body', Buffer.alloc(0));
    complete('Complete: no parts', Buffer.from('<CompleteMultipartUpload></CompleteMultipartUpload>'));
    complete('Complete: parts out of order', completeXml([[2, part1Etag], [1, part1Etag]]));
    complete('Complete: a part twice', completeXml([[1, part1Etag], [1, part1Etag]]));
    complete('Complete: an unknown ETag', completeXml([[1, '"00000000000000000000000000000000"']]));
    complete('Complete: an ETag that is not hex', completeXml([[1, '"zz"']]));
    complete('Complete: part number 0', completeXml([[0, part1Etag]]));
    complete('Complete: part number 10001', completeXml([[10001, part1Etag]]));
    complete('Complete: part number -1', completeXml([[-1, part1Etag]]));
    complete('Complete: part number huge', Buffer.from(`<CompleteMultipartUpload><Part><PartNumber>99999999999999999999</PartNumber><ETag>${part1Etag}</ETag></Part></CompleteMultipartUpload>`));
    complete('Complete: part number not a number', Buffer.from(`<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>${part1Etag}</ETag></Part></CompleteMultipartUpload>`));
    complete('Complete: a part without an ETag', Buffer.from('<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>'));
    complete('Complete: a part not uploaded', completeXml([[1, part1Etag], [2, part1Etag]]));
    complete('Complete: a checksum that differs', Buffer.from(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${part1Etag}</ETag><ChecksumCRC32>!!</ChecksumCRC32></Part></CompleteMultipartUpload>`));
    complete('Complete: 10,001 parts', completeXml(Array.from({ length: 10_001 }, (_, i): [number, string] => [i + 1, part1Etag])));
    // A body where none is expected is ignored by S3; an XML bomb there is not parsed either.
    variants.push({ ...variantOf(s('AbortMultipartUpload'), 'a billion laughs body', { body: BILLION_LAUGHS }), query: 'uploadId=garbage' });
    await runVariants(variants, run);
    report(t, run);
  });

  test("no upload answers 5xx to aws-chunked bodies whose framing or lengths lie; errors are S3's error document and change nothing", async (t) => {
    const run = newRun();
    await runVariants(chunkedVariants(), run);
    report(t, run);
  });

  test('after every hostile request the fixture is intact and the server answers ordinary requests', async () => {
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: OBJ }));
    assert.equal(await got.Body!.transformToString(), OBJ_BODY);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    // The fixture, and what the variants S3 takes as valid wrote.
    assert.deepEqual(listed.Contents?.map((o) => o.Key), ['chunked.bin', 'dir/x.txt', MP_OBJ, OBJ, VALID_KEY]);
    const done = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: UP_KEY, UploadId: uploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part1Etag }] } }),
    );
    assert.ok(done.ETag);
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: UP_KEY }));
  });
});
