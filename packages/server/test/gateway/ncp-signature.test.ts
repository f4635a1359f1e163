/**
 * The gateway computes NCP signatures with HMAC keys it keeps per secret (gateway/verify.ts);
 * they must equal the SDK's `ncpSignature` for any secret and string to sign.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ncpSignature, ncpStringToSign } from '@stockade/sdk';
import { ncpHmac } from '../../src/gateway/verify.js';

test('the gateway’s NCP signature equals the SDK’s for generated secrets and requests', () => {
  const secrets = [
    ...Array.from({ length: 20 }, () => randomBytes(30).toString('base64')),
    'ünïcödé-秘密-🔑',
    '',
    'x'.repeat(200),
  ];
  for (const [i, secret] of secrets.entries()) {
    for (let j = 0; j < 5; j++) {
      const target = `/api/v1/jobs?page=${i}&name=${encodeURIComponent('é ' + j)}&raw=ü${j}`;
      const sts = ncpStringToSign(j % 2 ? 'GET' : 'post', target, String(1_700_000_000_000 + i * j), `AK${i}`);
      assert.equal(ncpHmac(secret, sts), ncpSignature(secret, sts), `secret ${i}, request ${j}`);
      assert.equal(ncpHmac(secret, sts), ncpHmac(secret, sts), 'the kept key signs alike');
    }
  }
});
