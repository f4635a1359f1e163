/**
 * The signers' primitives in Node: `node:crypto` and `Buffer` (what the signers always used, so
 * the server's verifiers behave exactly as before). A browser build resolves `#sdk-crypto` to
 * `crypto-browser.ts` instead (package.json `imports`, condition `browser`); both export the same
 * functions, and `test/signing-crypto.test.ts` holds them equal.
 */
import { createHash, createHmac } from 'node:crypto';

/** HMAC-SHA256 of the UTF-8 message; a string key is taken as its UTF-8 bytes. */
export function hmacSha256(key: string | Uint8Array, message: string): Uint8Array {
  return createHmac('sha256', typeof key === 'string' ? Buffer.from(key, 'utf8') : key).update(message, 'utf8').digest();
}

export function hmacSha256Hex(key: string | Uint8Array, message: string): string {
  return createHmac('sha256', typeof key === 'string' ? Buffer.from(key, 'utf8') : key).update(message, 'utf8').digest('hex');
}

export function hmacSha256Base64(key: string | Uint8Array, message: string): string {
  return createHmac('sha256', typeof key === 'string' ? Buffer.from(key, 'utf8') : key).update(message, 'utf8').digest('base64');
}

/** Lower-case hex SHA-256 of a string's UTF-8 bytes, or of bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function utf8Encode(s: string): Uint8Array {
  return Buffer.from(s, 'utf8');
}

/** UTF-8 decoding; invalid sequences become U+FFFD. */
export function utf8Decode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
