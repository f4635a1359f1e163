import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled module, as a child process imports it. */
const SECRETS = fileURLToPath(new URL('../../src/iam/secrets.js', import.meta.url));

/** A process that opens (or makes) the master key of `dataDir` and prints a fingerprint of it. */
function fingerprint(dataDir: string): Promise<{ code: number | null; out: string; err: string }> {
  const script = `
    const { SecretBox } = await import(${JSON.stringify(SECRETS)});
    const box = SecretBox.fromEnvOrFile(${JSON.stringify(dataDir)}, {});
    process.stdout.write(box.deriveKey('test-fingerprint').toString('hex'));
  `;
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

test('processes starting together on an empty data directory all use the one master key that one of them wrote', { timeout: 60_000 }, async () => {
  for (let round = 0; round < 3; round++) {
    const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'stockade-masterkey-'));
    try {
      const results = await Promise.all(Array.from({ length: 8 }, () => fingerprint(dataDir)));
      for (const r of results) assert.equal(r.code, 0, r.err);
      assert.equal(new Set(results.map((r) => r.out)).size, 1, 'every process derived its keys from the same master key');
      // The key file, and no temporary file beside it.
      assert.deepEqual(await fsp.readdir(dataDir), ['master.key']);
      assert.equal((await fsp.stat(path.join(dataDir, 'master.key'))).mode & 0o777, 0o600);
    } finally {
      await fsp.rm(dataDir, { recursive: true, force: true });
    }
  }
});
