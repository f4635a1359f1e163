import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bceAuthorization,
  bceCanonicalHeaders,
  bceCanonicalQuery,
  bceCanonicalUri,
  bceSign,
  bceSignature,
  bceSigningKey,
  defaultSignedHeaderNames,
  formatBceTimestamp,
  parseBceAuthorization,
  parseBceQuery,
  percentDecode,
  uriEncode,
  type BceSignInput,
} from '../src/signing/bce.js';

// auth.md §1.7
const AK = 'AKIDEXAMPLEBCE0000000000000000001';
const SK = 'SKEXAMPLEBCE/secret+key=0000000000001';
const TS = '2024-05-01T08:00:00Z';
const SHA = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const BCE1: BceSignInput = {
  method: 'POST',
  path: '/v1/cfs',
  query: [['clientToken', 'be31b98c-5e41-4838-9830-9be700de5a20']],
  headers: {
    Host: 'cfs.bj.baidubce.com',
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': '62',
    'x-bce-date': TS,
  },
  accessKeyId: AK,
  secretAccessKey: SK,
  timestamp: new Date('2024-05-01T08:00:00Z'),
  expirationSeconds: 1800,
  signedHeaders: ['host', 'x-bce-date'],
};

const BCE2: BceSignInput = {
  method: 'GET',
  path: '/v1/cfs',
  query: [
    ['userId', 'u-123'],
    ['fsId', 'cfs-aaa,cfs-bbb'],
    ['filterTag', 'env:prod test'],
    ['marker', ''],
    ['maxKeys', '2'],
  ],
  headers: {
    Host: 'cfs.gz.baidubce.com',
    'Content-Type': 'application/json; charset=utf-8',
    'x-bce-date': TS,
    'User-Agent': 'not-signed/1.0',
  },
  accessKeyId: AK,
  secretAccessKey: SK,
  timestamp: TS,
};

const BCE3: BceSignInput = {
  method: 'DELETE',
  path: '/v1/accessGroup/组-A b+c~(1)/rule 7',
  headers: { Host: 'cfs.su.baidubce.com', 'x-bce-date': TS, 'x-bce-content-sha256': `  ${SHA}  ` },
  accessKeyId: AK,
  secretAccessKey: SK,
  timestamp: TS,
  expirationSeconds: 3600,
  signedHeaders: ['host', 'x-bce-content-sha256', 'x-bce-date'],
};

const AUTH1 = `bce-auth-v1/${AK}/2024-05-01T08:00:00Z/1800/host;x-bce-date/0d96525af49b571da203f06ed4a2cabf98a01bb5a04f23899c31608e64ec9d8c`;
const AUTH2 = `bce-auth-v1/${AK}/2024-05-01T08:00:00Z/1800/content-type;host;x-bce-date/65547a4a92209cc860ced707dcd8977b2c5b7a8de1713bfd8ba4295fcbcb1f66`;
const AUTH2B = `bce-auth-v1/${AK}/2024-05-01T08:00:00Z/1800//65547a4a92209cc860ced707dcd8977b2c5b7a8de1713bfd8ba4295fcbcb1f66`;
const AUTH3 = `bce-auth-v1/${AK}/2024-05-01T08:00:00Z/3600/host;x-bce-content-sha256;x-bce-date/029248619431901de9dddcb68ee4f0a66e5998927e6fae7414ee6dcfd06f0578`;

const UPSTREAM1: BceSignInput = {
  method: 'PUT',
  path: '/v1/bucket/object1',
  query: [['A', null], ['b', ''], ['C', 'd']],
  headers: { Host: 'bce.baidu.com', abc: '123', 'x-bce-meta-key1': 'ABC' },
  accessKeyId: 'my_ak',
  secretAccessKey: 'my_sk',
  timestamp: '2014-06-13T05:57:36Z',
  expirationSeconds: 1800,
  signedHeaders: 'default',
};
const UPSTREAM2: BceSignInput = {
  method: 'DELETE',
  path: '/v1/test-bucket1361199862',
  headers: {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': '0',
    'User-Agent': 'This is the user-agent',
  },
  accessKeyId: 'my_ak',
  secretAccessKey: 'my_sk',
  timestamp: new Date(Date.UTC(2014, 5, 13, 5, 57, 36)),
};

// ---------------------------------------------------------------- UriEncode

