/** The error assertion of the NCP-signed services' tests (Datafence, Data Flow, the stockade service). */
import assert from 'node:assert/strict';
import { StockadeApiError } from '@stockade/sdk';

/**
 * Asserts that `p` fails with this status and error code (Datafence's `returnCode`, Data Flow's
 * `errorType`, the gateway's `errorCode`), and, given `detail`, a problem detail that matches it.
 */
export async function rejects(p: Promise<unknown>, status: number, code: string, detail?: RegExp): Promise<StockadeApiError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof StockadeApiError, `expected StockadeApiError, got ${String(e)}`);
    assert.equal(e.status, status, JSON.stringify(e.body));
    assert.equal(e.code, code, JSON.stringify(e.body));
    if (detail) assert.match(String((e.body as { detail?: unknown }).detail), detail);
    return e;
  }
  assert.fail(`expected ${status} ${code}`);
}
