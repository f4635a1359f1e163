/**
 * Body decoding: plain bodies with a declared SHA-256, Content-MD5 and flexible checksums,
 * aws-chunked framing (unsigned with trailers, and signed chunks with a signed trailer, built
 * with the SDK's own SignatureV4), and the checksum algorithms' known vectors.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { S3Error, type PayloadMode } from '../../src/services/s3/auth.js';
import { decodeBody } from '../../src/services/s3/chunked.js';
import { checksumOf, computeChecksums, crc32c, crc64nvme, Crc64Nvme } from '../../src/services/s3/checksums.js';
import { verifySigV4 } from '../../src/services/s3/sigv4.js';
import { errorCode, fakeIam, rawRequest, signHeaders, signer, startHarness, type Harness } from './sigv4-harness.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

const sha256Hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const md5b64 = (b: Buffer | string) => createHash('md5').update(b).digest('base64');
const crc32b64 = (b: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(zlib.crc32(b) >>> 0);
  return out.toString('base64');
};

/** Feed `wire` to decodeBody in pieces of `piece` bytes; resolve the decoded bytes or the S3Error. */
async function decode(
  wire: Buffer,
  payload: PayloadMode,
  headers: Record<string, string>,
  piece = 7,
): Promise<{ body: Buffer; pieces: number; checksums: Record<string, string> } | S3Error> {
  const parts: Buffer[] = [];
  for (let i = 0; i < wire.length; i += piece) parts.push(wire.subarray(i, i + piece));
  const decoded = decodeBody(Readable.from(parts), payload, headers);
  const out: Buffer[] = [];
  try {
    for await (const c of decoded.stream) out.push(c as Buffer);
    await decoded.done;
  } catch (err) {
    assert.ok(err instanceof S3Error, String(err));
    await assert.rejects(decoded.done, (e: unknown) => e === err || (e instanceof S3Error && e.code === err.code));
    return err;
  }
  return { body: Buffer.concat(out), pieces: out.length, checksums: decoded.checksums() };
}

function assertCode(r: unknown, code: string, status?: number): void {
  assert.ok(r instanceof S3Error, `expected ${code}, got success`);
  assert.equal(r.code, code, r.message);
  if (status !== undefined) assert.equal(r.status, status);
}

function ok(r: Awaited<ReturnType<typeof decode>>): { body: Buffer; pieces: number; checksums: Record<string, string> } {
  if (r instanceof S3Error) assert.fail(`${r.code}: ${r.message}`);
  return r;
}

/** aws-chunked framing, unsigned, with optional trailer lines. */
function unsignedChunked(chunks: Buffer[], trailers: string[] = []): Buffer {
  const parts: Buffer[] = [];
  for (const c of chunks) parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
  parts.push(Buffer.from('0\r\n'));
  for (const t of trailers) parts.push(Buffer.from(`${t}\r\n`));
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

test('checksum algorithms match their known check values', () => {
  const check = Buffer.from('123456789');
  assert.equal(crc32c(check), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), 0x46dd794e);
  assert.equal(crc64nvme(check), 0xae8b14860a799888n);
  assert.equal(crc64nvme(Buffer.alloc(0)), 0n);
  assert.equal(checksumOf('crc32', check), Buffer.from('cbf43926', 'hex').toString('base64'));
  assert.equal(checksumOf('crc32c', check), Buffer.from('e3069283', 'hex').toString('base64'));
  assert.equal(checksumOf('crc64nvme', check), Buffer.from('ae8b14860a799888', 'hex').toString('base64'));
  assert.equal(checksumOf('sha1', check), createHash('sha1').update(check).digest('base64'));
  assert.equal(checksumOf('sha256', check), createHash('sha256').update(check).digest('base64'));

  // Incremental over odd splits equals one-shot, for every algorithm.
  const data = randomBytes(100_003);
  const set = computeChecksums(['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256']);
  for (let i = 0; i < data.length; i += 4093) set.update(data.subarray(i, i + 4093));
  const all = set.digest();
  for (const a of ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const) assert.equal(all[a], checksumOf(a, data), a);
  const c = new Crc64Nvme();
  for (let i = 0; i < data.length; i += 13) c.update(data.subarray(i, i + 13));
  assert.equal(c.digest().readBigUInt64BE(0), crc64nvme(data));
});

