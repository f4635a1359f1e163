/** The one place where services register their handlers. */
import type { ServiceName } from '@stockade/sdk';
import type { Handler } from '../gateway/handler.js';
import { datafenceHandlers } from './datafence/handlers.js';
import { dataflowHandlers } from './dataflow/handlers.js';
import { cfsHandlers } from './cfs/handlers.js';

export const serviceHandlers: Record<ServiceName, Record<string, Handler>> = {
  datafence: datafenceHandlers,
  dataflow: dataflowHandlers,
  cfs: cfsHandlers,
  s3: {},
};
