/**
 * Contract checks (tests, `config.contractChecks`): the operation table is a promise about the wire,
 * so every answer is held to it. A handler error whose code and status the operation does not
 * declare, or a success body that does not match the operation's response schema, is a violation:
 * it is recorded (`violations`), logged, and answered as an internal error so that the test that
 * caused it fails where it happened. The test server fails its suite on any recorded violation.
 */
import type { Logger } from 'pino';
import type { OperationDef } from '@stockade/sdk';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import type { ApiError } from '../platform/errors.js';

export class ContractChecker {
  readonly violations: string[] = [];
  private readonly checks = new WeakMap<TSchema, TypeCheck<TSchema>>();

  constructor(private readonly logger: Logger) {}

  private record(text: string): string {
    this.violations.push(text);
    this.logger.error({ violation: text }, 'contract violation');
    return text;
  }

  /** A violation when a handler raised an error its operation does not declare. */
  checkError(def: OperationDef, err: ApiError): string | null {
    if (err.layer === 'gateway') return null;
    if (def.errors.some((e) => e.code === err.code && e.status === err.status)) return null;
    return this.record(
      `contract violation: ${def.service} ${def.name} raised ${err.status} ${err.code} (${err.message}), which the operation does not declare`,
    );
  }

  /** A violation when a success body does not match the operation's response schema. */
  checkResponse(def: OperationDef, status: number, body: unknown): string | null {
    if (!def.response || status !== (def.successStatus ?? 200)) return null;
    let check = this.checks.get(def.response);
    if (!check) {
      check = TypeCompiler.Compile(def.response);
      this.checks.set(def.response, check);
    }
    // What goes on the wire: undefined fields vanish, as JSON.stringify drops them.
    const wire: unknown = body === undefined ? undefined : JSON.parse(JSON.stringify(body));
    if (check.Check(wire)) return null;
    const e = check.Errors(wire).First();
    return this.record(
      `contract violation: ${def.service} ${def.name} answered a body that does not match its response schema` +
        (e ? ` at ${e.path || '/'}: ${e.message} (got ${JSON.stringify(e.value)?.slice(0, 200)})` : ''),
    );
  }
}