test('plain body with a declared SHA-256: verified while streaming', async () => {
  const body = randomBytes(50_000);
  const headers = { 'content-length': String(body.length) };
  const good = ok(await decode(body, { kind: 'sha256', hex: sha256Hex(body) }, headers, 1000));
  assert.deepEqual(good.body, body);
  assert.ok(good.pieces > 1, 'passed on as it arrives');

  const tampered = Buffer.from(body);
  tampered[100] = (tampered[100] ?? 0) ^ 1;
  const bad = await decode(tampered, { kind: 'sha256', hex: sha256Hex(body) }, headers);
  assertCode(bad, 'XAmzContentSHA256Mismatch', 400);
  assert.equal((bad as S3Error).extra.ClientComputedContentSHA256, sha256Hex(body));

  assertCode(await decode(body.subarray(1), { kind: 'unsigned' }, headers), 'IncompleteBody', 400);
  ok(await decode(tampered, { kind: 'unsigned' }, headers));
});

test('Content-MD5: match, mismatch (BadDigest), malformed (InvalidDigest)', async () => {
  const body = Buffer.from('md5 me');
  ok(await decode(body, { kind: 'unsigned' }, { 'content-md5': md5b64(body) }));
  assertCode(await decode(body, { kind: 'unsigned' }, { 'content-md5': md5b64('other') }), 'BadDigest', 400);
  assert.throws(
    () => decodeBody(Readable.from([body]), { kind: 'unsigned' }, { 'content-md5': 'not-base64!' }),
    (e: unknown) => e instanceof S3Error && e.code === 'InvalidDigest' && e.status === 400,
  );
  assert.throws(
    () => decodeBody(Readable.from([body]), { kind: 'unsigned' }, { 'content-md5': 'AAAA' }),
    (e: unknown) => e instanceof S3Error && e.code === 'InvalidDigest',
  );
});

test('checksum headers: every algorithm checked, S3 wording on mismatch, invalid values refused', async () => {
  const body = randomBytes(9_999);
  for (const a of ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const) {
    const good = ok(await decode(body, { kind: 'unsigned' }, { [`x-amz-checksum-${a}`]: checksumOf(a, body) }));
    assert.deepEqual(good.checksums, { [a]: checksumOf(a, body) });
    const bad = await decode(body, { kind: 'unsigned' }, { [`x-amz-checksum-${a}`]: checksumOf(a, Buffer.from('x')) });
    assertCode(bad, 'BadDigest', 400);
    assert.equal((bad as S3Error).message, `The ${a.toUpperCase()} you specified did not match the calculated checksum.`);
  }
  const invalid = (headers: Record<string, string>) => {
    try {
      decodeBody(Readable.from([body]), { kind: 'unsigned' }, headers);
    } catch (e) {
      return e;
    }
    return undefined;
  };
  assertCode(invalid({ 'x-amz-checksum-crc32': 'AAAA' }), 'InvalidRequest', 400);
  assertCode(invalid({ 'x-amz-checksum-crc32': 'AAAAAA==', 'x-amz-checksum-sha1': checksumOf('sha1', body) }), 'InvalidRequest');
  assertCode(invalid({ 'x-amz-checksum-md5': 'AAAAAA==' }), 'InvalidRequest');
  assertCode(invalid({ 'x-amz-sdk-checksum-algorithm': 'MD5' }), 'InvalidRequest');
  // Not checksum values: ignored.
  ok(await decode(body, { kind: 'unsigned' }, { 'x-amz-checksum-type': 'FULL_OBJECT', 'x-amz-checksum-algorithm': 'CRC32' }));
  // Requested by x-amz-sdk-checksum-algorithm alone: computed and reported.
  const computed = ok(await decode(body, { kind: 'unsigned' }, { 'x-amz-sdk-checksum-algorithm': 'CRC32C' }));
  assert.deepEqual(computed.checksums, { crc32c: checksumOf('crc32c', body) });
});

