import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ncpSignHeaders, ncpSignature, ncpStringToSign } from '../src/signing/ncp.js';

// auth.md §2.5
const AK = 'NCPACCESSKEYEXAMPLE01';
const SK = 'NcpSecretKeyExample0123456789abcdefABCDEF';
const TS = '1714550400000';

test('builds the NCP v2 string to sign as METHOD target LF timestamp LF accessKey with no trailing newline', () => {
  assert.equal(
    ncpStringToSign('GET', '/vserver/v2/getServerInstanceList?regionCode=KR&responseFormatType=json', TS, AK),
    'GET /vserver/v2/getServerInstanceList?regionCode=KR&responseFormatType=json\n1714550400000\nNCPACCESSKEYEXAMPLE01',
  );
});

test('upper-cases the method in the NCP string to sign', () => {
  assert.equal(ncpStringToSign('post', '/a', '1', 'k'), 'POST /a\n1\nk');
});

test('signs NCP-1 (plain query)', () => {
  const sts = ncpStringToSign('GET', '/vserver/v2/getServerInstanceList?regionCode=KR&responseFormatType=json', TS, AK);
  assert.equal(ncpSignature(SK, sts), 'NN02lYUu1lMvdrZqXshARidAfKnpsehc2y/s3rrEFus=');
});

test('signs NCP-2 exactly as sent on the wire (percent-encoding kept, query not sorted)', () => {
  const target = '/vserver/v2/getServerInstanceList?serverName=web%20server%2B1&filter=a%3Db%26c&responseFormatType=json';
  const sts = ncpStringToSign('GET', target, TS, AK);
  assert.equal(
    sts,
    'GET /vserver/v2/getServerInstanceList?serverName=web%20server%2B1&filter=a%3Db%26c&responseFormatType=json\n1714550400000\nNCPACCESSKEYEXAMPLE01',
  );
  assert.equal(ncpSignature(SK, sts), '8C9HFzaCsCXgi8ZdMe+YSILYNjdA4XAq+0Ag9GdDJdQ=');
});

test('signs NCP-3 (encoded non-ASCII path, no query, no bare ?)', () => {
  const sts = ncpStringToSign('POST', '/api/v1/%EB%B2%84%ED%82%B7/objects/a%20b%2Bc.txt', TS, AK);
  assert.equal(sts, 'POST /api/v1/%EB%B2%84%ED%82%B7/objects/a%20b%2Bc.txt\n1714550400000\nNCPACCESSKEYEXAMPLE01');
  assert.equal(ncpSignature(SK, sts), 'MGkaUACfr4lEANx7QCQhGC1nOAJyJBXJqw9WjmLMlpM=');
});

test('reproduces the external NCP client reference vector', () => {
  const sts = ncpStringToSign('GET', '/vserver/v2/getServerInstanceList?responseFormatType=json', '1234567890123', 'TestAccessKey');
  assert.equal(ncpSignature('TestSecretKey', sts), 'FPsYYX8fuMAgi+cue3eACOW0dNtIwu1LYWfg/megA2M=');
});

test('produces the three x-ncp-* headers of NCP-1', () => {
  const headers = ncpSignHeaders({
    method: 'GET',
    requestTarget: '/vserver/v2/getServerInstanceList?regionCode=KR&responseFormatType=json',
    accessKey: AK,
    secretKey: SK,
    timestamp: 1714550400000,
  });
  assert.deepEqual(headers, {
    'x-ncp-apigw-timestamp': '1714550400000',
    'x-ncp-iam-access-key': AK,
    'x-ncp-apigw-signature-v2': 'NN02lYUu1lMvdrZqXshARidAfKnpsehc2y/s3rrEFus=',
  });
});

test('stamps NCP headers with the current time in milliseconds when no timestamp is given', () => {
  const before = Date.now();
  const headers = ncpSignHeaders({ method: 'GET', requestTarget: '/x', accessKey: AK, secretKey: SK });
  const ts = Number(headers['x-ncp-apigw-timestamp']);
  assert.match(headers['x-ncp-apigw-timestamp']!, /^\d{13}$/);
  assert.ok(ts >= before && ts <= Date.now());
  assert.equal(headers['x-ncp-apigw-signature-v2'], ncpSignature(SK, ncpStringToSign('GET', '/x', String(ts), AK)));
  assert.equal(headers['x-ncp-apigw-signature-v2'].length, 44);
});