test('uriEncode keeps only unreserved characters and upper-cases escapes', () => {
  assert.equal(uriEncode('AZaz09-_.~'), 'AZaz09-_.~');
  assert.equal(uriEncode('a b'), 'a%20b');
  assert.equal(uriEncode('a+b'), 'a%2Bb');
  assert.equal(uriEncode('*'), '%2A');
  assert.equal(uriEncode("!'()"), '%21%27%28%29');
  assert.equal(uriEncode('a=b&c:d;e,f'), 'a%3Db%26c%3Ad%3Be%2Cf');
  assert.equal(uriEncode('%'), '%25');
  assert.equal(uriEncode('\n\t'), '%0A%09');
  assert.equal(uriEncode('é'), '%C3%A9');
});

test('uriEncode encodes UTF-8 bytes of non-ASCII text', () => {
  assert.equal(uriEncode('测试'), '%E6%B5%8B%E8%AF%95');
  assert.equal(uriEncode('버킷'), '%EB%B2%84%ED%82%B7');
  assert.equal(uriEncode('😀'), '%F0%9F%98%80');
});

test('uriEncode encodes the slash unless told to keep it (UriEncodeExceptSlash)', () => {
  assert.equal(uriEncode('/a/b'), '%2Fa%2Fb');
  assert.equal(uriEncode('/a b/c', false), '/a%20b/c');
});

test('canonical URI re-encodes the decoded path, keeps slashes, prepends / and maps empty to /', () => {
  assert.equal(bceCanonicalUri('/example/测试'), '/example/%E6%B5%8B%E8%AF%95');
  assert.equal(bceCanonicalUri('/v1/accessGroup/组-A b+c~(1)/rule 7'), '/v1/accessGroup/%E7%BB%84-A%20b%2Bc~%281%29/rule%207');
  assert.equal(bceCanonicalUri(''), '/');
  assert.equal(bceCanonicalUri('v1/cfs'), '/v1/cfs');
});

test('percent-decoding of the wire path and query follows RFC 3986 (+ stays +)', () => {
  assert.equal(percentDecode('/v1/accessGroup/%E7%BB%84-A%20b%2Bc~%281%29/rule%207'), '/v1/accessGroup/组-A b+c~(1)/rule 7');
  assert.equal(percentDecode('a+b%2b'), 'a+b+');
  assert.equal(percentDecode('100%'), '100%');
  assert.equal(percentDecode('%zz%4'), '%zz%4');
  assert.deepEqual(parseBceQuery('?userId=u-123&fsId=cfs-aaa%2Ccfs-bbb&filterTag=env%3Aprod%20test&marker=&maxKeys=2'), BCE2.query);
  assert.deepEqual(parseBceQuery('tag&a=b=c&&x'), [['tag', ''], ['a', 'b=c'], ['x', '']]);
  assert.deepEqual(parseBceQuery(''), []);
});

// ---------------------------------------------------------------- canonical pieces

test('canonical query drops authorization keys in any case', () => {
  assert.equal(bceCanonicalQuery([['authorization', 'x'], ['Authorization', 'y'], ['a', '1']]), 'a=1');
});

test('canonical query sorts whole key=value strings, not keys', () => {
  assert.equal(bceCanonicalQuery([['a', '2'], ['a-b', 'x'], ['a', '1']]), 'a-b=x&a=1&a=2');
  assert.equal(bceCanonicalQuery([['b', ''], ['C', 'd'], ['A', null]]), 'A=&C=d&b=');
});

test('canonical query encodes keys and values and writes valueless keys as key=', () => {
  assert.equal(bceCanonicalQuery(BCE2.query!), 'filterTag=env%3Aprod%20test&fsId=cfs-aaa%2Ccfs-bbb&marker=&maxKeys=2&userId=u-123');
  assert.equal(bceCanonicalQuery([['tag', '']]), 'tag=');
  assert.equal(bceCanonicalQuery([['k y', 'v/w']]), 'k%20y=v%2Fw');
  assert.equal(bceCanonicalQuery([]), '');
});

test('canonical headers trim values, skip empty ones, match names case-insensitively and sort lines', () => {
  const { canonical, signedNames } = bceCanonicalHeaders(
    { 'X-Bce-Date': TS, Host: 'h:8080', 'x-bce-empty': '   ', 'x-bce-meta': '  a  b ' },
    ['x-bce-meta', 'HOST', 'x-bce-date', 'x-bce-empty', 'x-bce-missing'],
  );
  assert.equal(canonical, 'host:h%3A8080\nx-bce-date:2024-05-01T08%3A00%3A00Z\nx-bce-meta:a%20%20b');
  assert.deepEqual(signedNames, ['host', 'x-bce-date', 'x-bce-meta']);
});