test('aws-chunked unsigned with a trailer: decoded, checked, split anywhere', async () => {
  const chunks = [randomBytes(8192), randomBytes(100), randomBytes(1)];
  const all = Buffer.concat(chunks);
  const payload: PayloadMode = { kind: 'streaming-unsigned-trailer', trailer: ['x-amz-checksum-crc32'] };
  const headers = { 'x-amz-decoded-content-length': String(all.length), 'x-amz-trailer': 'x-amz-checksum-crc32' };
  const wire = unsignedChunked(chunks, [`x-amz-checksum-crc32:${crc32b64(all)}`]);
  for (const piece of [1, 2, 3, 5, 64, 8195, wire.length]) {
    const r = ok(await decode(wire, payload, headers, piece));
    assert.deepEqual(r.body, all, `piece ${piece}`);
    assert.deepEqual(r.checksums, { crc32: crc32b64(all) });
  }
  // The final empty line may be missing.
  ok(await decode(wire.subarray(0, wire.length - 2), payload, headers));

  // Wrong trailer value → BadDigest; invalid value → InvalidRequest; missing → MalformedTrailerError.
  assertCode(await decode(unsignedChunked(chunks, ['x-amz-checksum-crc32:AAAAAA==']), payload, headers), 'BadDigest', 400);
  assertCode(await decode(unsignedChunked(chunks, ['x-amz-checksum-crc32:AAAA']), payload, headers), 'InvalidRequest', 400);
  assertCode(await decode(unsignedChunked(chunks, []), payload, headers), 'MalformedTrailerError', 400);
  assertCode(await decode(unsignedChunked(chunks, ['garbage line']), payload, headers), 'MalformedTrailerError', 400);

  // Byte counts: declared length differs → IncompleteBody; truncated → IncompleteBody.
  const longer = { ...headers, 'x-amz-decoded-content-length': String(all.length + 1) };
  assertCode(await decode(wire, payload, longer), 'IncompleteBody', 400);
  const shorter = { ...headers, 'x-amz-decoded-content-length': String(all.length - 1) };
  assertCode(await decode(wire, payload, shorter), 'IncompleteBody', 400);
  assertCode(await decode(wire.subarray(0, 5000), payload, headers), 'IncompleteBody', 400);

  // Broken framing → InvalidRequest.
  assertCode(await decode(Buffer.from('zz\r\nabc\r\n0\r\n\r\n'), payload, headers), 'InvalidRequest', 400);
  assertCode(await decode(Buffer.from('3\r\nabcX\r\n0\r\n\r\n'), { kind: 'streaming-unsigned-trailer', trailer: [] }, {}), 'InvalidRequest');
  assertCode(await decode(Buffer.from('3\nabc\r\n0\r\n\r\n'), { kind: 'streaming-unsigned-trailer', trailer: [] }, {}), 'InvalidRequest');
  assertCode(await decode(Buffer.concat([wire, Buffer.from('x')]), payload, headers), 'InvalidRequest');
  assertCode(await decode(Buffer.from('f'.repeat(5000)), payload, headers), 'InvalidRequest');

  // Header checksum over aws-chunked content.
  ok(
    await decode(unsignedChunked(chunks), { kind: 'streaming-unsigned-trailer', trailer: [] }, { 'x-amz-checksum-sha256': checksumOf('sha256', all) }),
  );
});

test('memory stays bounded: a large chunk is passed on in pieces as it arrives', async () => {
  const big = randomBytes(4 * 1024 * 1024);
  const wire = unsignedChunked([big]);
  const r = ok(await decode(wire, { kind: 'streaming-unsigned-trailer', trailer: [] }, {}, 65_536));
  assert.ok(r.pieces >= 64, `emitted ${r.pieces} pieces`);
  assert.deepEqual(r.body, big);
});

