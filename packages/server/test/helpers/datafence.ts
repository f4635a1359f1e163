/**
 * Datafence test helpers: request bodies generated from the served product catalogue, the
 * test-control calls that step lifecycles.
 */
import assert from 'node:assert/strict';
import type { DatafenceClient } from '@stockade/sdk';
import type { TestServer } from './server.js';

export type Catalog = Awaited<ReturnType<DatafenceClient['getProductSpec']>>;

export const PASSWORD = 'Passw0rd#2024';

/** A test control request (POST with `x-stockade-control: 1`). */
export async function control(srv: TestServer, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(srv.url + path, {
    method: 'POST',
    headers: { 'x-stockade-control': '1', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text);
}

/** Runs every due and manual task (`POST /_stockade/tasks/run`); returns how many ran. */
export async function runTasks(srv: TestServer): Promise<number> {
  return ((await control(srv, '/_stockade/tasks/run')) as { ran: number }).ran;
}

/** A spec and software of a product, from the catalogue the server answers. */
export function pick(catalog: Catalog, productCode: string, index = 0): { specCode: string; softwareCode: string } {
  const p = catalog.find((x) => x.productCode === productCode);
  assert.ok(p, `catalogue has ${productCode}`);
  return { specCode: p.specCodeList[index % p.specCodeList.length]!.specCode, softwareCode: p.softwareCodeList[0]?.softwareCode ?? '' };
}

/** A server entry of create-box for `productCode` (storage 100 GB: valid for every server product). */
export function serverEntry(catalog: Catalog, productCode: string, storageSize = 100) {
  return { ...pick(catalog, productCode), storageSize, userPassword: PASSWORD };
}

/** A valid `createBoxInfo`: one connect server, one Linux server, one 500 GB NAS, plus `extra`. */
export function boxInfo(catalog: Catalog, extra: Record<string, unknown> = {}) {
  return {
    connectServerList: [{ specCode: pick(catalog, 'CON').specCode, storageSize: 100, userPassword1: PASSWORD, userPassword2: PASSWORD }],
    linuxServerList: [serverEntry(catalog, 'SVR_LNX_UBUNTU')],
    nasList: [{ nasSize: 500, count: 1 }],
    ...extra,
  };
}

/** A Hadoop cluster entry of create-box. */
export function hadoopEntry(catalog: Catalog, workerNodeCount = 2) {
  return {
    EdgeNodeSpecCode: pick(catalog, 'HD_EDGE').specCode,
    masterNodeSpecCode: pick(catalog, 'HD_MASTER').specCode,
    masterNodeStorageSize: 100,
    workerNodeSpecCode: pick(catalog, 'HD_WORKER').specCode,
    workerNodeCount,
    workerNodeStorageSize: 200,
    userPassword: PASSWORD,
  };
}

/** The newest box of the fence (ids grow). */
export async function newestBox(df: DatafenceClient, fenceId: number) {
  const h = await df.getBoxHistory({ fenceId, page: 0, size: 1 });
  assert.ok(h.content[0], 'the fence has a box');
  return h.content[0];
}

/** Every item of a box's infra list (all pages). */
export async function infraOf(df: DatafenceClient, fenceId: number, boxId: number) {
  return (await df.getBoxInfraList({ fenceId, boxId, page: 0, size: 100 })).content;
}
