/** OpenAPI 3.1 document derived from the operation table: one document, one tag per service. */
import { allOperations, type OperationDef } from '@stockade/sdk';

function parameters(def: OperationDef) {
  const out: unknown[] = [];
  for (const [where, schema] of [['path', def.params], ['query', def.query]] as const) {
    if (!schema) continue;
    const required = new Set(schema.required ?? []);
    for (const [name, s] of Object.entries(schema.properties)) {
      out.push({ name, in: where, required: where === 'path' || required.has(name), schema: s });
    }
  }
  if (def.queryFlag) out.push({ name: def.queryFlag, in: 'query', required: true, allowEmptyValue: true, schema: { type: 'string' } });
  return out;
}

const SECURITY: Record<OperationDef['auth'], string> = { 'ncp-v2': 'ncpV2', 'bce-v1': 'bceV1', 'aws-sigv4': 'sigV4' };

export function openApiDocument(implemented: (def: OperationDef) => boolean) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { key, def } of allOperations()) {
    // A path-and-method pair may host several operations told apart by a query flag.
    const path = def.queryFlag ? `${def.path}?${def.queryFlag}` : def.path;
    const item = (paths[path] ??= {});
    for (const method of [def.method, ...(def.aliasMethods ?? [])]) {
      item[method.toLowerCase()] = {
        operationId: `${def.service}.${key}`,
        summary: def.summary,
        tags: [def.service],
        security: [{ [SECURITY[def.auth]]: [] }],
        'x-stockade-role': def.role,
        'x-stockade-implemented': implemented(def),
        parameters: parameters(def),
        ...(def.body ? { requestBody: { required: true, content: { 'application/json': { schema: def.body } } } } : {}),
        responses: {
          [String(def.successStatus ?? 200)]: def.response
            ? { description: 'Success', content: { 'application/json': { schema: def.response } } }
            : { description: 'Success (no body)' },
          ...Object.fromEntries(def.errors.map((e) => [String(e.status), { description: `${e.code}: ${e.when}` }])),
        },
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Stockade', version: '0.1.0', description: 'Datafence, Data Flow and Cloud File Storage, as served by Stockade.' },
    tags: [
      { name: 'datafence', description: 'NAVER Cloud Datafence (NCP API Gateway signature v2)' },
      { name: 'dataflow', description: 'NAVER Cloud Data Flow (NCP API Gateway signature v2)' },
      { name: 'cfs', description: 'Baidu Cloud File Storage (bce-auth-v1)' },
      { name: 'stockade', description: "Stockade's own operations: caller identity, the account's audit log (NCP signature v2)" },
    ],
    components: {
      securitySchemes: {
        ncpV2: { type: 'apiKey', in: 'header', name: 'x-ncp-apigw-signature-v2' },
        bceV1: { type: 'apiKey', in: 'header', name: 'Authorization' },
        sigV4: { type: 'apiKey', in: 'header', name: 'Authorization' },
      },
    },
    paths,
  };
}