/** A streaming-signed PUT built with the SDK signer: seed from sign(), chunk signatures from signEvent. */
async function streamingSigned(opts: { chunks: Buffer[]; trailer?: string; host: string; path: string }) {
  const date = new Date();
  const total = opts.chunks.reduce((n, c) => n + c.length, 0);
  const headers: Record<string, string> = {
    'x-amz-content-sha256': opts.trailer ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER' : 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': String(total),
  };
  if (opts.trailer) headers['x-amz-trailer'] = opts.trailer.split(':')[0] ?? '';
  const signedHeaders = await signHeaders({ method: 'PUT', host: opts.host, path: opts.path, headers, date });
  const seed = /Signature=([0-9a-f]{64})/.exec(signedHeaders.authorization ?? '')?.[1] ?? '';
  const s = signer();
  const parts: Buffer[] = [];
  let previous = seed;
  for (const c of [...opts.chunks, Buffer.alloc(0)]) {
    // AWS4-HMAC-SHA256-PAYLOAD \n date \n scope \n previous \n sha256("") \n sha256(chunk): the SDK's event signing with empty headers.
    const sig = await s.sign({ headers: new Uint8Array(0), payload: c }, { signingDate: date, priorSignature: previous });
    parts.push(Buffer.from(`${c.length.toString(16)};chunk-signature=${sig}\r\n`), c);
    if (c.length > 0) parts.push(Buffer.from('\r\n'));
    previous = sig;
  }
  if (opts.trailer) {
    const canonical = `${opts.trailer}\n`;
    const amzDate = signedHeaders['x-amz-date'] ?? '';
    const stringToSign = [
      'AWS4-HMAC-SHA256-TRAILER',
      amzDate,
      `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`,
      previous,
      sha256Hex(canonical),
    ].join('\n');
    const trailerSig = await s.sign(stringToSign, { signingDate: date });
    parts.push(Buffer.from(`${opts.trailer}\r\nx-amz-trailer-signature:${trailerSig}\r\n`));
  }
  parts.push(Buffer.from('\r\n'));
  const wire = Buffer.concat(parts);
  return { headers: { ...signedHeaders, 'content-length': String(wire.length) }, wire };
}

test('streaming-signed chunks verify over HTTP; a flipped byte is SignatureDoesNotMatch', async () => {
  const chunks = [randomBytes(65_536), randomBytes(65_536), randomBytes(1000)];
  const all = Buffer.concat(chunks);
  const host = `127.0.0.1:${h.port}`;
  const { headers, wire } = await streamingSigned({ chunks, host, path: '/bkt/signed' });
  const res = await rawRequest(h.port, { method: 'PUT', path: '/bkt/signed', headers, body: wire });
  assert.equal(res.status, 200, res.body);
  assert.equal(h.last().verified?.payload.kind, 'streaming-signed');
  assert.deepEqual(h.last().body, all);

  // Flip one data byte in the second chunk.
  const again = await streamingSigned({ chunks, host, path: '/bkt/signed' });
  const flipped = Buffer.from(again.wire);
  const at = flipped.indexOf('\r\n', 65_536 + 90) + 2 + 10;
  flipped[at] = (flipped[at] ?? 0) ^ 0x01;
  const bad = await rawRequest(h.port, { method: 'PUT', path: '/bkt/signed', headers: again.headers, body: flipped });
  assert.equal(bad.status, 403);
  assert.equal(errorCode(bad.body), 'SignatureDoesNotMatch');

  // Chunks reordered: each signature chains the previous one.
  const c2 = await streamingSigned({ chunks: [Buffer.from('first'), Buffer.from('second')], host, path: '/bkt/signed' });
  const swapped = Buffer.from(c2.wire.toString('latin1').replace('first', 'tsrif'), 'latin1');
  const r2 = await rawRequest(h.port, { method: 'PUT', path: '/bkt/signed', headers: c2.headers, body: swapped });
  assert.equal(errorCode(r2.body), 'SignatureDoesNotMatch');

  // Missing chunk signature.
  const c3 = await streamingSigned({ chunks: [Buffer.from('data')], host, path: '/bkt/signed' });
  const unsigned = Buffer.from(c3.wire.toString('latin1').replace(/;chunk-signature=[0-9a-f]{64}/, ''), 'latin1');
  const r3 = await rawRequest(h.port, {
    method: 'PUT',
    path: '/bkt/signed',
    headers: { ...c3.headers, 'content-length': String(unsigned.length) },
    body: unsigned,
  });
  assert.equal(errorCode(r3.body), 'SignatureDoesNotMatch');
});

