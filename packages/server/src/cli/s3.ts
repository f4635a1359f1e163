/**
 * Object Storage commands for people, in the manner of `aws s3`:
 *   stockade cp LOCAL s3://BUCKET/KEY | s3://BUCKET/KEY LOCAL   (`-` is stdin / stdout)
 *   stockade ls [s3://BUCKET[/PREFIX]] [--recursive]
 *   stockade mb s3://BUCKET
 *   stockade rb s3://BUCKET [--force]
 * Endpoint: --endpoint, else STOCKADE_ENDPOINT, else http://127.0.0.1:4580. Credentials:
 * --credentials FILE, else STOCKADE_ACCESS_KEY_ID / STOCKADE_SECRET_ACCESS_KEY, else
 * `<--data DIR>/credentials.json` (./.stockade/credentials.json).
 *
 * The AWS SDK is imported on use only (`loadAwsSdk`), so `stockade serve` never loads it. Errors become one
 * `stockade: …` line (exit 1; a bad command line exits 2, see main.ts).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ParseArgsConfig } from 'node:util';
import { parseCommandLine, UsageError } from './args.js';
import type * as S3 from '@aws-sdk/client-s3';
import { loadAwsSdk } from '../store/blobs-s3.js';


/** An error that is already one clear line. */
class CommandError extends Error {}

const DEFAULT_ENDPOINT = 'http://127.0.0.1:4580';
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;

const connection = {
  endpoint: { type: 'string' },
  credentials: { type: 'string' },
  data: { type: 'string' },
  region: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  return parseCommandLine(args, connection, options);
}

interface S3Url {
  bucket: string;
  key: string;
}

function isS3Url(s: string): boolean {
  return s.startsWith('s3://');
}

function parseS3Url(s: string): S3Url {
  if (!isS3Url(s)) throw new UsageError(`expected s3://BUCKET[/KEY], got ${JSON.stringify(s)}`);
  const rest = s.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  if (!bucket) throw new UsageError(`no bucket in ${JSON.stringify(s)}`);
  return { bucket, key };
}

function s3String(u: S3Url): string {
  return `s3://${u.bucket}/${u.key}`;
}

interface Connection {
  sdk: Awaited<ReturnType<typeof loadAwsSdk>>['sdk'];
  Upload: Awaited<ReturnType<typeof loadAwsSdk>>['Upload'];
  client: S3.S3Client;
  endpoint: string;
}

function credentialsFrom(values: { credentials?: string; data?: string }): { accessKeyId: string; secretAccessKey: string } {
  const readFile = (file: string, explicit: boolean) => {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new CommandError(`cannot read credentials file ${file}: ${(e as Error).message}`);
      throw new CommandError(
        explicit
          ? `credentials file ${file} does not exist`
          : `no credentials: ${file} does not exist (start \`stockade serve\` once, pass --credentials FILE or --data DIR, or set STOCKADE_ACCESS_KEY_ID and STOCKADE_SECRET_ACCESS_KEY)`,
      );
    }
    let c: { accessKeyId?: unknown; secretAccessKey?: unknown };
    try {
      c = JSON.parse(text) as typeof c;
    } catch {
      throw new CommandError(`credentials file ${file} is not JSON`);
    }
    if (typeof c.accessKeyId !== 'string' || typeof c.secretAccessKey !== 'string') {
      throw new CommandError(`credentials file ${file} has no accessKeyId and secretAccessKey`);
    }
    return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey };
  };
  if (values.credentials) return readFile(values.credentials, true);
  const env = process.env;
  if (env.STOCKADE_ACCESS_KEY_ID && env.STOCKADE_SECRET_ACCESS_KEY) {
    return { accessKeyId: env.STOCKADE_ACCESS_KEY_ID, secretAccessKey: env.STOCKADE_SECRET_ACCESS_KEY };
  }
  const dataDir = values.data ?? env.STOCKADE_DATA ?? '.stockade';
  return readFile(path.join(dataDir, 'credentials.json'), false);
}