test('the default header set is host, content-length, content-type, content-md5 and every x-bce-* present', () => {
  assert.deepEqual(
    defaultSignedHeaderNames({
      Host: 'h',
      'Content-Length': '1',
      'Content-Type': 't',
      'Content-MD5': 'm',
      'X-Bce-Date': 'd',
      'x-bce-security-token': 's',
      'User-Agent': 'u',
      Date: 'x',
    }),
    ['content-length', 'content-md5', 'content-type', 'host', 'x-bce-date', 'x-bce-security-token'],
  );
});

test('formats BCE timestamps at second precision in UTC', () => {
  assert.equal(formatBceTimestamp(new Date('2024-05-01T08:00:00.999Z')), '2024-05-01T08:00:00Z');
  assert.equal(formatBceTimestamp(new Date(1714550400000)), TS);
});

// ---------------------------------------------------------------- vectors

test('signs BCE-1 (explicit host;x-bce-date) with the documented canonical request', () => {
  const r = bceSign(BCE1);
  assert.equal(
    r.canonicalRequest,
    'POST\n/v1/cfs\nclientToken=be31b98c-5e41-4838-9830-9be700de5a20\nhost:cfs.bj.baidubce.com\nx-bce-date:2024-05-01T08%3A00%3A00Z',
  );
  assert.equal(r.signingKey, '367374ae4205fbf38fa5028346a82fa7072014ac0689990074a72e93b1c95980');
  assert.equal(r.signature, '0d96525af49b571da203f06ed4a2cabf98a01bb5a04f23899c31608e64ec9d8c');
  assert.equal(r.authorization, AUTH1);
  assert.equal(bceAuthorization(BCE1), AUTH1);
});

test('signs BCE-2 with the default header set and percent-encoded, sorted query', () => {
  const r = bceSign(BCE2);
  assert.equal(
    r.canonicalRequest,
    'GET\n/v1/cfs\nfilterTag=env%3Aprod%20test&fsId=cfs-aaa%2Ccfs-bbb&marker=&maxKeys=2&userId=u-123\n' +
      'content-type:application%2Fjson%3B%20charset%3Dutf-8\nhost:cfs.gz.baidubce.com\nx-bce-date:2024-05-01T08%3A00%3A00Z',
  );
  assert.equal(r.signingKey, '367374ae4205fbf38fa5028346a82fa7072014ac0689990074a72e93b1c95980');
  assert.equal(r.authorization, AUTH2);
  assert.equal(bceAuthorization({ ...BCE2, signedHeaders: 'default' }), AUTH2);
});

test('signs BCE-2b Java-style: empty signedHeaders field, default set, same signature', () => {
  const r = bceSign({ ...BCE2, signedHeaders: [] });
  assert.deepEqual(r.signedHeaders, []);
  assert.equal(r.authorization, AUTH2B);
});

test('signs BCE-3 (non-ASCII and special path characters, trimmed header value, 3600 s)', () => {
  const r = bceSign(BCE3);
  assert.equal(
    r.canonicalRequest,
    'DELETE\n/v1/accessGroup/%E7%BB%84-A%20b%2Bc~%281%29/rule%207\n\nhost:cfs.su.baidubce.com\n' +
      `x-bce-content-sha256:${SHA}\nx-bce-date:2024-05-01T08%3A00%3A00Z`,
  );
  assert.equal(r.signingKey, '85dcbf2b24c9c75115c4f3d5d0451829d71f048483dd60c7bf27d632eb75a949');
  assert.equal(r.authorization, AUTH3);
});

test('signs BCE-3 from the decoded wire path', () => {
  const path = percentDecode('/v1/accessGroup/%E7%BB%84-A%20b%2Bc~%281%29/rule%207');
  assert.equal(bceAuthorization({ ...BCE3, path }), AUTH3);
});

test('reproduces the first upstream JS SDK vector (valueless query keys, x-bce-meta in the default set)', () => {
  assert.equal(
    bceAuthorization(UPSTREAM1),
    'bce-auth-v1/my_ak/2014-06-13T05:57:36Z/1800/host;x-bce-meta-key1/80c9672aca2ea9af4bb40b9a8ff458d72df94e97d550840727f3a929af271d25',
  );
});

test('reproduces the second upstream JS SDK vector (content-length and content-type only)', () => {
  assert.equal(
    bceAuthorization(UPSTREAM2),
    'bce-auth-v1/my_ak/2014-06-13T05:57:36Z/1800/content-length;content-type/c9386b15d585960ae5e6972f73ed92a9a682dc81025480ba5b41206d3e489822',
  );
});

