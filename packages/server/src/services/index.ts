/** The one place where services register their handlers. */
import type { ServiceName } from '@stockade/sdk';
import type { Handler } from '../gateway/handler.js';
import { datafenceHandlers } from './datafence/handlers.js';
import { dataflowHandlers } from './dataflow/handlers.js';
import { cfsHandlers } from './cfs/handlers.js';
import { s3Operations } from './s3/index.js';

export const serviceHandlers: Record<ServiceName, Record<string, Handler>> = {
  datafence: datafenceHandlers,
  dataflow: dataflowHandlers,
  cfs: cfsHandlers,
  // S3 is served by its own raw service (s3/index.ts: SigV4, streaming, XML), never through the
  // operation-table gateway; its operations are listed here by name for the coverage matrix.
  s3: s3Operations as unknown as Record<string, Handler>,
};