interface ConnectionFlags {
  endpoint?: string;
  credentials?: string;
  data?: string;
  region?: string;
}

async function connect(values: ConnectionFlags): Promise<Connection> {
  const endpoint = values.endpoint ?? process.env.STOCKADE_ENDPOINT ?? DEFAULT_ENDPOINT;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UsageError(`--endpoint must be an http(s) URL, got ${JSON.stringify(endpoint)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--endpoint must be an http(s) URL, got ${JSON.stringify(endpoint)}`);
  const credentials = credentialsFrom(values);
  const { sdk, Upload } = await loadAwsSdk();
  const client = new sdk.S3Client({
    endpoint,
    region: values.region ?? process.env.STOCKADE_REGION ?? 'us-east-1',
    forcePathStyle: true,
    credentials,
  });
  return { sdk, Upload, client, endpoint };
}

/** Runs one of cp, ls, mb, rb. */
export async function s3Command(cmd: string, args: string[]): Promise<void> {
  switch (cmd) {
    case 'cp': {
      const { values, positionals } = parse(args, { 'no-progress': { type: 'boolean' } });
      const [from, to, extra] = positionals;
      if (from === undefined || to === undefined || extra !== undefined) throw new UsageError('usage: stockade cp LOCAL s3://BUCKET/KEY | stockade cp s3://BUCKET/KEY LOCAL');
      if (isS3Url(from) === isS3Url(to)) throw new UsageError('stockade cp copies between a local file (or -) and s3://BUCKET/KEY');
      const progress = !values['no-progress'] && process.stderr.isTTY === true;
      if (isS3Url(to)) {
        const target = parseS3Url(to);
        return run(values, to, (c) => upload(c, from, target, progress));
      }
      const source = parseS3Url(from);
      if (!source.key || source.key.endsWith('/')) throw new UsageError(`${from} names no object`);
      return run(values, from, (c) => download(c, source, to, progress && to !== '-'));
    }
    case 'ls': {
      const { values, positionals } = parse(args, { recursive: { type: 'boolean' } });
      if (positionals.length > 1) throw new UsageError('usage: stockade ls [s3://BUCKET[/PREFIX]]');
      const target = positionals[0] === undefined ? undefined : parseS3Url(positionals[0]);
      return run(values, positionals[0], (c) => (target ? listObjects(c, target, values.recursive === true) : listBuckets(c)));
    }
    case 'mb':
    case 'rb': {
      const { values, positionals } = parse(args, cmd === 'rb' ? { force: { type: 'boolean' } } : {});
      if (positionals.length !== 1) throw new UsageError(`usage: stockade ${cmd} s3://BUCKET`);
      const { bucket, key } = parseS3Url(positionals[0]!);
      if (key) throw new UsageError(`stockade ${cmd} takes a bucket, not a key: s3://${bucket}`);
      return run(values, `s3://${bucket}`, (c) =>
        cmd === 'mb' ? makeBucket(c, bucket) : removeBucket(c, bucket, (values as { force?: boolean }).force === true),
      );
    }
    default:
      throw new UsageError(`unknown command ${cmd}`);
  }
}

/** Connects, runs `fn`, turns whatever went wrong into one line. */
async function run(values: ConnectionFlags, what: string | undefined, fn: (c: Connection) => Promise<void>): Promise<void> {
  const c = await connect(values);
  try {
    await fn(c);
  } catch (e) {
    if (e instanceof UsageError || e instanceof CommandError) throw e;
    throw new CommandError(describeError(e, c.endpoint, what));
  } finally {
    c.client.destroy();
  }
}

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  errors?: { code?: string; message?: string }[];
  $metadata?: { httpStatusCode?: number };
}

