/**
 * Secret keys are stored encrypted (AES-256-GCM) under a master key: `STOCKADE_MASTER_KEY`
 * (any string; its SHA-256 is the key), or 32 random bytes generated on first start into
 * `<data>/master.key` with mode 0600.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static fromEnvOrFile(dataDir: string, env: NodeJS.ProcessEnv = process.env): SecretBox {
    const fromEnv = env.STOCKADE_MASTER_KEY;
    if (fromEnv) return new SecretBox(createHash('sha256').update(fromEnv).digest());
    const file = join(dataDir, 'master.key');
    if (existsSync(file)) {
      const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
      if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
      return new SecretBox(key);
    }
    mkdirSync(dataDir, { recursive: true });
    const key = randomBytes(32);
    // 'wx': never overwrite a key another process wrote a moment ago.
    try {
      writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return SecretBox.fromEnvOrFile(dataDir, env);
      throw e;
    }
    return new SecretBox(key);
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const enc = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), enc]).toString('base64');
  }

  open(sealed: string): string {
    const buf = Buffer.from(sealed, 'base64');
    const d = createDecipheriv('aes-256-gcm', this.key, buf.subarray(0, 12));
    d.setAuthTag(buf.subarray(12, 28));
    return Buffer.concat([d.update(buf.subarray(28)), d.final()]).toString('utf8');
  }
}
