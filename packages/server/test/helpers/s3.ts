/** Shared pieces of the Object Storage tests. */
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { S3ServiceException } from '@aws-sdk/client-s3';

/** Awaits `p` and asserts it failed with an S3 error of that status (and code, when given). */
export async function rejectsS3(p: Promise<unknown>, status: number, code?: string): Promise<S3ServiceException> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof S3ServiceException, `expected an S3 error, got ${String(e)}`);
    assert.equal(e.$metadata.httpStatusCode, status, `${e.name}: ${e.message}`);
    if (code !== undefined) assert.equal(e.name, code, e.message);
    return e;
  }
  assert.fail(`expected ${status} ${code ?? ''}`);
}

/** Every file under `dir`, recursively, as absolute paths (directories are not listed; none if `dir` is missing). */
export async function filesUnder(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return [];
    throw e;
  }
  const out: string[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}
