/**
 * Dev-profile test control of Data Flow executions (through the platform's `control` hook, after
 * the guards of control.ts). The API has no cancel operation (§1.5: cancelling is a console
 * action), so a developer's test cancels here:
 *
 *   POST /_stockade/dataflow/executions/{executionId}/cancel
 *
 * A READY execution is CANCELED at once (its task is canceled); a RUNNING one when its task
 * sees the cancellation, at its next lease renewal (the engine process is killed). Answers
 * `{"status":"CANCELED"}` or `{"status":"CANCELING"}`; 404 for an unknown execution, 409 for
 * one that has ended; JSON `{"error"}` for every failure.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DataflowService } from './service.js';

const ROUTE = /^\/_stockade\/dataflow\/executions\/([A-Za-z0-9]{1,64})\/cancel$/;

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function executionControl(svc: DataflowService, req: IncomingMessage, res: ServerResponse, rawPath: string): Promise<boolean> {
  const m = ROUTE.exec(rawPath);
  if (!m) return false;
  req.resume();
  if (req.method !== 'POST') {
    json(res, 405, { error: 'POST only' });
    return true;
  }
  const outcome = await svc.cancelExecution(m[1]!);
  if (outcome === 'missing') json(res, 404, { error: `no execution ${m[1]}` });
  else if (outcome === 'ended') json(res, 409, { error: `execution ${m[1]} has ended` });
  else json(res, 200, { status: outcome });
  return true;
}
