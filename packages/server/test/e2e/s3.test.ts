/**
 * Object Storage (S3 API) over a real socket, driven by the official AWS SDK v3 configured with
 * nothing but endpoint, path style, region and credentials; raw signed requests for what the SDK
 * would not send (virtual-host addressing, Content-MD5, malformed XML, anonymous requests).
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import {
  S3Client,
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketAclCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type GetObjectCommandInput,
  type PutObjectCommandInput,
  type ServerSideEncryption,
  type StorageClass,
  type TaggingDirective,
  type GetObjectCommandOutput,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Hash } from '@smithy/hash-node';
import { DatafenceClient } from '@stockade/sdk';
import { filesUnder, rejectsS3 } from '../helpers/s3.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { SMALL_READ_BYTES } from '../../src/services/s3/content.js';
import { S3Repository } from '../../src/services/s3/repository.js';
import type { LocalBlobStore } from '../../src/store/blobs.js';

const MiB = 1024 * 1024;

let srv: TestServer;
let s3: S3Client;
let other: { accountId: string; accessKeyId: string; secretAccessKey: string };
let s3Other: S3Client;

function client(creds: { accessKeyId: string; secretAccessKey: string }): S3Client {
  return new S3Client({ endpoint: srv.url, forcePathStyle: true, region: 'us-east-1', credentials: creds });
}

before(async () => {
  srv = await startTestServer('s3');
  s3 = client(srv);
  other = await srv.newAccount('other');
  s3Other = client(other);
});
after(async () => {
  s3.destroy();
  s3Other.destroy();
  await srv.close();
});

const md5hex = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
let bucketSeq = 0;
const bucketName = (tag: string) => `${tag}-${process.pid}-${++bucketSeq}`;

async function newBucket(tag: string): Promise<string> {
  const b = bucketName(tag);
  await s3.send(new CreateBucketCommand({ Bucket: b }));
  return b;
}


async function getBytes(input: GetObjectCommandInput, c = s3): Promise<{ body: Buffer; out: GetObjectCommandOutput }> {
  const out = await c.send(new GetObjectCommand(input));
  const body = Buffer.from(await out.Body!.transformToByteArray());
  return { body, out };
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw SigV4-signed request (signed by the SDK's own signer), sent with exactly these headers. */
async function raw(
  method: string,
  path: string,
  opts: {
    query?: Record<string, string>;
    headers?: Record<string, string>;
    body?: string | Buffer;
    host?: string;
    secret?: string;
    sign?: boolean;
    region?: string;
  } = {},
): Promise<RawResponse> {
  const url = new URL(srv.url);
  const host = opts.host ?? url.host;
  const body = opts.body === undefined ? Buffer.alloc(0) : Buffer.from(opts.body);
  let headers: Record<string, string> = {
    host,
    'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
    ...opts.headers,
  };
  if (opts.sign !== false) {
    const signer = new SignatureV4({
      service: 's3',
      region: opts.region ?? 'us-east-1',
      credentials: { accessKeyId: srv.accessKeyId, secretAccessKey: opts.secret ?? srv.secretAccessKey },
      sha256: Hash.bind(null, 'sha256'),
      uriEscapePath: false,
    });
    const signed = await signer.sign(
      new HttpRequest({ method, protocol: 'http:', hostname: host.replace(/:\d+$/, ''), port: Number(url.port), path, query: opts.query ?? {}, headers, body }),
    );
    headers = signed.headers;
  }
  const qs = Object.entries(opts.query ?? {})
    .map(([k, v]) => (v === '' ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`))
    .join('&');
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method, path: qs ? `${path}?${qs}` : path, headers: { ...headers, 'content-length': String(body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const codeOf = (xml: string) => /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
/** An error document's message, its character escapes decoded. */
const messageOf = (xml: string) =>
  (/<Message>([^<]*)<\/Message>/.exec(xml)?.[1] ?? '').replace(/&(apos|quot|lt|gt|amp);/g, (_m, e: string) =>
    ({ apos: "'", quot: '"', lt: '<', gt: '>', amp: '&' })[e as 'apos'],
  );

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

describe('buckets', () => {
  test('create, head, location, list, delete only when empty', async () => {
    const b = await newBucket('life');
    const head = await s3.send(new HeadBucketCommand({ Bucket: b }));
    assert.equal(head.BucketRegion, 'us-east-1');
    assert.ok(head.$metadata.requestId, 'x-amz-request-id');
    assert.ok(head.$metadata.extendedRequestId, 'x-amz-id-2');
    const loc = await s3.send(new GetBucketLocationCommand({ Bucket: b }));
    assert.ok(!loc.LocationConstraint, 'us-east-1 has an empty LocationConstraint');

    const eu = bucketName('eu');
    await s3.send(new CreateBucketCommand({ Bucket: eu, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    assert.equal((await s3.send(new GetBucketLocationCommand({ Bucket: eu }))).LocationConstraint, 'eu-west-1');

    const list = await s3.send(new ListBucketsCommand({}));
    const names = list.Buckets!.map((x) => x.Name);
    assert.ok(names.includes(b) && names.includes(eu));
    assert.equal(list.Owner?.ID, srv.accountId);
    assert.ok(list.Buckets!.every((x) => x.CreationDate instanceof Date));

    await rejectsS3(s3.send(new CreateBucketCommand({ Bucket: b })), 409, 'BucketAlreadyOwnedByYou');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'x', Body: 'x' }));
    await rejectsS3(s3.send(new DeleteBucketCommand({ Bucket: b })), 409, 'BucketNotEmpty');
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'x' }));
    await s3.send(new DeleteBucketCommand({ Bucket: b }));
    await rejectsS3(s3.send(new HeadBucketCommand({ Bucket: b })), 404);
    await rejectsS3(s3.send(new DeleteBucketCommand({ Bucket: b })), 404, 'NoSuchBucket');
    await rejectsS3(s3.send(new ListObjectsV2Command({ Bucket: b })), 404, 'NoSuchBucket');
    await s3.send(new DeleteBucketCommand({ Bucket: eu }));
  });

  test('bucket names follow the S3 rules', async () => {
    for (const bad of ['ab', 'Upper-case', 'under_score', 'a..b', '192.168.1.1', '-start', 'end-', 'x'.repeat(64)]) {
      await rejectsS3(s3.send(new CreateBucketCommand({ Bucket: bad })), 400, 'InvalidBucketName');
    }
    const ok = `a.b-${process.pid}`;
    await s3.send(new CreateBucketCommand({ Bucket: ok }));
    await s3.send(new DeleteBucketCommand({ Bucket: ok }));
  });

  test("another account's bucket: BucketAlreadyExists, and AccessDenied for every operation", async () => {
    const b = await newBucket('mine');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'secret' }));
    await rejectsS3(s3Other.send(new CreateBucketCommand({ Bucket: b })), 409, 'BucketAlreadyExists');
    await rejectsS3(s3Other.send(new HeadBucketCommand({ Bucket: b })), 403);
    await rejectsS3(s3Other.send(new GetObjectCommand({ Bucket: b, Key: 'k' })), 403, 'AccessDenied');
    await rejectsS3(s3Other.send(new HeadObjectCommand({ Bucket: b, Key: 'k' })), 403);
    await rejectsS3(s3Other.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' })), 403, 'AccessDenied');
    await rejectsS3(s3Other.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' })), 403, 'AccessDenied');
    await rejectsS3(s3Other.send(new ListObjectsV2Command({ Bucket: b })), 403, 'AccessDenied');
    await rejectsS3(s3Other.send(new DeleteBucketCommand({ Bucket: b })), 403, 'AccessDenied');
    await rejectsS3(s3Other.send(new GetBucketLocationCommand({ Bucket: b })), 403, 'AccessDenied');
    await rejectsS3(s3Other.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'k' })), 403, 'AccessDenied');
    // Copying out of it into the other account's own bucket is denied too.
    const theirs = bucketName('theirs');
    await s3Other.send(new CreateBucketCommand({ Bucket: theirs }));
    await rejectsS3(s3Other.send(new CopyObjectCommand({ Bucket: theirs, Key: 'stolen', CopySource: `${b}/k` })), 403, 'AccessDenied');
    const mine = (await s3.send(new ListBucketsCommand({}))).Buckets!.map((x) => x.Name);
    assert.ok(!mine.includes(theirs));
    // The object is intact.
    assert.equal((await getBytes({ Bucket: b, Key: 'k' })).body.toString(), 'secret');
  });

  test('get-bucket-list (Datafence) shows the buckets created through S3 at once', async () => {
    const b = await newBucket('df');
    const list = await new DatafenceClient(srv.creds).getBucketList({});
    assert.ok(Array.isArray(list));
    assert.deepEqual(
      list.find((x) => x.name === b),
      { name: b, enableable: true },
    );
    const theirs = await new DatafenceClient({ ...srv.creds, accessKeyId: other.accessKeyId, secretAccessKey: other.secretAccessKey }).getBucketList({});
    assert.ok(!theirs.some((x) => x.name === b), "another account's list does not show it");
  });
});

describe('authentication and routing', () => {
  test('anonymous → 403 AccessDenied; wrong secret → 403 SignatureDoesNotMatch; unknown key → InvalidAccessKeyId', async () => {
    const b = await newBucket('auth');
    const anon = await raw('GET', `/${b}`, { sign: false });
    assert.equal(anon.status, 403);
    assert.equal(codeOf(anon.body), 'AccessDenied');
    assert.ok(anon.headers['x-amz-request-id']);
    const bad = await raw('GET', `/${b}`, { secret: 'not-the-secret' });
    assert.equal(bad.status, 403);
    assert.equal(codeOf(bad.body), 'SignatureDoesNotMatch');
    await rejectsS3(
      client({ accessKeyId: srv.accessKeyId, secretAccessKey: 'wrong' }).send(new ListObjectsV2Command({ Bucket: b })),
      403,
      'SignatureDoesNotMatch',
    );
    await rejectsS3(client({ accessKeyId: 'STKNOSUCHKEY00000000', secretAccessKey: 'x' }).send(new ListBucketsCommand({})), 403, 'InvalidAccessKeyId');
  });

  test('a credential scope naming a region the server does not serve → 400 AuthorizationHeaderMalformed naming the region', async () => {
    const b = await newBucket('region');
    const r = await raw('GET', `/${b}`, { region: 'eu-west-1' });
    assert.equal(r.status, 400);
    assert.equal(codeOf(r.body), 'AuthorizationHeaderMalformed');
    assert.equal(messageOf(r.body), "The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1'");
    assert.match(r.body, /<Region>us-east-1<\/Region>/);
    const elsewhere = new S3Client({ endpoint: srv.url, forcePathStyle: true, region: 'ap-northeast-2', credentials: srv, maxAttempts: 1 });
    try {
      await rejectsS3(elsewhere.send(new ListBucketsCommand({})), 400, 'AuthorizationHeaderMalformed');
      const url = await getSignedUrl(elsewhere, new GetObjectCommand({ Bucket: b, Key: 'k' }), { expiresIn: 60 });
      const presigned = await fetch(url);
      const text = await presigned.text();
      assert.equal(presigned.status, 400);
      assert.equal(codeOf(text), 'AuthorizationQueryParametersError');
      assert.equal(messageOf(text), "Error parsing the X-Amz-Credential parameter; the region 'ap-northeast-2' is wrong; expecting 'us-east-1'");
      assert.match(text, /<Region>us-east-1<\/Region>/);
    } finally {
      elsewhere.destroy();
    }
    assert.equal((await raw('GET', `/${b}`)).status, 200);
  });

  test('--s3-region lists the regions served: each is accepted, the first is the one named in errors', async () => {
    const regional = await startTestServer('s3_regions', { config: { s3Regions: ['eu-central-1', 'ap-northeast-2'] } });
    const at = (region: string) =>
      new S3Client({ endpoint: regional.url, forcePathStyle: true, region, credentials: regional, maxAttempts: 1 });
    const clients = ['eu-central-1', 'ap-northeast-2', 'us-east-1'].map(at);
    try {
      const [eu, kr, us] = clients as [S3Client, S3Client, S3Client];
      await eu.send(new CreateBucketCommand({ Bucket: 'regional-eu' }));
      assert.ok((await kr.send(new ListBucketsCommand({}))).Buckets?.some((x) => x.Name === 'regional-eu' && x.BucketRegion === 'eu-central-1'));
      const e = await rejectsS3(us.send(new ListBucketsCommand({})), 400, 'AuthorizationHeaderMalformed');
      assert.match(e.message, /the region 'us-east-1' is wrong; expecting 'eu-central-1'/);
    } finally {
      for (const c of clients) c.destroy();
      await regional.close();
    }
  });

  test('presigned URLs: GET and PUT without an Authorization header', async () => {
    const b = await newBucket('presign');
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: b, Key: 'p.txt' }), { expiresIn: 300 });
    const put = await fetch(putUrl, { method: 'PUT', body: 'presigned body' });
    assert.equal(put.status, 200, await put.text());
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: b, Key: 'p.txt' }), { expiresIn: 300 });
    const get = await fetch(getUrl);
    assert.equal(get.status, 200);
    assert.equal(await get.text(), 'presigned body');
    const tampered = await fetch(getUrl.replace('p.txt', 'q.txt'));
    assert.equal(tampered.status, 403);
  });

  test('virtual-host style: Host {bucket}.s3.<host> addresses the bucket', async () => {
    const b = await newBucket('vhost');
    const port = new URL(srv.url).port;
    const host = `${b}.s3.localhost:${port}`;
    const put = await raw('PUT', '/dir/hello.txt', { host, body: 'hello vhost', headers: { 'content-type': 'text/plain' } });
    assert.equal(put.status, 200, put.body);
    assert.equal(put.headers.etag, `"${md5hex(Buffer.from('hello vhost'))}"`);
    const get = await raw('GET', '/dir/hello.txt', { host });
    assert.equal(get.status, 200);
    assert.equal(get.body, 'hello vhost');
    assert.equal(get.headers['content-type'], 'text/plain');
    const list = await raw('GET', '/', { host, query: { 'list-type': '2' } });
    assert.equal(list.status, 200);
    assert.match(list.body, /<Key>dir\/hello.txt<\/Key>/);
    assert.match(list.body, /xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/"/);
    // And the SDK (path style) sees the same object.
    assert.equal((await getBytes({ Bucket: b, Key: 'dir/hello.txt' })).body.toString(), 'hello vhost');
  });

  test('unknown sub-resource → 501 NotImplemented; wrong method → 405 MethodNotAllowed; errors carry request ids', async () => {
    const b = await newBucket('route');
    await rejectsS3(s3.send(new GetBucketAclCommand({ Bucket: b })), 501, 'NotImplemented');
    const post = await raw('POST', `/${b}/some-key`);
    assert.equal(post.status, 405);
    assert.equal(codeOf(post.body), 'MethodNotAllowed');
    const patch = await raw('PATCH', `/${b}`);
    assert.equal(patch.status, 405);
    const missing = await raw('GET', `/${b}/nope`);
    assert.equal(missing.status, 404);
    assert.equal(codeOf(missing.body), 'NoSuchKey');
    assert.ok(missing.headers['x-amz-request-id'] && missing.headers['x-amz-id-2']);
    assert.match(missing.body, /<RequestId>[^<]+<\/RequestId>/);
    const head = await raw('HEAD', `/${b}/nope`);
    assert.equal(head.status, 404);
    assert.equal(head.body, '', 'HEAD errors have no body');
  });
});

describe('roles', () => {
  test('a box-user key gets AccessDenied on every S3 operation and changes nothing', async () => {
    const b = await newBucket('roles');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'data.csv', Body: 'secret,rows' }));
    const analyst = client(await srv.newKey('box-user'));
    try {
      await rejectsS3(analyst.send(new ListBucketsCommand({})), 403, 'AccessDenied');
      await rejectsS3(analyst.send(new CreateBucketCommand({ Bucket: bucketName('analyst') })), 403, 'AccessDenied');
      await rejectsS3(analyst.send(new HeadBucketCommand({ Bucket: b })), 403);
      await rejectsS3(analyst.send(new ListObjectsV2Command({ Bucket: b })), 403, 'AccessDenied');
      await rejectsS3(analyst.send(new GetObjectCommand({ Bucket: b, Key: 'data.csv' })), 403, 'AccessDenied');
      await rejectsS3(analyst.send(new PutObjectCommand({ Bucket: b, Key: 'leak.csv', Body: 'x' })), 403, 'AccessDenied');
      await rejectsS3(analyst.send(new CopyObjectCommand({ Bucket: b, Key: 'copy.csv', CopySource: `${b}/data.csv` })), 403, 'AccessDenied');
      await rejectsS3(analyst.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'big' })), 403, 'AccessDenied');
      await rejectsS3(analyst.send(new DeleteObjectCommand({ Bucket: b, Key: 'data.csv' })), 403, 'AccessDenied');
      await rejectsS3(analyst.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'data.csv' }] } })), 403, 'AccessDenied');
      await rejectsS3(analyst.send(new DeleteBucketCommand({ Bucket: b })), 403, 'AccessDenied');
      const url = await getSignedUrl(analyst, new GetObjectCommand({ Bucket: b, Key: 'data.csv' }), { expiresIn: 60 });
      const presigned = await fetch(url);
      assert.equal(presigned.status, 403);
      assert.equal(codeOf(await presigned.text()), 'AccessDenied');
    } finally {
      analyst.destroy();
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: b }));
    assert.deepEqual(listed.Contents?.map((o) => o.Key), ['data.csv']);
    assert.equal((await getBytes({ Bucket: b, Key: 'data.csv' })).body.toString(), 'secret,rows');
    assert.equal((await s3.send(new ListBucketsCommand({}))).Buckets?.some((x) => x.Name?.startsWith('analyst-')), false);
  });

  test('a fence-admin key uses S3 (export review reads and writes objects)', async () => {
    const admin = client(await srv.newKey('fence-admin'));
    try {
      const b = bucketName('admin');
      await admin.send(new CreateBucketCommand({ Bucket: b }));
      await admin.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v' }));
      assert.equal((await getBytes({ Bucket: b, Key: 'k' }, admin)).body.toString(), 'v');
    } finally {
      admin.destroy();
    }
  });
});

describe('objects', () => {
  let b: string;
  before(async () => {
    b = await newBucket('obj');
  });

  test('put/get/head: user metadata and content headers round trip', async () => {
    const body = Buffer.from('héllo wörld');
    const expires = new Date('2030-01-02T03:04:05Z');
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: b,
        Key: 'docs/a file+name.txt',
        Body: body,
        ContentType: 'text/plain; charset=utf-8',
        ContentDisposition: 'attachment; filename="a.txt"',
        CacheControl: 'max-age=60',
        ContentEncoding: 'identity',
        ContentLanguage: 'ko-KR',
        Expires: expires,
        Metadata: { project: 'stockade', 'x-thing': 'Two Words' },
      }),
    );
    assert.equal(put.ETag, `"${md5hex(body)}"`);
    assert.ok(put.$metadata.requestId);
    const { body: got, out } = await getBytes({ Bucket: b, Key: 'docs/a file+name.txt' });
    assert.deepEqual(got, body);
    assert.equal(out.ETag, put.ETag);
    assert.equal(out.ContentType, 'text/plain; charset=utf-8');
    assert.equal(out.ContentDisposition, 'attachment; filename="a.txt"');
    assert.equal(out.CacheControl, 'max-age=60');
    assert.equal(out.ContentEncoding, 'identity');
    assert.equal(out.ContentLanguage, 'ko-KR');
    assert.equal(out.Expires?.getTime(), expires.getTime());
    assert.deepEqual(out.Metadata, { project: 'stockade', 'x-thing': 'Two Words' });
    assert.equal(out.ContentLength, body.length);
    assert.equal(out.AcceptRanges, 'bytes');
    assert.ok(out.LastModified instanceof Date);
    const over = await getBytes({
      Bucket: b,
      Key: 'docs/a file+name.txt',
      ResponseContentType: 'application/x-override',
      ResponseContentDisposition: 'inline',
      ResponseCacheControl: 'no-store',
    });
    assert.equal(over.out.ContentType, 'application/x-override');
    assert.equal(over.out.ContentDisposition, 'inline');
    assert.equal(over.out.CacheControl, 'no-store');
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'docs/a file+name.txt' }));
    assert.equal(head.ContentLength, body.length);
    assert.equal(head.ETag, put.ETag);
    assert.deepEqual(head.Metadata, out.Metadata);
    assert.equal(head.ContentType, 'text/plain; charset=utf-8');
  });

  test('checksums: stored, returned with x-amz-checksum-mode, verified by the SDK', async () => {
    const body = randomBytes(100_000);
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'sum', Body: body, ChecksumAlgorithm: 'SHA256' }));
    const sha = createHash('sha256').update(body).digest('base64');
    assert.equal(put.ChecksumSHA256, sha);
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'sum', ChecksumMode: 'ENABLED' }));
    assert.equal(head.ChecksumSHA256, sha);
    const { body: got, out } = await getBytes({ Bucket: b, Key: 'sum', ChecksumMode: 'ENABLED' });
    assert.deepEqual(got, body);
    assert.equal(out.ChecksumSHA256, sha);
    // A wrong declared checksum is refused and nothing is stored.
    const bad = await raw('PUT', `/${b}/badsum`, {
      body: 'abc',
      headers: { 'x-amz-checksum-sha256': createHash('sha256').update('abd').digest('base64') },
    });
    assert.equal(bad.status, 400);
    assert.equal(codeOf(bad.body), 'BadDigest');
    const badMd5 = await raw('PUT', `/${b}/badsum`, { body: 'abc', headers: { 'content-md5': createHash('md5').update('abd').digest('base64') } });
    assert.equal(badMd5.status, 400);
    assert.equal(codeOf(badMd5.body), 'BadDigest');
    await rejectsS3(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'badsum' })), 404);
  });

  test('empty objects, keys up to 1024 bytes, KeyTooLongError beyond', async () => {
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'empty', Body: new Uint8Array(0), ContentLength: 0 }));
    const { body, out } = await getBytes({ Bucket: b, Key: 'empty' });
    assert.equal(body.length, 0);
    assert.equal(out.ETag, `"${md5hex(Buffer.alloc(0))}"`);
    const longKey = 'k/' + 'é'.repeat(511); // 2 + 1022 = 1024 bytes
    await s3.send(new PutObjectCommand({ Bucket: b, Key: longKey, Body: 'long' }));
    assert.equal((await getBytes({ Bucket: b, Key: longKey })).body.toString(), 'long');
    await rejectsS3(s3.send(new PutObjectCommand({ Bucket: b, Key: longKey + 'x', Body: 'x' })), 400, 'KeyTooLongError');
  });

  test('a key, prefix or copy source holding U+0000 is 400 InvalidArgument on every database, and nothing is stored', async () => {
    await rejectsS3(s3.send(new PutObjectCommand({ Bucket: b, Key: 'nul\u0000key', Body: 'x' })), 400, 'InvalidArgument');
    await rejectsS3(s3.send(new GetObjectCommand({ Bucket: b, Key: 'nul\u0000key' })), 400, 'InvalidArgument');
    await rejectsS3(s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'nul\u0000' })), 400, 'InvalidArgument');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'nul-source', Body: 'x' }));
    await rejectsS3(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'nul-copy', CopySource: `${b}/nul-source%00` })), 400, 'InvalidArgument');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'nul' }));
    assert.deepEqual((listed.Contents ?? []).map((o) => o.Key), ['nul-source']);
  });

  test('a versionId other than null is 400 InvalidArgument: DeleteObject deletes nothing, GetObject and HeadObject read nothing', async () => {
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'versioned', Body: 'keep me' }));
    await rejectsS3(s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'versioned', VersionId: 'not-a-version' })), 400, 'InvalidArgument');
    await rejectsS3(s3.send(new GetObjectCommand({ Bucket: b, Key: 'versioned', VersionId: 'not-a-version' })), 400, 'InvalidArgument');
    await rejectsS3(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'versioned', VersionId: 'not-a-version' })), 400);
    const batch = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'versioned', VersionId: 'not-a-version' }] } }));
    assert.deepEqual(batch.Errors?.map((e) => [e.Key, e.VersionId, e.Code]), [['versioned', 'not-a-version', 'NoSuchVersion']]);
    assert.equal(batch.Deleted, undefined);
    // `null`, the version id of every object in an unversioned bucket, names the object.
    assert.equal((await getBytes({ Bucket: b, Key: 'versioned', VersionId: 'null' })).body.toString(), 'keep me');
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'versioned', VersionId: 'null' }));
    await rejectsS3(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'versioned' })), 404);
  });

  test('storage class, server-side encryption and tags S3 refuses are refused before anything is stored', async () => {
    const blobsDir = path.join(srv.app.ctx.config.dataDir, 'blobs');
    const files = (await filesUnder(blobsDir)).length;
    const put = (extra: Partial<PutObjectCommandInput>) => s3.send(new PutObjectCommand({ Bucket: b, Key: 'options', Body: 'x', ...extra }));
    await rejectsS3(put({ StorageClass: 'HOSTILE' as StorageClass }), 400, 'InvalidStorageClass');
    await rejectsS3(put({ ServerSideEncryption: 'rot13' as ServerSideEncryption }), 400, 'InvalidArgument');
    await rejectsS3(put({ Tagging: '%zz=1' }), 400, 'InvalidArgument');
    await rejectsS3(put({ Tagging: 'a=1&a=2' }), 400, 'InvalidArgument');
    await rejectsS3(put({ Tagging: 'a=1&=2' }), 400, 'InvalidTag');
    await rejectsS3(put({ Tagging: `${'k'.repeat(129)}=v` }), 400, 'InvalidTag');
    await rejectsS3(put({ Tagging: `k=${'v'.repeat(257)}` }), 400, 'InvalidTag');
    await rejectsS3(put({ Tagging: Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&') }), 400, 'BadRequest');
    await rejectsS3(s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'options', StorageClass: 'HOSTILE' as StorageClass })), 400, 'InvalidStorageClass');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'options-src', Body: 'src' }));
    const afterSource = (await filesUnder(blobsDir)).length;
    await rejectsS3(
      s3.send(new CopyObjectCommand({ Bucket: b, Key: 'options', CopySource: `${b}/options-src`, TaggingDirective: 'MERGE' as TaggingDirective })),
      400,
      'InvalidArgument',
    );
    await rejectsS3(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'options', CopySource: `${b}/options-src`, StorageClass: 'HOSTILE' as StorageClass })), 400, 'InvalidStorageClass');
    await rejectsS3(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'options' })), 404);
    assert.equal(afterSource, files + 1);
    assert.equal((await filesUnder(blobsDir)).length, afterSource);
    // What S3 takes is taken (the objects here are all STANDARD; tags are not kept).
    await put({ StorageClass: 'STANDARD', ServerSideEncryption: 'AES256', Tagging: 'team=data&note=a%20b' });
  });

  test('CopyObject with REPLACE metadata over 2 KB is MetadataTooLarge and leaves no copied content behind', async () => {
    const blobsDir = path.join(srv.app.ctx.config.dataDir, 'blobs');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'meta-src', Body: 'source bytes' }));
    const files = (await filesUnder(blobsDir)).length;
    await rejectsS3(
      s3.send(new CopyObjectCommand({ Bucket: b, Key: 'meta-copy', CopySource: `${b}/meta-src`, MetadataDirective: 'REPLACE', Metadata: { big: 'm'.repeat(2100) } })),
      400,
      'MetadataTooLarge',
    );
    await rejectsS3(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'meta-copy' })), 404);
    assert.equal((await filesUnder(blobsDir)).length, files);
  });

  test('conditional GET/HEAD: If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'cond', Body: 'conditional' }));
    const etag = put.ETag!;
    const past = new Date(Date.now() - 3600_000);
    const future = new Date(Date.now() + 3600_000);
    assert.equal((await getBytes({ Bucket: b, Key: 'cond', IfMatch: etag })).body.toString(), 'conditional');
    await rejectsS3(s3.send(new GetObjectCommand({ Bucket: b, Key: 'cond', IfMatch: '"0000"' })), 412, 'PreconditionFailed');
    await rejectsS3(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'cond', IfMatch: '"0000"' })), 412);
    await rejectsS3(s3.send(new GetObjectCommand({ Bucket: b, Key: 'cond', IfNoneMatch: etag })), 304);
    await rejectsS3(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'cond', IfNoneMatch: etag })), 304);
    assert.equal((await getBytes({ Bucket: b, Key: 'cond', IfNoneMatch: '"0000"' })).body.toString(), 'conditional');
    await rejectsS3(s3.send(new GetObjectCommand({ Bucket: b, Key: 'cond', IfModifiedSince: future })), 304);
    assert.equal((await getBytes({ Bucket: b, Key: 'cond', IfModifiedSince: past })).body.toString(), 'conditional');
    await rejectsS3(s3.send(new GetObjectCommand({ Bucket: b, Key: 'cond', IfUnmodifiedSince: past })), 412, 'PreconditionFailed');
    assert.equal((await getBytes({ Bucket: b, Key: 'cond', IfUnmodifiedSince: future })).body.toString(), 'conditional');
    // If-Match wins over If-Unmodified-Since; If-None-Match over If-Modified-Since.
    assert.equal((await getBytes({ Bucket: b, Key: 'cond', IfMatch: etag, IfUnmodifiedSince: past })).body.toString(), 'conditional');
    assert.equal((await getBytes({ Bucket: b, Key: 'cond', IfNoneMatch: '"0000"', IfModifiedSince: future })).body.toString(), 'conditional');
  });

  test('ranged reads: start-end, suffix, open, unsatisfiable → 416 InvalidRange', async () => {
    const data = randomBytes(10_000);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'ranged', Body: data }));
    const r1 = await getBytes({ Bucket: b, Key: 'ranged', Range: 'bytes=100-199' });
    assert.deepEqual(r1.body, data.subarray(100, 200));
    assert.equal(r1.out.ContentRange, 'bytes 100-199/10000');
    assert.equal(r1.out.$metadata.httpStatusCode, 206);
    assert.deepEqual((await getBytes({ Bucket: b, Key: 'ranged', Range: 'bytes=-300' })).body, data.subarray(9700));
    assert.deepEqual((await getBytes({ Bucket: b, Key: 'ranged', Range: 'bytes=9000-' })).body, data.subarray(9000));
    assert.deepEqual((await getBytes({ Bucket: b, Key: 'ranged', Range: 'bytes=9990-20000' })).body, data.subarray(9990));
    assert.deepEqual((await getBytes({ Bucket: b, Key: 'ranged', Range: 'bytes=-20000' })).body, data);
    await rejectsS3(s3.send(new GetObjectCommand({ Bucket: b, Key: 'ranged', Range: 'bytes=10000-' })), 416, 'InvalidRange');
    const rawRes = await raw('GET', `/${b}/ranged`, { headers: { range: 'bytes=20000-30000' } });
    assert.equal(rawRes.status, 416);
    assert.equal(rawRes.headers['content-range'], 'bytes */10000');
    assert.equal(codeOf(rawRes.body), 'InvalidRange');
  });

  test('objects just under and over the whole-read size read back byte-exact, whole and ranged', async () => {
    for (const size of [SMALL_READ_BYTES - 1, SMALL_READ_BYTES, SMALL_READ_BYTES + 1, 3 * SMALL_READ_BYTES]) {
      const data = randomBytes(size);
      await s3.send(new PutObjectCommand({ Bucket: b, Key: `sized/${size}`, Body: data }));
      assert.ok((await getBytes({ Bucket: b, Key: `sized/${size}` })).body.equals(data), `${size} bytes`);
      const middle = await getBytes({ Bucket: b, Key: `sized/${size}`, Range: `bytes=1-${size - 2}` });
      assert.ok(middle.body.equals(data.subarray(1, size - 1)), `bytes 1-${size - 2} of ${size}`);
    }
  });

  test('a small object whose content file was cut short → 500 InternalError, and the server goes on', async () => {
    const data = randomBytes(5000);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'cut', Body: data }));
    const stored = await new S3Repository(srv.app.ctx.store).getObject(b, 'cut');
    await fsp.truncate((srv.app.ctx.blobs as LocalBlobStore).pathOf(stored!.blobs[0]!.blobId), 100);
    await rejectsS3(s3.send(new GetObjectCommand({ Bucket: b, Key: 'cut' })), 500, 'InternalError');
    assert.deepEqual((await getBytes({ Bucket: b, Key: 'cut', Range: 'bytes=0-99' })).body, data.subarray(0, 100));
  });

  test('delete, NoSuchKey, NoSuchBucket', async () => {
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'gone', Body: 'x' }));
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'gone' }));
    await rejectsS3(s3.send(new GetObjectCommand({ Bucket: b, Key: 'gone' })), 404, 'NoSuchKey');
    await rejectsS3(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'gone' })), 404, 'NotFound');
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'gone' })); // deleting nothing succeeds
    await rejectsS3(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket-here', Key: 'x' })), 404, 'NoSuchBucket');
    await rejectsS3(s3.send(new PutObjectCommand({ Bucket: 'no-such-bucket-here', Key: 'x', Body: 'x' })), 404, 'NoSuchBucket');
  });

  test('DeleteObjects: batch, Quiet, with Content-MD5, malformed XML', async () => {
    const keys = ['d/1', 'd/2', 'd/3', 'd/4'];
    for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: k }));
    const out = await s3.send(
      new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'd/1' }, { Key: 'd/2' }, { Key: 'd/never' }] } }),
    );
    assert.deepEqual(out.Deleted!.map((d) => d.Key).sort(), ['d/1', 'd/2', 'd/never']);
    assert.equal(out.Errors, undefined);
    const quiet = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'd/3' }], Quiet: true } }));
    assert.equal(quiet.Deleted, undefined);
    // With Content-MD5 (older SDKs), raw.
    const xml = '<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>d/4</Key></Object></Delete>';
    const md5 = createHash('md5').update(xml).digest('base64');
    const res = await raw('POST', `/${b}`, { query: { delete: '' }, body: xml, headers: { 'content-md5': md5, 'content-type': 'application/xml' } });
    assert.equal(res.status, 200, res.body);
    assert.match(res.body, /<Deleted><Key>d\/4<\/Key><\/Deleted>/);
    const wrongMd5 = await raw('POST', `/${b}`, { query: { delete: '' }, body: xml, headers: { 'content-md5': createHash('md5').update('x').digest('base64') } });
    assert.equal(codeOf(wrongMd5.body), 'BadDigest');
    const malformed = await raw('POST', `/${b}`, { query: { delete: '' }, body: '<Delete><Object><Key>x</Key></Object>' });
    assert.equal(malformed.status, 400);
    assert.equal(codeOf(malformed.body), 'MalformedXML');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'd/' }));
    assert.equal(listed.KeyCount, 0);
  });

  test('DeleteObjects: a body that is not UTF-8 or a Quiet that is not a boolean is MalformedXML, and nothing is deleted', async () => {
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'utf8-keep', Body: 'keep me' }));
    const bad = Buffer.concat([Buffer.from('<Delete><Quiet>true'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('</Quiet><Object><Key>utf8-keep</Key></Object></Delete>')]);
    const notUtf8 = await raw('POST', `/${b}`, { query: { delete: '' }, body: bad });
    assert.equal(notUtf8.status, 400, notUtf8.body);
    assert.equal(codeOf(notUtf8.body), 'MalformedXML');
    const inKey = Buffer.concat([Buffer.from('<Delete><Object><Key>utf8-keep'), Buffer.from([0xff]), Buffer.from('</Key></Object></Delete>')]);
    assert.equal(codeOf((await raw('POST', `/${b}`, { query: { delete: '' }, body: inKey })).body), 'MalformedXML');
    for (const quiet of ['yes', 'true<![CDATA[</x>]]>', '']) {
      const res = await raw('POST', `/${b}`, { query: { delete: '' }, body: `<Delete><Quiet>${quiet}</Quiet><Object><Key>utf8-keep</Key></Object></Delete>` });
      assert.equal(codeOf(res.body), 'MalformedXML', quiet);
    }
    assert.equal((await getBytes({ Bucket: b, Key: 'utf8-keep' })).body.toString(), 'keep me');
  });

  test('DeleteObjects refuses a key with a character XML 1.0 forbids (&#0;) instead of deleting another key', async () => {
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'ab', Body: 'keep me' }));
    for (const key of ['a&#0;b', 'a&#x0;b', 'a&#1;b', 'a&#xFFFE;b', 'a&#xD800;b', 'a\u0001b', 'a&nosuch;b', 'a&b']) {
      const xml = `<?xml version="1.0" encoding="UTF-8"?><Delete><Object><Key>${key}</Key></Object></Delete>`;
      const res = await raw('POST', `/${b}`, { query: { delete: '' }, body: xml, headers: { 'content-type': 'application/xml' } });
      assert.equal(res.status, 400, `${JSON.stringify(key)}: ${res.body}`);
      assert.equal(codeOf(res.body), 'MalformedXML', JSON.stringify(key));
    }
    const doctype = '<?xml version="1.0"?><!DOCTYPE Delete [<!ENTITY k "ab">]><Delete><Object><Key>&k;</Key></Object></Delete>';
    const dt = await raw('POST', `/${b}`, { query: { delete: '' }, body: doctype });
    assert.equal(codeOf(dt.body), 'MalformedXML');
    assert.equal((await getBytes({ Bucket: b, Key: 'ab' })).body.toString(), 'keep me');
  });

  test('DeleteObjects decodes character references and CDATA as XML does, deleting exactly the keys named', async () => {
    const keys = ['line\rbreak', 'line\nfeed', 'tab\there', 'next\u0085line', 'a&b<c>"d\'', 'Abc', 'A&#65;', 'dollar$', '한글'];
    for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: b, Key: `ref/${k}`, Body: k }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'ref/linebreak', Body: 'bystander' }));
    // The SDK writes \r and U+0085 as character references.
    const sdk = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: keys.slice(0, 5).map((k) => ({ Key: `ref/${k}` })) } }));
    assert.deepEqual(sdk.Deleted?.map((d) => d.Key).sort(), keys.slice(0, 5).map((k) => `ref/${k}`).sort());
    // By hand: decimal and hex references, a CDATA section (taken literally), an entity in it left alone.
    const xml =
      '<Delete><Object><Key>ref/&#65;bc</Key></Object><Object><Key><![CDATA[ref/A&#65;]]></Key></Object>' +
      '<Object><Key>ref/dollar&#x24;</Key></Object><Object><Key>ref/&#xD55C;&#44544;</Key></Object></Delete>';
    const res = await raw('POST', `/${b}`, { query: { delete: '' }, body: xml });
    assert.equal(res.status, 200, res.body);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'ref/' }));
    assert.deepEqual(left.Contents?.map((o) => o.Key), ['ref/linebreak']);
  });

  test('CopyObject: same and cross bucket, COPY / REPLACE directives, encoded source, conditions', async () => {
    const dst = await newBucket('copydst');
    const srcKey = 'src/ü ber+special?.txt';
    const put = await s3.send(
      new PutObjectCommand({ Bucket: b, Key: srcKey, Body: 'copy me', ContentType: 'text/x-src', Metadata: { origin: 'src' } }),
    );
    const source = `${b}/${encodeURIComponent(srcKey)}`;
    const same = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy/same', CopySource: source }));
    assert.equal(same.CopyObjectResult?.ETag, put.ETag);
    assert.ok(same.CopyObjectResult?.LastModified instanceof Date);
    const h1 = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'copy/same' }));
    assert.equal(h1.ContentType, 'text/x-src');
    assert.deepEqual(h1.Metadata, { origin: 'src' });

    await s3.send(
      new CopyObjectCommand({
        Bucket: dst,
        Key: 'copy/replaced',
        CopySource: `/${source}`,
        MetadataDirective: 'REPLACE',
        ContentType: 'text/x-new',
        Metadata: { origin: 'replaced' },
      }),
    );
    const { body, out } = await getBytes({ Bucket: dst, Key: 'copy/replaced' });
    assert.equal(body.toString(), 'copy me');
    assert.equal(out.ContentType, 'text/x-new');
    assert.deepEqual(out.Metadata, { origin: 'replaced' });

    await rejectsS3(s3.send(new CopyObjectCommand({ Bucket: b, Key: srcKey, CopySource: source })), 400, 'InvalidRequest');
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: srcKey, CopySource: source, MetadataDirective: 'REPLACE', Metadata: { v: '2' } }));
    assert.deepEqual((await s3.send(new HeadObjectCommand({ Bucket: b, Key: srcKey }))).Metadata, { v: '2' });

    await rejectsS3(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'c2', CopySource: source, CopySourceIfMatch: '"nope"' })), 412, 'PreconditionFailed');
    await rejectsS3(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'c2', CopySource: source, CopySourceIfNoneMatch: put.ETag })), 412, 'PreconditionFailed');
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'c2', CopySource: source, CopySourceIfMatch: put.ETag }));
    await rejectsS3(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'c3', CopySource: `${b}/no-such-key` })), 404, 'NoSuchKey');
    await rejectsS3(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'c3', CopySource: `no-such-bucket-x/k` })), 404, 'NoSuchBucket');
  });

  test('overwrite is atomic: concurrent readers see one whole version or the other', async () => {
    const size = 512 * 1024;
    const versions = ['a', 'b', 'c', 'd'].map((ch) => Buffer.alloc(size, ch));
    const etags = new Set(versions.map((v) => `"${md5hex(v)}"`));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'atomic', Body: versions[0] }));
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 16; i++) await s3.send(new PutObjectCommand({ Bucket: b, Key: 'atomic', Body: versions[i % versions.length] }));
      writing = false;
    })();
    let reads = 0;
    const readers = Array.from({ length: 4 }, async () => {
      while (writing) {
        const { body, out } = await getBytes({ Bucket: b, Key: 'atomic' });
        reads++;
        assert.equal(body.length, size);
        const first = body[0] as number;
        assert.ok(body.every((x) => x === first), 'one version, not a mix');
        assert.equal(out.ETag, `"${md5hex(body)}"`);
        assert.ok(etags.has(out.ETag));
      }
    });
    await Promise.all([writer, ...readers]);
    assert.ok(reads > 0);
  });
});

describe('listing', () => {
  let b: string;
  const keys: string[] = [];
  before(async () => {
    b = await newBucket('list');
    for (let d = 0; d < 50; d++) for (let f = 0; f < 48; f++) keys.push(`dir${String(d).padStart(2, '0')}/file${String(f).padStart(2, '0')}`);
    for (let i = 0; i < 100; i++) keys.push(`top${String(i).padStart(3, '0')}`);
    assert.equal(keys.length, 2500);
    await pool(keys, 32, async (k) => {
      await s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: k }));
    });
    keys.sort();
  });

  test('ListObjectsV2 pages over 2,500 keys with continuation tokens', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const out: ListObjectsV2CommandOutput = await s3.send(new ListObjectsV2Command({ Bucket: b, ContinuationToken: token }));
      pages++;
      for (const c of out.Contents ?? []) seen.push(c.Key!);
      assert.equal(out.KeyCount, (out.Contents ?? []).length);
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
      if (out.IsTruncated) assert.ok(token);
    } while (token);
    assert.equal(pages, 3);
    assert.deepEqual(seen, keys);
  });

  test('delimiter rolls keys into CommonPrefixes across pages; prefix, start-after, fetch-owner, max-keys', async () => {
    const prefixes: string[] = [];
    const top: string[] = [];
    let token: string | undefined;
    do {
      const out: ListObjectsV2CommandOutput = await s3.send(
        new ListObjectsV2Command({ Bucket: b, Delimiter: '/', MaxKeys: 30, ContinuationToken: token }),
      );
      assert.ok((out.KeyCount ?? 0) <= 30);
      for (const p of out.CommonPrefixes ?? []) prefixes.push(p.Prefix!);
      for (const c of out.Contents ?? []) top.push(c.Key!);
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    assert.equal(prefixes.length, 50);
    assert.equal(prefixes[0], 'dir00/');
    assert.equal(new Set(prefixes).size, 50);
    assert.equal(top.length, 100);

    const inDir = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'dir07/', Delimiter: '/', FetchOwner: true }));
    assert.equal(inDir.Contents?.length, 48);
    assert.equal(inDir.Contents?.[0]?.Owner?.ID, srv.accountId);
    assert.equal(inDir.Contents?.[0]?.Size, 'dir07/file00'.length);
    assert.equal(inDir.Contents?.[0]?.ETag, `"${md5hex(Buffer.from('dir07/file00'))}"`);
    assert.equal(inDir.CommonPrefixes, undefined);

    const after = await s3.send(new ListObjectsV2Command({ Bucket: b, StartAfter: 'dir49/file45', MaxKeys: 4 }));
    assert.deepEqual(after.Contents?.map((c) => c.Key), ['dir49/file46', 'dir49/file47', 'top000', 'top001']);
    assert.equal(after.IsTruncated, true);
    assert.equal(after.StartAfter, 'dir49/file45');

    const none = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'nothing/' }));
    assert.equal(none.KeyCount, 0);
    assert.equal(none.IsTruncated, false);
  });

  test('ListObjects (v1): Marker and NextMarker with a delimiter', async () => {
    const prefixes: string[] = [];
    const top: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    for (;;) {
      const out = await s3.send(new ListObjectsCommand({ Bucket: b, Delimiter: '/', MaxKeys: 40, Marker: marker }));
      pages++;
      for (const p of out.CommonPrefixes ?? []) prefixes.push(p.Prefix!);
      for (const c of out.Contents ?? []) top.push(c.Key!);
      if (!out.IsTruncated) break;
      assert.ok(out.NextMarker, 'NextMarker with a delimiter');
      marker = out.NextMarker;
    }
    assert.equal(pages, 4);
    assert.equal(prefixes.length, 50);
    assert.equal(top.length, 100);
    // Without a delimiter the last key is the marker.
    const first = await s3.send(new ListObjectsCommand({ Bucket: b, MaxKeys: 1000 }));
    assert.equal(first.Contents?.length, 1000);
    assert.equal(first.NextMarker, undefined);
    const second = await s3.send(new ListObjectsCommand({ Bucket: b, Marker: first.Contents[999]!.Key }));
    assert.equal(second.Contents?.[0]?.Key, keys[1000]);
    assert.equal(second.Contents?.[0]?.Owner?.ID, srv.accountId);
  });

  test('continuation tokens this server did not issue, and numbers beyond 32 bits, are 400 InvalidArgument on every database', async () => {
    const b = await newBucket('tokens');
    for (const token of ['AAAA', Buffer.from('1:a\u0000b').toString('base64url'), 'not*a*token', Buffer.from('garbage').toString('base64url')]) {
      await rejectsS3(s3.send(new ListObjectsV2Command({ Bucket: b, ContinuationToken: token })), 400, 'InvalidArgument');
      // A ListBuckets token is the last bucket name listed: one that decodes to a bucket name is taken.
      if (token !== Buffer.from('garbage').toString('base64url')) {
        await rejectsS3(s3.send(new ListBucketsCommand({ ContinuationToken: token, MaxBuckets: 1 })), 400, 'InvalidArgument');
      }
    }
    await rejectsS3(s3.send(new ListObjectsV2Command({ Bucket: b, MaxKeys: 2 ** 31 })), 400, 'InvalidArgument');
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'k' }));
    await rejectsS3(s3.send(new ListPartsCommand({ Bucket: b, Key: 'k', UploadId, PartNumberMarker: '99999999999999999999' })), 400, 'InvalidArgument');
    await rejectsS3(s3.send(new ListPartsCommand({ Bucket: b, Key: 'k', UploadId, MaxParts: 2 ** 31 })), 400, 'InvalidArgument');
    assert.deepEqual((await s3.send(new ListPartsCommand({ Bucket: b, Key: 'k', UploadId, PartNumberMarker: '2147483647' }))).Parts ?? [], []);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: b, Key: 'k', UploadId }));
  });

  test('encoding-type=url encodes keys', async () => {
    const eb = await newBucket('enc');
    await s3.send(new PutObjectCommand({ Bucket: eb, Key: 'a b/c&d', Body: 'x' }));
    const res = await raw('GET', `/${eb}`, { query: { 'list-type': '2', 'encoding-type': 'url' } });
    assert.match(res.body, /<Key>a\+b\/c%26d<\/Key>/);
    assert.match(res.body, /<EncodingType>url<\/EncodingType>/);
    const sdk = await s3.send(new ListObjectsV2Command({ Bucket: eb }));
    assert.equal(sdk.Contents?.[0]?.Key, 'a b/c&d');
  });
});

describe('multipart upload', () => {
  let b: string;
  before(async () => {
    b = await newBucket('mpu');
  });

  test('20 MiB in 5 parts: ETag md5-of-md5s-N, content, ranges across part boundaries, ListParts, ListMultipartUploads', async () => {
    const parts = [...Array.from({ length: 4 }, () => randomBytes(5 * MiB)), randomBytes(12345)];
    const whole = Buffer.concat(parts);
    const create = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: b,
        Key: 'big/object.bin',
        ContentType: 'application/x-big',
        Metadata: { kind: 'multipart' },
        ChecksumAlgorithm: 'SHA256',
      }),
    );
    const uploadId = create.UploadId!;
    assert.ok(uploadId);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: b }));
    assert.ok(uploads.Uploads?.some((u) => u.UploadId === uploadId && u.Key === 'big/object.bin'));

    const done: { PartNumber: number; ETag: string; ChecksumSHA256: string }[] = [];
    await Promise.all(
      parts.map(async (p, i) => {
        const r = await s3.send(
          new UploadPartCommand({ Bucket: b, Key: 'big/object.bin', UploadId: uploadId, PartNumber: i + 1, Body: p, ChecksumAlgorithm: 'SHA256' }),
        );
        assert.equal(r.ETag, `"${md5hex(p)}"`);
        assert.equal(r.ChecksumSHA256, createHash('sha256').update(p).digest('base64'));
        done[i] = { PartNumber: i + 1, ETag: r.ETag, ChecksumSHA256: r.ChecksumSHA256 };
      }),
    );
    const listed = await s3.send(new ListPartsCommand({ Bucket: b, Key: 'big/object.bin', UploadId: uploadId, MaxParts: 3 }));
    assert.deepEqual(listed.Parts?.map((p) => p.PartNumber), [1, 2, 3]);
    assert.equal(listed.IsTruncated, true);
    assert.equal(listed.Parts?.[0]?.Size, 5 * MiB);
    const rest = await s3.send(
      new ListPartsCommand({ Bucket: b, Key: 'big/object.bin', UploadId: uploadId, PartNumberMarker: listed.NextPartNumberMarker }),
    );
    assert.deepEqual(rest.Parts?.map((p) => p.PartNumber), [4, 5]);

    const complete = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: b, Key: 'big/object.bin', UploadId: uploadId, MultipartUpload: { Parts: done } }),
    );
    const expected = createHash('md5')
      .update(Buffer.concat(parts.map((p) => createHash('md5').update(p).digest())))
      .digest('hex');
    assert.equal(complete.ETag, `"${expected}-5"`);

    // The composite checksum: SHA-256 of the concatenated part digests, "-N".
    const composite = createHash('sha256')
      .update(Buffer.concat(parts.map((p) => createHash('sha256').update(p).digest())))
      .digest('base64');
    assert.equal(complete.ChecksumSHA256, `${composite}-5`);
    const { body, out } = await getBytes({ Bucket: b, Key: 'big/object.bin', ChecksumMode: 'ENABLED' });
    assert.equal(out.ChecksumSHA256, `${composite}-5`);
    assert.equal(out.ChecksumType, 'COMPOSITE');
    assert.equal(body.length, whole.length);
    assert.ok(body.equals(whole));
    assert.equal(out.ETag, `"${expected}-5"`);
    assert.equal(out.ContentType, 'application/x-big');
    assert.deepEqual(out.Metadata, { kind: 'multipart' });
    const start = 5 * MiB - 100;
    const across = await getBytes({ Bucket: b, Key: 'big/object.bin', Range: `bytes=${start}-${start + 10 * MiB}` });
    assert.ok(across.body.equals(whole.subarray(start, start + 10 * MiB + 1)), 'range across two part boundaries');
    const small = await getBytes({ Bucket: b, Key: 'big/object.bin', Range: `bytes=${start}-${start + 299}` });
    assert.ok(small.body.equals(whole.subarray(start, start + 300)), 'small range across a part boundary');
    const tail = await getBytes({ Bucket: b, Key: 'big/object.bin', Range: 'bytes=-12400' });
    assert.ok(tail.body.equals(whole.subarray(whole.length - 12400)));
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'big/object.bin' }));
    assert.equal(head.ContentLength, whole.length);
    const part2 = await getBytes({ Bucket: b, Key: 'big/object.bin', PartNumber: 2 });
    assert.ok(part2.body.equals(parts[1]!));
    assert.equal(part2.out.PartsCount, 5);
    assert.equal(part2.out.ContentRange, `bytes ${5 * MiB}-${10 * MiB - 1}/${whole.length}`);
    await rejectsS3(s3.send(new GetObjectCommand({ Bucket: b, Key: 'big/object.bin', PartNumber: 6 })), 416, 'InvalidPartNumber');
    await rejectsS3(s3.send(new ListPartsCommand({ Bucket: b, Key: 'big/object.bin', UploadId: uploadId })), 404, 'NoSuchUpload');
    const after = await s3.send(new ListMultipartUploadsCommand({ Bucket: b }));
    assert.ok(!after.Uploads?.some((u) => u.UploadId === uploadId));
  });

  test('EntityTooSmall, InvalidPart, InvalidPartOrder, NoSuchUpload after abort', async () => {
    const key = 'errors.bin';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: key }));
    const p1 = await s3.send(new UploadPartCommand({ Bucket: b, Key: key, UploadId, PartNumber: 1, Body: 'small part' }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: b, Key: key, UploadId, PartNumber: 2, Body: 'last part' }));
    const send = (Parts: { PartNumber: number; ETag: string }[]) =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: key, UploadId, MultipartUpload: { Parts } }));
    await rejectsS3(send([{ PartNumber: 1, ETag: p1.ETag! }, { PartNumber: 2, ETag: p2.ETag! }]), 400, 'EntityTooSmall');
    await rejectsS3(send([{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }]), 400, 'InvalidPart');
    await rejectsS3(send([{ PartNumber: 3, ETag: p1.ETag! }]), 400, 'InvalidPart');
    await rejectsS3(send([{ PartNumber: 2, ETag: p2.ETag! }, { PartNumber: 1, ETag: p1.ETag! }]), 400, 'InvalidPartOrder');
    await rejectsS3(s3.send(new UploadPartCommand({ Bucket: b, Key: key, UploadId, PartNumber: 10001, Body: 'x' })), 400, 'InvalidArgument');
    // A single small part is a valid (last) part.
    const one = await send([{ PartNumber: 2, ETag: p2.ETag! }]);
    assert.match(one.ETag!, /-1"$/);
    assert.equal((await getBytes({ Bucket: b, Key: key })).body.toString(), 'last part');

    const { UploadId: second } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: key }));
    await s3.send(new UploadPartCommand({ Bucket: b, Key: key, UploadId: second, PartNumber: 1, Body: 'x' }));
    await s3.send(new AbortMultipartUploadCommand({ Bucket: b, Key: key, UploadId: second }));
    await rejectsS3(s3.send(new UploadPartCommand({ Bucket: b, Key: key, UploadId: second, PartNumber: 1, Body: 'x' })), 404, 'NoSuchUpload');
    await rejectsS3(s3.send(new AbortMultipartUploadCommand({ Bucket: b, Key: key, UploadId: second })), 404, 'NoSuchUpload');
    await rejectsS3(s3.send(new UploadPartCommand({ Bucket: b, Key: key, UploadId: 'nonexistent', PartNumber: 1, Body: 'x' })), 404, 'NoSuchUpload');
    const malformed = await raw('POST', `/${b}/${key}`, { query: { uploadId: second! }, body: '<CompleteMultipartUpload><Part>' });
    assert.equal(codeOf(malformed.body), 'NoSuchUpload');
    const { UploadId: third } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: key }));
    const bad = await raw('POST', `/${b}/${key}`, { query: { uploadId: third! }, body: '<CompleteMultipartUpload><Part>' });
    assert.equal(bad.status, 400);
    assert.equal(codeOf(bad.body), 'MalformedXML');
    await s3.send(new AbortMultipartUploadCommand({ Bucket: b, Key: key, UploadId: third }));
  });

  test('ListMultipartUploads: prefix, delimiter, markers', async () => {
    const lb = await newBucket('uploads');
    const ids: Record<string, string> = {};
    for (const k of ['a/1', 'a/2', 'b', 'c']) ids[k] = (await s3.send(new CreateMultipartUploadCommand({ Bucket: lb, Key: k }))).UploadId!;
    const rolled = await s3.send(new ListMultipartUploadsCommand({ Bucket: lb, Delimiter: '/' }));
    assert.deepEqual(rolled.CommonPrefixes?.map((p) => p.Prefix), ['a/']);
    assert.deepEqual(rolled.Uploads?.map((u) => u.Key), ['b', 'c']);
    const inA = await s3.send(new ListMultipartUploadsCommand({ Bucket: lb, Prefix: 'a/' }));
    assert.deepEqual(inA.Uploads?.map((u) => [u.Key, u.UploadId]), [['a/1', ids['a/1']], ['a/2', ids['a/2']]]);
    const page = await s3.send(new ListMultipartUploadsCommand({ Bucket: lb, MaxUploads: 2 }));
    assert.equal(page.IsTruncated, true);
    const next = await s3.send(
      new ListMultipartUploadsCommand({ Bucket: lb, KeyMarker: page.NextKeyMarker, UploadIdMarker: page.NextUploadIdMarker }),
    );
    assert.deepEqual(next.Uploads?.map((u) => u.Key), ['b', 'c']);
    // Deleting the bucket takes its unfinished uploads along.
    await s3.send(new DeleteBucketCommand({ Bucket: lb }));
  });

  test('UploadPartCopy with x-amz-copy-source-range', async () => {
    const src = randomBytes(6 * MiB + 10);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'copy-src', Body: src }));
    const key = 'assembled';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: key }));
    const c1 = await s3.send(
      new UploadPartCopyCommand({ Bucket: b, Key: key, UploadId, PartNumber: 1, CopySource: `${b}/copy-src`, CopySourceRange: `bytes=0-${5 * MiB - 1}` }),
    );
    assert.equal(c1.CopyPartResult?.ETag, `"${md5hex(src.subarray(0, 5 * MiB))}"`);
    const c2 = await s3.send(new UploadPartCopyCommand({ Bucket: b, Key: key, UploadId, PartNumber: 2, CopySource: `${b}/copy-src` }));
    await rejectsS3(
      s3.send(new UploadPartCopyCommand({ Bucket: b, Key: key, UploadId, PartNumber: 3, CopySource: `${b}/copy-src`, CopySourceRange: `bytes=0-${7 * MiB}` })),
      400,
      'InvalidArgument',
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: b,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: c1.CopyPartResult.ETag }, { PartNumber: 2, ETag: c2.CopyPartResult!.ETag! }] },
      }),
    );
    const { body } = await getBytes({ Bucket: b, Key: key });
    assert.ok(body.equals(Buffer.concat([src.subarray(0, 5 * MiB), src])));
  });
});

describe('reset', () => {
  test('POST /_stockade/reset wipes buckets, objects, uploads and their content files', async () => {
    const b = await newBucket('reset');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'u' }));
    const res = await fetch(`${srv.url}/_stockade/reset`, { method: 'POST', headers: { 'x-stockade-control': '1' } });
    assert.equal(res.status, 200);
    // What is left is what every account starts with: its default fence's review bucket.
    assert.deepEqual(
      ((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((x) => x.Name),
      (await new DatafenceClient(srv.creds).getDatafence({})).map((f) => f.exportScreenBucketName),
    );
    let files = 0;
    for await (const _ of srv.app.ctx.blobs.entries()) files++;
    assert.equal(files, 0);
    // The name is free again.
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: b }))).KeyCount, 0);
  });
});
