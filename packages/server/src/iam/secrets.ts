/**
 * Secret keys are stored encrypted (AES-256-GCM) under a master key: `STOCKADE_MASTER_KEY`
 * (any string; its SHA-256 is the key), or 32 random bytes generated on first start into
 * `<data>/master.key` with mode 0600. Other keys (the audit log's MAC key) are derived from it
 * with `deriveKey`, so the master key itself is used for one thing only.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync, linkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /**
   * The master key from `STOCKADE_MASTER_KEY`, else `<dataDir>/master.key`, which is generated when
   * missing unless `create` is false (then a missing key is an error: a command that must use the
   * server's key, such as `audit verify`, must not silently make a new one).
   */
  static fromEnvOrFile(dataDir: string, env: NodeJS.ProcessEnv = process.env, opts: { create?: boolean } = {}): SecretBox {
    const fromEnv = env.STOCKADE_MASTER_KEY;
    if (fromEnv) return new SecretBox(createHash('sha256').update(fromEnv).digest());
    const file = join(dataDir, 'master.key');
    if (existsSync(file)) {
      const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
      if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
      return new SecretBox(key);
    }
    if (opts.create === false) {
      throw new Error(`no master key: STOCKADE_MASTER_KEY is not set and ${file} does not exist (give the server's --data DIR)`);
    }
    mkdirSync(dataDir, { recursive: true });
    const key = randomBytes(32);
    // Written whole to a private temporary file, then linked into place: `link` creates the name
    // only if it is absent, atomically, so a process starting at the same moment either wins or
    // reads the complete key another process wrote (never an empty, half-written file).
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx', flush: true });
    try {
      linkSync(tmp, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return SecretBox.fromEnvOrFile(dataDir, env);
      throw e;
    } finally {
      unlinkSync(tmp);
    }
    return new SecretBox(key);
  }

  /**
   * A 32-byte key for `purpose`, derived from the master key: HKDF-SHA256 with an empty salt and
   * info `stockade/<purpose>`. Keys for different purposes are independent of each other.
   */
  deriveKey(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key, Buffer.alloc(0), `stockade/${purpose}`, 32));
  }

  /**
   * A box sealing under a key derived for `purpose` (`deriveKey`): what a service seals with it
   * (Datafence server passwords) cannot be opened with the master key or another purpose's key.
   */
  forPurpose(purpose: string): SecretBox {
    return new SecretBox(this.deriveKey(purpose));
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