/** One line for an SDK, network or file-system error. */
export function describeError(err: unknown, endpoint: string, what?: string): string {
  const e = (err ?? {}) as SdkError;
  const code = e.code ?? e.errors?.[0]?.code;
  if (code === 'ECONNREFUSED') return `cannot connect to ${endpoint}: connection refused (is \`stockade serve\` running?)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot connect to ${endpoint}: unknown host`;
  if (code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH') return `cannot connect to ${endpoint}: ${code}`;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined) {
    const name = e.name && e.name !== 'Error' && e.name !== 'UnknownError' ? e.name : `HTTP ${status}`;
    const msg = e.message && e.message !== 'UnknownError' && e.message !== name ? e.message : '';
    return `${name}${msg ? `: ${msg}` : ''}${what ? ` (${what})` : ''}`;
  }
  const msg = e.message || (e.errors?.[0]?.message ?? String(err));
  return msg.split('\n')[0]!;
}

// ---------------------------------------------------------------------------------------------
// Progress

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (x: number) => String(x).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

/** A single updating stderr line: bytes, bar, bytes/s and ETA. Inert when `enabled` is false. */
class Progress {
  #done = 0;
  #total: number | undefined;
  readonly #start = Date.now();
  readonly #timer: NodeJS.Timeout | undefined;
  #lastWidth = 0;

  constructor(
    readonly enabled: boolean,
    readonly label: string,
    total: number | undefined,
  ) {
    this.#total = total;
    if (enabled) {
      this.#render();
      this.#timer = setInterval(() => this.#render(), 200);
      this.#timer.unref();
    }
  }

  set(done: number, total?: number): void {
    this.#done = done;
    if (total !== undefined && total > 0) this.#total = total;
  }

  add(n: number): void {
    this.#done += n;
  }

