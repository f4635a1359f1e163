/**
 * The operation table: every operation of every service is declared once, as data.
 *
 * The server derives routes, validation, the OpenAPI document and the coverage matrix from
 * these declarations; the SDK derives its typed clients from them. Handlers hold behaviour only.
 */
import { Type, type TSchema, type Static, type TObject, type TProperties } from '@sinclair/typebox';

/** `stockade`: the server's own operations (ops/stockade.ts). */
export type ServiceName = 'datafence' | 'dataflow' | 'cfs' | 's3' | 'stockade';
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
export type AuthScheme = 'ncp-v2' | 'bce-v1' | 'aws-sigv4';

/**
 * Roles, from most to least privileged. `owner` may call everything; `fence-admin` may call
 * everything an analyst may plus export review; `box-user` is an analyst scoped to boxes.
 */
export type Role = 'owner' | 'fence-admin' | 'box-user';
export const ROLES: readonly Role[] = ['owner', 'fence-admin', 'box-user'];

/** Does a user holding `held` satisfy an operation that requires `required`? */
export function roleSatisfies(held: Role, required: Role): boolean {
  return ROLES.indexOf(held) <= ROLES.indexOf(required);
}

/** A documented error of an operation: the service's own code and HTTP status. */
export interface DocumentedError {
  status: number;
  code: string;
  when: string;
}

export interface OperationDef<
  P extends TProperties = TProperties,
  Q extends TProperties = TProperties,
  B extends TSchema = TSchema,
  R extends TSchema = TSchema,
> {
  service: ServiceName;
  /** The operation's name as the vendor documents it (`get-product-spec`, `getJobs`, `QueryFileSystem`). */
  name: string;
  method: HttpMethod;
  /** Path template; `{name}` segments are path parameters. */
  path: string;
  /**
   * Extra route discriminator: the operation only matches when this query key is present
   * (CFS `POST /v1/cfs?tag`). Routes with a discriminator win over those without.
   */
  queryFlag?: string;
  /** Other methods that reach the same operation (Data Flow updateJob answers PUT and PATCH). */
  aliasMethods?: HttpMethod[];
  /** Other paths that reach the same operation (documented misspellings). */
  aliasPaths?: string[];
  summary: string;
  params?: TObject<P>;
  query?: TObject<Q>;
  body?: B;
  response?: R;
  /** HTTP status of a success. Default 200. */
  successStatus?: number;
  auth: AuthScheme;
  role: Role;
  /**
   * The input field holding a client idempotency token (CFS `clientToken`). The gateway applies
   * it: a retry with the same token and parameters gets the first answer again without running
   * the operation; other parameters get the service's mismatch error.
   */
  idempotencyToken?: string;
  errors: DocumentedError[];
}

/** Identity helper that keeps the literal types of a declaration. */
export function op<P extends TProperties, Q extends TProperties, B extends TSchema, R extends TSchema>(
  def: OperationDef<P, Q, B, R>,
): OperationDef<P, Q, B, R> {
  return def;
}

type Empty = Record<never, never>;
/** The static type of an object schema's properties; nothing when the schema was not declared. */
type PropsOf<P extends TProperties> = TProperties extends P ? Empty : Static<TObject<P>>;
/** An object body is flattened into the input; any other body travels under `body`. */
type BodyOf<B extends TSchema> = TSchema extends B ? Empty : B extends TObject ? Static<B> : { body: Static<B> };

/**
 * The input a client passes for an operation: path parameters, query parameters and body
 * fields flattened into one object (the client splits them back by the declared schemas).
 */
export type OperationInput<D> =
  D extends OperationDef<infer P, infer Q, infer B, infer _R> ? PropsOf<P> & PropsOf<Q> & BodyOf<B> : never;

/** The decoded success body of an operation (`unknown` when no response schema is declared). */
export type OperationOutput<D> =
  D extends OperationDef<infer _P, infer _Q, infer _B, infer R> ? (TSchema extends R ? unknown : Static<R>) : never;

/** Shared schema pieces. */
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/**
 * Upper bounds of the integers a request carries (a test walks the table and fails on an
 * integer without one). Ids and instance numbers: 2^53 − 1, the largest integer a JSON number
 * carries exactly (the database stores ids as 64-bit integers).
 */
export const MAX_ID = Number.MAX_SAFE_INTEGER;
/** A value the vendor documents as a Java `int` (CFS access rule ids). */
export const MAX_INT32 = 2_147_483_647;

/**
 * An integer that may arrive as a JSON number or as a numeric string. NCP documents several
 * instance numbers as Strings in some requests and Integers in others (datafence.md §2.3).
 * Either form is bounded: the string to 15 digits, so that converting it to a number is exact.
 */
export const IntOrString = (opts: { description?: string } = {}) =>
  Type.Union([Type.Integer({ minimum: 0, maximum: MAX_ID }), Type.String({ pattern: '^[0-9]{1,15}$' })], opts);

/**
 * Schema annotation: the documented error a value failing this schema is answered with, in place
 * of the service's generic parameter error (CFS `fsName` → `InvalidFSName`). The gateway hands it
 * to the service's protocol with the failing field; a missing field is still "missing".
 * Spread into a schema's options: `Type.String({ pattern, ...invalidAs(E.invalidFsName) })`.
 */
export const INVALID_AS = 'x-error';
export const invalidAs = (err: DocumentedError): { [INVALID_AS]: DocumentedError } => ({ [INVALID_AS]: err });