test('streaming-signed with a signed trailer: verified; tampered trailer or checksum refused', async () => {
  const chunks = [randomBytes(10_000), randomBytes(3)];
  const all = Buffer.concat(chunks);
  const host = '127.0.0.1:9000';
  const path = '/bkt/trailer';
  const trailer = `x-amz-checksum-crc32c:${checksumOf('crc32c', all)}`;
  const { headers, wire } = await streamingSigned({ chunks, trailer, host, path });
  const input = { method: 'PUT', rawPath: path, rawQuery: null, headers };
  const v = await verifySigV4(input, fakeIam, Date.now());
  assert.equal(v.payload.kind, 'streaming-signed');
  const r = ok(await decode(wire, v.payload, headers, 333));
  assert.deepEqual(r.body, all);
  assert.deepEqual(r.checksums, { crc32c: checksumOf('crc32c', all) });

  // Trailer value changed after signing: its signature no longer matches.
  const forged = Buffer.from(wire.toString('latin1').replace(checksumOf('crc32c', all), checksumOf('crc32c', Buffer.from('x'))), 'latin1');
  assertCode(await decode(forged, v.payload, headers), 'SignatureDoesNotMatch', 403);

  // A correctly signed but wrong checksum: BadDigest.
  const wrong = await streamingSigned({ chunks, trailer: `x-amz-checksum-crc32c:${checksumOf('crc32c', Buffer.from('x'))}`, host, path });
  const v2 = await verifySigV4({ ...input, headers: wrong.headers }, fakeIam, Date.now());
  assertCode(await decode(wrong.wire, v2.payload, wrong.headers), 'BadDigest', 400);

  // Trailer signature missing.
  const stripped = Buffer.from(wire.toString('latin1').replace(/x-amz-trailer-signature:[0-9a-f]{64}\r\n/, ''), 'latin1');
  assertCode(await decode(stripped, v.payload, headers), 'SignatureDoesNotMatch', 403);
});

test('raw HTTP: aws-chunked with an unsigned trailer, tampered trailer and tampered body', async () => {
  const host = `127.0.0.1:${h.port}`;
  const path = '/bkt/chunked';
  const data = [Buffer.from('hello '), Buffer.from('chunked '), Buffer.from('world')];
  const all = Buffer.concat(data);
  const send = async (wire: Buffer) => {
    const headers = await signHeaders({
      method: 'PUT',
      host,
      path,
      headers: {
        'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'content-encoding': 'aws-chunked',
        'x-amz-trailer': 'x-amz-checksum-crc32',
        'x-amz-decoded-content-length': String(all.length),
      },
    });
    return rawRequest(h.port, { method: 'PUT', path, headers: { ...headers, 'content-length': String(wire.length) }, body: wire });
  };
  const good = await send(unsignedChunked(data, [`x-amz-checksum-crc32:${crc32b64(all)}`]));
  assert.equal(good.status, 200, good.body);
  assert.deepEqual(h.last().body, all);

  const badTrailer = await send(unsignedChunked(data, [`x-amz-checksum-crc32:${crc32b64(Buffer.from('nope'))}`]));
  assert.equal(badTrailer.status, 400);
  assert.equal(errorCode(badTrailer.body), 'BadDigest');
  assert.match(badTrailer.body, /The CRC32 you specified did not match the calculated checksum\./);

  const tamperedBody = [Buffer.from('hello '), Buffer.from('CHUNKED '), Buffer.from('world')];
  const badBody = await send(unsignedChunked(tamperedBody, [`x-amz-checksum-crc32:${crc32b64(all)}`]));
  assert.equal(errorCode(badBody.body), 'BadDigest');

  // A signed body hash with a different body on the wire.
  const body = Buffer.from('declared');
  const headers = await signHeaders({
    method: 'PUT',
    host,
    path,
    headers: { 'x-amz-content-sha256': sha256Hex(body), 'content-length': String(body.length) },
  });
  const mismatch = await rawRequest(h.port, { method: 'PUT', path, headers, body: Buffer.from('replaced') });
  assert.equal(mismatch.status, 400);
  assert.equal(errorCode(mismatch.body), 'XAmzContentSHA256Mismatch');
});
