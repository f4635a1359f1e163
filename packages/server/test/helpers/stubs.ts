/**
 * Stub services: the real module's tables, migrations and tasks, with handlers the test gives. They
 * test the gateway's side of an operation (routing, roles, validation, idempotency, envelopes,
 * contract checks) without depending on whether the real operation is implemented.
 */
import { services } from '../../src/platform/registry.js';
import type { Handler, ServiceModule } from '../../src/platform/service.js';

export function stubService(name: 'datafence' | 'dataflow' | 'cfs', handlers: Record<string, Handler>): ServiceModule {
  const real = services.find((m) => m.name === name);
  if (!real) throw new Error(`no service ${name}`);
  return { ...real, handlers, tasks: [], create: (app) => ({ app }) };
}