  #render(): void {
    const elapsed = Math.max((Date.now() - this.#start) / 1000, 0.001);
    const rate = this.#done / elapsed;
    const total = this.#total;
    const eta = total !== undefined && rate > 0 ? (total - this.#done) / rate : NaN;
    const amount = total !== undefined ? `${formatBytes(this.#done)}/${formatBytes(total)}` : formatBytes(this.#done);
    const tail = ` ${amount} ${formatBytes(Math.round(rate))}/s ETA ${formatEta(eta)} ${this.label}`;
    const cols = process.stderr.columns || 80;
    let bar = '';
    if (total !== undefined && total > 0) {
      const width = 20;
      const filled = Math.min(width, Math.floor((this.#done / total) * width));
      bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor((this.#done / total) * 100)).padStart(3)}%`;
    }
    let line = `${bar}${tail}`;
    if (line.length > cols - 1) line = line.slice(0, cols - 1);
    const pad = this.#lastWidth > line.length ? ' '.repeat(this.#lastWidth - line.length) : '';
    this.#lastWidth = line.length;
    process.stderr.write(`\r${line}${pad}`);
  }

  /** Draws the final state and clears the line. */
  finish(): void {
    if (!this.enabled) return;
    clearInterval(this.#timer);
    this.#render();
    process.stderr.write('\r\x1b[K');
  }

  /** Clears the line without drawing (on error). */
  abandon(): void {
    if (!this.enabled) return;
    clearInterval(this.#timer);
    process.stderr.write('\r\x1b[K');
  }
}

/** Counts bytes flowing through. */
function counter(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      onBytes(chunk.length);
      cb(null, chunk);
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Commands

async function upload(c: Connection, local: string, target: S3Url, showProgress: boolean): Promise<void> {
  let body: Readable;
  let size: number | undefined;
  let key = target.key;
  if (local === '-') {
    if (!key || key.endsWith('/')) throw new UsageError(`uploading stdin needs a key: s3://${target.bucket}/KEY`);
    body = process.stdin;
  } else {
    let st: fs.Stats;
    try {
      st = await fsp.stat(local);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new CommandError(code === 'ENOENT' ? `${local}: no such file` : `${local}: ${(e as Error).message}`);
    }
    if (st.isDirectory()) throw new CommandError(`${local} is a directory (stockade cp copies one file)`);
    size = st.size;
    if (!key || key.endsWith('/')) key += path.basename(local);
    // Opened here so that an unreadable file is a clear error before any request.
    const fh = await fsp.open(local, 'r').catch((e: unknown) => {
      throw new CommandError(`${local}: ${(e as Error).message}`);
    });
    body = fh.createReadStream();
  }
  const dest: S3Url = { bucket: target.bucket, key };
  const progress = new Progress(showProgress, local === '-' ? 'stdin' : path.basename(local), size);
  const up = new c.Upload({
    client: c.client,
    params: { Bucket: dest.bucket, Key: dest.key, Body: body, ContentLength: size },
    partSize: PART_SIZE,
    queueSize: QUEUE_SIZE,
  });
  up.on('httpUploadProgress', (p) => progress.set(p.loaded ?? 0, p.total));
  try {
    await up.done();
  } catch (e) {
    progress.abandon();
    body.destroy();
    throw new CommandError(describeError(e, c.endpoint, s3String(dest)));
  }
  progress.set(size ?? 0);
  progress.finish();
  process.stdout.write(`upload: ${local} to ${s3String(dest)}\n`);
}

async function download(c: Connection, source: S3Url, local: string, showProgress: boolean): Promise<void> {
  let file: string | undefined;
  if (local !== '-') {
    file = local;
    const isDir = local.endsWith('/') || local.endsWith(path.sep) || (await fsp.stat(local).then((s) => s.isDirectory(), () => false));
    if (isDir) file = path.join(local, path.posix.basename(source.key));
  }
  const res = await c.client.send(new c.sdk.GetObjectCommand({ Bucket: source.bucket, Key: source.key })).catch((e: unknown) => {
    throw new CommandError(describeError(e, c.endpoint, s3String(source)));
  });
  const body = res.Body as Readable | undefined;
  if (!body) throw new CommandError(`no content in the response for ${s3String(source)}`);
  const progress = new Progress(showProgress, path.posix.basename(source.key), res.ContentLength);
  let out: Writable;
  let tmp: string | undefined;
  if (file === undefined) {
    out = process.stdout;
  } else {
    // Written next to the target and renamed into place: a failed download leaves no partial file.
    tmp = path.join(path.dirname(file), `.${path.basename(file)}.stockade-${randomBytes(4).toString('hex')}`);
    out = fs.createWriteStream(tmp, { flags: 'wx' });
  }
  try {
    if (file === undefined) {
      // stdout is not ended: `pipeline` must not close fd 1 under other writers.
      await pipeline(body, counter((n) => progress.add(n)), out, { end: false });
    } else {
      await pipeline(body, counter((n) => progress.add(n)), out);
      await fsp.rename(tmp!, file);
    }
  } catch (e) {
    progress.abandon();
    if (tmp) await fsp.rm(tmp, { force: true }).catch(() => undefined);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') return; // the reader of stdout went away (`| head`)
    if (file !== undefined && (code === 'ENOENT' || code === 'ENOTDIR')) {
      throw new CommandError(`cannot write ${file}: no directory ${path.dirname(file)}`);
    }
    if (file !== undefined && (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')) {
      throw new CommandError(`cannot write ${file}: permission denied`);
    }
    throw e;
  }
  progress.finish();
  if (file !== undefined) process.stdout.write(`download: ${s3String(source)} to ${file}\n`);
}

/** `2024-01-02 03:04:05` in local time, as `aws s3 ls` prints it. */
function formatDate(d: Date | undefined): string {
  if (!d) return ' '.repeat(19);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

async function listBuckets(c: Connection): Promise<void> {
  const res = await c.client.send(new c.sdk.ListBucketsCommand({}));
  const lines = (res.Buckets ?? []).map((b) => `${formatDate(b.CreationDate)} ${b.Name ?? ''}\n`);
  process.stdout.write(lines.join(''));
}

async function listObjects(c: Connection, target: S3Url, recursive: boolean): Promise<void> {
  const prefix = target.key;
  // Names print relative to the prefix's "directory", like `aws s3 ls`.
  const base = recursive ? '' : prefix.slice(0, prefix.lastIndexOf('/') + 1);
  let token: string | undefined;
  do {
    const page = await c.client.send(
      new c.sdk.ListObjectsV2Command({
        Bucket: target.bucket,
        Prefix: prefix || undefined,
        Delimiter: recursive ? undefined : '/',
        ContinuationToken: token,
      }),
    );
    const lines: string[] = [];
    for (const p of page.CommonPrefixes ?? []) lines.push(`${' '.repeat(27)}PRE ${(p.Prefix ?? '').slice(base.length)}\n`);
    for (const o of page.Contents ?? []) {
      lines.push(`${formatDate(o.LastModified)} ${String(o.Size ?? 0).padStart(10)} ${(o.Key ?? '').slice(base.length)}\n`);
    }
    process.stdout.write(lines.join(''));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

async function makeBucket(c: Connection, bucket: string): Promise<void> {
  await c.client.send(new c.sdk.CreateBucketCommand({ Bucket: bucket }));
  process.stdout.write(`make_bucket: ${bucket}\n`);
}

async function removeBucket(c: Connection, bucket: string, force: boolean): Promise<void> {
  const deleteBucket = async () => {
    try {
      await c.client.send(new c.sdk.DeleteBucketCommand({ Bucket: bucket }));
      return true;
    } catch (e) {
      if ((e as SdkError).name === 'BucketNotEmpty') return false;
      throw e;
    }
  };
  if (force) await emptyBucket(c, bucket, false);
  let removed = await deleteBucket();
  if (!removed && force) {
    // Versioned bucket: old versions and delete markers keep it non-empty.
    await emptyBucket(c, bucket, true);
    removed = await deleteBucket();
  }
  if (!removed) {
    throw new CommandError(
      force
        ? `bucket ${bucket} is still not empty after deleting its objects (concurrent writers?)`
        : `bucket ${bucket} is not empty: delete its objects first, or use \`stockade rb --force s3://${bucket}\``,
    );
  }
  process.stdout.write(`remove_bucket: ${bucket}\n`);
}

/** Deletes every current object, or with `versions` every object version and delete marker. */
async function emptyBucket(c: Connection, bucket: string, versions: boolean): Promise<void> {
  const deleteKeys = async (ids: S3.ObjectIdentifier[]) => {
    if (ids.length === 0) return;
    let failed: S3.ObjectIdentifier[] = ids;
    try {
      const res = await c.client.send(new c.sdk.DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: ids, Quiet: true } }));
      const errs = res.Errors ?? [];
      if (errs.length > 0) {
        const first = errs[0]!;
        throw new CommandError(`cannot delete s3://${bucket}/${first.Key ?? ''}: ${first.Code ?? ''} ${first.Message ?? ''}`.trim());
      }
      failed = [];
    } catch (e) {
      // A server without the batch operation: one by one.
      const status = (e as SdkError).$metadata?.httpStatusCode;
      if (!(status === 501 || (e as SdkError).name === 'NotImplemented')) throw e;
    }
    for (const id of failed) await c.client.send(new c.sdk.DeleteObjectCommand({ Bucket: bucket, Key: id.Key, VersionId: id.VersionId }));
    for (const id of ids) process.stdout.write(`delete: s3://${bucket}/${id.Key ?? ''}\n`);
  };

  if (!versions) {
    for (;;) {
      // Always the first page: what was listed before is gone.
      const page = await c.client.send(new c.sdk.ListObjectsV2Command({ Bucket: bucket }));
      const ids = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (ids.length === 0) return;
      await deleteKeys(ids);
      if (!page.IsTruncated) return;
    }
  }
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  for (;;) {
    let page: S3.ListObjectVersionsCommandOutput;
    try {
      page = await c.client.send(
        new c.sdk.ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionMarker }),
      );
    } catch (e) {
      const status = (e as SdkError).$metadata?.httpStatusCode;
      if (status === 501 || (e as SdkError).name === 'NotImplemented') return; // no versions to list
      throw e;
    }
    const ids = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId }));
    await deleteKeys(ids);
    if (!page.IsTruncated) return;
    keyMarker = page.NextKeyMarker;
    versionMarker = page.NextVersionIdMarker;
  }
}
