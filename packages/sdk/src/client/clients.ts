import { serviceOps } from '../ops/index.js';
import type { OperationInput, OperationOutput } from '../ops/types.js';
import { OperationClient, type AnyOperationDef, type CallOptions, type ClientOptions } from './base.js';

/** The client method of one operation; the input is optional when no field is required. */
export type OpMethod<D> =
  Record<never, never> extends OperationInput<D>
    ? (input?: OperationInput<D>, options?: CallOptions) => Promise<OperationOutput<D>>
    : (input: OperationInput<D>, options?: CallOptions) => Promise<OperationOutput<D>>;

/** One method per entry of an operation table. */
export type OpMethods<T> = { [K in keyof T]: OpMethod<T[K]> };

export type ServiceClient<T> = OperationClient & OpMethods<T>;

export interface ServiceClientConstructor<T> {
  new (options: ClientOptions): ServiceClient<T>;
  /** The operation table the methods were derived from. */
  readonly operations: T;
}

/** Adds one method per operation of `ops` to `target` (an own, non-enumerable property each). */
export function bindOperations(target: OperationClient, ops: object): void {
  for (const [key, def] of Object.entries(ops) as Array<[string, AnyOperationDef]>) {
    if (key in target) throw new Error(`operation key '${key}' collides with an OperationClient member`);
    Object.defineProperty(target, key, {
      value: (input?: Record<string, unknown>, options?: CallOptions) => target.call(def, input ?? {}, options),
      enumerable: false,
      writable: true,
      configurable: true,
    });
  }
}

/** A client class whose methods are derived from an operation table at construction. */
export function defineServiceClient<T extends object>(name: string, ops: T): ServiceClientConstructor<T> {
  const C = class extends OperationClient {
    static readonly operations = ops;
    constructor(options: ClientOptions) {
      super(options);
      bindOperations(this, ops);
    }
  };
  Object.defineProperty(C, 'name', { value: name });
  return C as unknown as ServiceClientConstructor<T>;
}

type DatafenceOps = typeof serviceOps.datafence;
type DataflowOps = typeof serviceOps.dataflow;
type CfsOps = typeof serviceOps.cfs;
type StockadeOps = typeof serviceOps.stockade;

/** NAVER Cloud Datafence (NCP signature v2): `new DatafenceClient({...}).getProductSpec()`. */
export const DatafenceClient: ServiceClientConstructor<DatafenceOps> = defineServiceClient('DatafenceClient', serviceOps.datafence);
export type DatafenceClient = ServiceClient<DatafenceOps>;

/** NAVER Cloud Data Flow (NCP signature v2). */
export const DataFlowClient: ServiceClientConstructor<DataflowOps> = defineServiceClient('DataFlowClient', serviceOps.dataflow);
export type DataFlowClient = ServiceClient<DataflowOps>;

/** Baidu Cloud File Storage (bce-auth-v1). */
export const CfsClient: ServiceClientConstructor<CfsOps> = defineServiceClient('CfsClient', serviceOps.cfs);
export type CfsClient = ServiceClient<CfsOps>;

/** Stockade's own operations (NCP signature v2): who am I, the account's audit log. */
export const StockadeClient: ServiceClientConstructor<StockadeOps> = defineServiceClient('StockadeClient', serviceOps.stockade);
export type StockadeClient = ServiceClient<StockadeOps>;
