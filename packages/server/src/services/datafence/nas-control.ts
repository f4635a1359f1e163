/**
 * Dev-profile test controls of box NAS (through the platform's `control` hook, after the guards of
 * control.ts): a developer's test reads and writes files on a box's NAS without a sandbox.
 *
 *   GET    /_stockade/boxes/{boxId}/nas               the box's NAS and the files of one of them
 *   GET    /_stockade/boxes/{boxId}/nas/{path}        a file's bytes
 *   PUT    /_stockade/boxes/{boxId}/nas/{path}        writes the request body to the file (quota applies)
 *   DELETE /_stockade/boxes/{boxId}/nas/{path}        removes the file
 *
 * `?instanceNo=N` picks the NAS (default: the box's first). Paths follow the volume rules
 * (store/volumes.ts: relative, `/`-separated, no `.`/`..`, no backslash or NUL, no symlinks);
 * each segment is percent-decoded. Answers: 400 for a bad path, 404 for a missing box, NAS or
 * file, 413 when the write would pass the NAS size, JSON `{"error"}` for every failure.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { InvalidPathError, QuotaExceededError } from '../../store/volumes.js';
import type { DatafenceService } from './service.js';

const ROUTE = /^\/_stockade\/boxes\/(\d{1,15})\/nas(?:\/(.*))?$/;

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** `a/b%20c` → `a/b c`; undefined when a segment is not valid percent-encoding or decodes to a `/`. */
function decodePath(raw: string): string | undefined {
  try {
    const segments = raw.split('/').map((s) => decodeURIComponent(s));
    if (segments.some((s) => s.includes('/'))) return undefined;
    return segments.join('/');
  } catch {
    return undefined;
  }
}

export async function nasControl(svc: DatafenceService, req: IncomingMessage, res: ServerResponse, rawPath: string): Promise<boolean> {
  const m = ROUTE.exec(rawPath);
  if (!m) return false;
  const method = req.method ?? 'GET';
  const fail = (status: number, error: string, extra: Record<string, unknown> = {}) => {
    req.resume();
    json(res, status, { error, ...extra });
    return true;
  };
  const boxId = Number(m[1]);
  const box = await svc.repo.getBox(svc.app.store.db, boxId);
  if (!box) return fail(404, `no box ${boxId}`);
  const all = await svc.boxNas(boxId);
  const q = new URL(req.url ?? '/', 'http://x').searchParams.get('instanceNo');
  const nas = q === null ? all[0] : all.find((n) => String(n.instanceNo) === q);
  if (!nas) return fail(404, q === null ? `box ${boxId} has no NAS in use` : `box ${boxId} has no NAS ${q}`);
  const volume = await svc.app.volumes.open(nas.volumeId);

  if (m[2] === undefined || m[2] === '') {
    if (method !== 'GET') return fail(405, `${method} needs a file path: /_stockade/boxes/${boxId}/nas/{path}`);
    const usage = await volume.usage();
    json(res, 200, {
      boxId,
      nas: all.map((n) => ({ boxStorageId: n.boxStorageId, instanceNo: n.instanceNo, instanceName: n.instanceName, mountPath: n.linuxMountPath, sizeGb: n.sizeGb })),
      instanceNo: nas.instanceNo,
      usedBytes: usage.usedBytes,
      files: (await volume.list()).map((f) => ({ path: f.path, size: f.size })),
    });
    return true;
  }
  const clientPath = decodePath(m[2]);
  if (clientPath === undefined) return fail(400, 'the path is not valid percent-encoding, or a segment decodes to "/"');
  try {
    if (method === 'PUT') {
      const { size } = await volume.write(clientPath, req);
      json(res, 200, { path: clientPath, size, instanceNo: nas.instanceNo, mountPath: `${nas.linuxMountPath}/${clientPath}` });
      return true;
    }
    if (method === 'GET' || method === 'HEAD') {
      const st = await volume.stat(clientPath);
      if (!st) return fail(404, `no file ${clientPath} on NAS ${nas.instanceName}`);
      if (st.type !== 'file') return fail(400, `${clientPath} is a directory`);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': st.size });
      if (method === 'HEAD') res.end();
      else await pipeline(volume.read(clientPath), res);
      return true;
    }
    if (method === 'DELETE') {
      if (!(await volume.remove(clientPath))) return fail(404, `no file ${clientPath} on NAS ${nas.instanceName}`);
      json(res, 200, { path: clientPath, removed: true });
      return true;
    }
    return fail(405, `${method} is not a NAS control (GET, PUT, DELETE)`);
  } catch (e) {
    if (e instanceof InvalidPathError) return fail(400, e.message, { reason: e.reason });
    if (e instanceof QuotaExceededError) return fail(413, e.message, { quotaBytes: e.quotaBytes });
    if (res.headersSent) {
      res.destroy();
      return true;
    }
    throw e;
  }
}