test('the signing key is the hex text of HMAC(SK, prefix) and keys the signature as text', () => {
  const key = bceSigningKey(SK, `bce-auth-v1/${AK}/${TS}/1800`);
  assert.equal(key, '367374ae4205fbf38fa5028346a82fa7072014ac0689990074a72e93b1c95980');
  assert.equal(
    bceSignature(key, 'POST\n/v1/cfs\nclientToken=be31b98c-5e41-4838-9830-9be700de5a20\nhost:cfs.bj.baidubce.com\nx-bce-date:2024-05-01T08%3A00%3A00Z'),
    '0d96525af49b571da203f06ed4a2cabf98a01bb5a04f23899c31608e64ec9d8c',
  );
});

// ---------------------------------------------------------------- parser

test('parses every vector Authorization and re-signing from the parsed parts reproduces the signature', () => {
  const cases: Array<[string, BceSignInput]> = [
    [AUTH1, BCE1],
    [AUTH2, BCE2],
    [AUTH2B, BCE2],
    [AUTH3, BCE3],
  ];
  for (const [auth, req] of cases) {
    const p = parseBceAuthorization(auth);
    assert.ok(p, auth);
    assert.equal(p.accessKeyId, AK);
    assert.equal(p.timestamp, TS);
    assert.equal(p.timestampMs, 1714550400000);
    const resigned = bceSign({
      ...req,
      accessKeyId: p.accessKeyId,
      timestamp: p.timestamp,
      expirationSeconds: p.expiration,
      signedHeaders: p.signedHeaders,
    });
    assert.equal(resigned.signature, p.signature, auth);
  }
});

test('parses the fields of an Authorization header', () => {
  assert.deepEqual(parseBceAuthorization(AUTH3), {
    accessKeyId: AK,
    timestamp: TS,
    timestampMs: 1714550400000,
    expiration: 3600,
    signedHeaders: ['host', 'x-bce-content-sha256', 'x-bce-date'],
    signature: '029248619431901de9dddcb68ee4f0a66e5998927e6fae7414ee6dcfd06f0578',
    authStringPrefix: `bce-auth-v1/${AK}/${TS}/3600`,
  });
  assert.deepEqual(parseBceAuthorization(AUTH2B)?.signedHeaders, []);
  assert.equal(parseBceAuthorization(`bce-auth-v1/ak/${TS}/0/host/${'a'.repeat(64)}`)?.expiration, 0);
  assert.deepEqual(parseBceAuthorization(`bce-auth-v1/ak/${TS}/1800/Host;X-Bce-Date/${'a'.repeat(64)}`)?.signedHeaders, ['host', 'x-bce-date']);
});

test('rejects malformed Authorization headers', () => {
  const sig = 'a'.repeat(64);
  const bad = [
    undefined,
    '',
    `bce-auth-v1/${AK}/${TS}/1800/${sig}`, // 5 parts
    `bce-auth-v1/${AK}/${TS}/1800/host/${sig}/extra`, // 7 parts
    `bce-auth-v2/${AK}/${TS}/1800/host/${sig}`,
    `BCE-AUTH-V1/${AK}/${TS}/1800/host/${sig}`,
    `bce-auth-v1//${TS}/1800/host/${sig}`, // empty AK
    `bce-auth-v1/${AK}/2024-05-01 08:00:00Z/1800/host/${sig}`,
    `bce-auth-v1/${AK}/2024-05-01T08:00:00.000Z/1800/host/${sig}`,
    `bce-auth-v1/${AK}/2024-05-01T08:00:00/1800/host/${sig}`,
    `bce-auth-v1/${AK}/2024-05-01T08:00:00+00:00/1800/host/${sig}`,
    `bce-auth-v1/${AK}/2024-13-01T08:00:00Z/1800/host/${sig}`,
    `bce-auth-v1/${AK}/2024-02-30T08:00:00Z/1800/host/${sig}`,
    `bce-auth-v1/${AK}/2024-05-01T24:00:00Z/1800/host/${sig}`,
    `bce-auth-v1/${AK}/${TS}/-1/host/${sig}`,
    `bce-auth-v1/${AK}/${TS}/1.5/host/${sig}`,
    `bce-auth-v1/${AK}/${TS}//host/${sig}`,
    `bce-auth-v1/${AK}/${TS}/abc/host/${sig}`,
    `bce-auth-v1/${AK}/${TS}/99999999999999999999/host/${sig}`,
    `bce-auth-v1/${AK}/${TS}/1800/host/${'A'.repeat(64)}`,
    `bce-auth-v1/${AK}/${TS}/1800/host/${'a'.repeat(63)}`,
    `bce-auth-v1/${AK}/${TS}/1800/host/${'a'.repeat(65)}`,
    `bce-auth-v1/${AK}/${TS}/1800/host/${'g'.repeat(64)}`,
  ];
  for (const h of bad) assert.equal(parseBceAuthorization(h), null, String(h));
});
