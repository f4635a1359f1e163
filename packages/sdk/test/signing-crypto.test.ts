import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import * as browser from '../src/signing/crypto-browser.js';
import * as node from '../src/signing/crypto-node.js';

// Lengths around SHA-256's block edges (55/56/63/64 bytes) and keys longer than a block.
const MESSAGES = ['', 'abc', 'a'.repeat(55), 'a'.repeat(56), 'a'.repeat(63), 'a'.repeat(64), 'a'.repeat(1000), '组-A b+c~(1)/rule 7 é 🙂'];
const KEYS = ['', 'key', 'k'.repeat(64), 'k'.repeat(65), 'Secret/組'];

test('the browser SHA-256 gives the FIPS 180-4 test vectors and node:crypto’s digest for every length', () => {
  assert.equal(browser.sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(
    browser.sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'),
    '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
  );
  for (let n = 0; n < 300; n++) {
    const bytes = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
    assert.equal(browser.sha256Hex(bytes), createHash('sha256').update(bytes).digest('hex'), `length ${n}`);
  }
});

test('the browser HMAC-SHA256 equals node:crypto’s in hex, base64 and bytes, for string and byte keys', () => {
  for (const key of KEYS) {
    for (const msg of MESSAGES) {
      assert.equal(browser.hmacSha256Hex(key, msg), createHmac('sha256', Buffer.from(key, 'utf8')).update(msg, 'utf8').digest('hex'));
      assert.equal(browser.hmacSha256Base64(key, msg), node.hmacSha256Base64(key, msg));
      const raw = node.hmacSha256(key, msg);
      assert.deepEqual([...browser.hmacSha256(raw, msg)], [...node.hmacSha256(raw, msg)]);
    }
  }
});

test('the browser UTF-8 codec equals Buffer’s, including U+FFFD for invalid sequences', () => {
  for (const s of MESSAGES) assert.deepEqual([...browser.utf8Encode(s)], [...node.utf8Encode(s)]);
  for (const bytes of [[0xff], [0xe4, 0xb8], [0x61, 0xc3, 0x28, 0x62], [0xf0, 0x9f, 0x99, 0x82], [0xed, 0xa0, 0x80]]) {
    const b = new Uint8Array(bytes);
    assert.equal(browser.utf8Decode(b), node.utf8Decode(b), JSON.stringify(bytes));
  }
});
