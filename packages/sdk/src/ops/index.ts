import type { OperationDef, ServiceName } from './types.js';
import { datafenceOps } from './datafence.js';
import { dataflowOps } from './dataflow.js';
import { cfsOps } from './cfs.js';
import { stockadeOps } from './stockade.js';

export * from './types.js';
export * from './datafence.js';
export * from './dataflow.js';
export * from './cfs.js';
export * from './s3.js';
export * from './stockade.js';

/** The JSON-API services whose operations are fully declared in this table. */
export const serviceOps = {
  datafence: datafenceOps,
  dataflow: dataflowOps,
  cfs: cfsOps,
  stockade: stockadeOps,
} as const;

export type JsonServiceName = keyof typeof serviceOps;

/** Every declared operation with its client method name. */
export function allOperations(): Array<{ key: string; def: OperationDef }> {
  const out: Array<{ key: string; def: OperationDef }> = [];
  for (const ops of Object.values(serviceOps)) {
    for (const [key, def] of Object.entries(ops)) out.push({ key, def: def });
  }
  return out;
}

export function operationsOf(service: ServiceName): Array<{ key: string; def: OperationDef }> {
  return allOperations().filter((o) => o.def.service === service);
}
