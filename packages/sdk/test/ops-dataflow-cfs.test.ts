import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { dataflowOps, cfsOps, operationsOf, type OperationDef } from '../src/ops/index.js';

const DATAFLOW_KEYS = [
  'getExecutionResult', 'getExecutionCount', 'getExecutionTimes',
  'getWorkflows', 'getWorkflowById', 'createWorkflow', 'updateWorkflow', 'deleteWorkflow', 'getWorkflowExecutions',
  'getJobs', 'getJobById', 'createJob', 'updateJob', 'deleteJob', 'verifyJob', 'executeJob',
  'getJobExecutions', 'getJobExecutionById', 'updateJobExecuteConfig',
  'getTriggers', 'getTriggerById', 'createTrigger', 'deleteTrigger',
  'executeWorkflow',
];

const CFS_NAMES = [
  'CreateFileSystem', 'QueryFileSystem', 'UpdateFileSystem', 'DropFileSystem', 'UpdateFileSystemTags',
  'CreateMountTarget', 'QueryMountTarget', 'ModifyMountTargetAccessGroup', 'DropMountTarget', 'QueryMountedClients',
  'CreateAccessGroup', 'QueryAccessGroups', 'UpdateAccessGroup', 'DeleteAccessGroup',
  'CreateAccessRule', 'BatchCreateAccessRules', 'QueryAccessRules', 'UpdateAccessRule', 'DeleteAccessRule',
  'GetFsQuota',
];

const camel = (s: string) => s[0]!.toLowerCase() + s.slice(1);

function defs(ops: object): Array<[string, OperationDef]> {
  return Object.entries(ops) as Array<[string, OperationDef]>;
}

function assertUniqueRoutes(ops: object) {
  const seen = new Map<string, string>();
  for (const [key, def] of defs(ops)) {
    const routes = [def.method, ...(def.aliasMethods ?? [])].flatMap((m) =>
      [def.path, ...(def.aliasPaths ?? [])].map((p) => `${m} ${p} ${def.queryFlag ?? ''}`),
    );
    for (const r of routes) {
      assert.equal(seen.get(r), undefined, `${key}: route '${r}' already taken by ${seen.get(r)}`);
      seen.set(r, key);
    }
  }
}

function assertParamsMatchPath(ops: object) {
  for (const [key, def] of defs(ops)) {
    const placeholders = [...def.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    const declared = Object.keys(def.params?.properties ?? {}).sort();
    assert.deepEqual(declared, placeholders, `${key}: params must match the path placeholders`);
  }
}

function assertBodyOnlyOnWriteMethods(ops: object) {
  for (const [key, def] of defs(ops)) {
    if (def.method === 'GET' || def.method === 'DELETE') assert.equal(def.body, undefined, `${key}: no body on ${def.method}`);
  }
}

test('Data Flow declares the 23 operations + executeWorkflow', () => {
  assert.deepEqual(Object.keys(dataflowOps).sort(), [...DATAFLOW_KEYS].sort());
  assert.equal(operationsOf('dataflow').length, 24);
  for (const [key, def] of defs(dataflowOps)) {
    assert.equal(def.name, key);
    assert.equal(def.service, 'dataflow');
    assert.equal(def.auth, 'ncp-v2');
    // Jobs reach the account's object storage, which box-user keys cannot (docs/dataflow.md).
    assert.equal(def.role, 'fence-admin');
    assert.ok(def.path.startsWith('/api/v1/'), `${key}: path under /api/v1`);
    assert.ok(def.summary.length > 0);
  }
});

test('Data Flow routes are unique and shaped per the spec', () => {
  assertUniqueRoutes(dataflowOps);
  assertParamsMatchPath(dataflowOps);
  assertBodyOnlyOnWriteMethods(dataflowOps);
  assert.equal(dataflowOps.updateJob.method, 'PATCH');
  assert.deepEqual(dataflowOps.updateJob.aliasMethods, ['PUT']);
  assert.deepEqual(dataflowOps.getExecutionTimes.aliasPaths, ['/api/v1/stats/execution-times']);
  for (const k of ['createJob', 'createTrigger', 'createWorkflow'] as const) assert.equal(dataflowOps[k].successStatus, 201);
  assert.equal(dataflowOps.executeWorkflow.successStatus, 202);
  for (const k of ['deleteJob', 'deleteTrigger', 'deleteWorkflow'] as const) {
    assert.equal((dataflowOps[k].response as { type?: string }).type, 'boolean');
  }
  for (const [key, def] of defs(dataflowOps)) {
    if (def.params || def.query || def.body) {
      assert.ok(def.errors.some((e) => e.code === 'bad-parameter'), `${key}: lists bad-parameter`);
    }
  }
});

test('CFS declares the 19 operations + GetFsQuota', () => {
  assert.deepEqual(Object.keys(cfsOps).sort(), CFS_NAMES.map(camel).sort());
  assert.equal(operationsOf('cfs').length, 20);
  for (const [key, def] of defs(cfsOps)) {
    assert.equal(key, camel(def.name));
    assert.equal(def.service, 'cfs');
    assert.equal(def.auth, 'bce-v1');
    assert.equal(def.role, 'owner');
    assert.ok(def.path.startsWith('/v1/'), `${key}: path under /v1`);
  }
});

test('CFS routes are unique and shaped per the spec', () => {
  assertUniqueRoutes(cfsOps);
  assertParamsMatchPath(cfsOps);
  assertBodyOnlyOnWriteMethods(cfsOps);
  assert.equal(cfsOps.updateFileSystemTags.queryFlag, 'tag');
  assert.equal(cfsOps.updateFileSystemTags.path, cfsOps.createFileSystem.path);
  for (const k of ['createFileSystem', 'createMountTarget', 'createAccessGroup', 'createAccessRule', 'batchCreateAccessRules'] as const) {
    assert.ok('clientToken' in (cfsOps[k].query?.properties ?? {}), `${k}: accepts clientToken`);
  }
  for (const k of ['updateFileSystem', 'dropFileSystem', 'updateFileSystemTags', 'dropMountTarget', 'createAccessGroup', 'deleteAccessRule'] as const) {
    assert.equal((cfsOps[k] as OperationDef).response, undefined, `${k}: no response body`);
  }
  for (const [key, def] of defs(cfsOps)) {
    if (def.params || def.query || def.body) {
      assert.ok(def.errors.some((e) => e.code === 'InappropriateJSON'), `${key}: lists InappropriateJSON`);
    }
  }
});

/** Documented / constructed examples of the specs must validate against the declared schemas. */
function check(schema: TSchema | undefined, value: unknown, what: string) {
  assert.ok(schema, `${what}: schema declared`);
  const errors = [...Value.Errors(schema, value)].map((e) => `${e.path} ${e.message}`);
  assert.deepEqual(errors, [], what);
}

const nrn = 'nrn:PUB:IAM::*******:Role/********-0496-11f0-baf6-246e96591a38';
const cond = { workerType: 'DEFAULT', numWorker: 2, timeout: 360, nrn, scriptPath: 'dataflow-2706412-****/scripts/', logPath: 'dataflow-2706412-****/sparkHistoryLogs/' };
const sourceNode = {
  type: 'SOURCE_OBS', id: 1697776914576, name: 'Object Storage', parentNodeIds: [],
  regionNo: '1', bucketName: 'aitems', prefix: 'dataflow1', dataType: 'CSV',
  fieldList: [{ name: 'id', type: 'string' }, { name: 'name', type: 'string' }],
};
const filterNode = {
  type: 'TRANSFORM_FILTER', id: 1697776920001, name: 'Filters', parentNodeIds: [1697776914576],
  filterType: 'AND', filterConditionList: [{ name: 'name', operator: 'EQ', value: 'A' }],
};

test('Data Flow spec examples validate', () => {
  check(dataflowOps.createJob.body, { name: 'data-flow', nodes: [sourceNode, filterNode] }, 'createJob body');
  check(dataflowOps.verifyJob.body, { name: 'data-flow', nodes: [sourceNode, filterNode] }, 'verifyJob body');
  check(dataflowOps.updateJob.body, { name: 'job001', isTemp: false, type: 'DATAFLOW', nodes: [sourceNode] }, 'updateJob body');
  check(dataflowOps.executeJob.body, { jobCondition: cond }, 'executeJob body');
  check(dataflowOps.updateJobExecuteConfig.body, { jobCondition: cond }, 'updateJobExecuteConfig body');
  check(dataflowOps.getJobById.response, {
    jobId: '5Yns7JgRt25f', name: 'data-flow', description: '', type: 'DATAFLOW', status: 'RUNNABLE',
    lastExecutionStatus: 'COMPLETED', nodes: [sourceNode], runCondition: cond, maxConcurrentRuns: 1,
    createdDate: '2023-10-20T13:45:15.000', updatedDate: '2023-10-20T13:46:56.000', lastExecutionDate: '2023-10-20T13:46:56.000',
  }, 'getJobById response');
  check(dataflowOps.getJobs.response, {
    list: [{ jobId: '5Yns7JgRt25f', name: 'data-flow', type: 'DATAFLOW', status: 'RUNNABLE', lastExecutionStatus: 'COMPLETED',
      createdDate: '2023-10-20T13:45:15.000', updatedDate: '2023-10-20T13:46:56.000', lastExecutionDate: '2023-10-20T13:46:56.000',
      resourceId: '5Yns7JgRt25f', disabled: false }],
    count: 1, page: 0, limit: 1000,
  }, 'getJobs response');
  check(dataflowOps.getJobExecutionById.response, {
    jobExecutionId: 'fKE22JaB3xQz', jobId: 'gqigvH1a2b3c', jobName: 'job001', type: 'WORKFLOW', status: 'COMPLETED',
    jobCondition: { ...cond, consoleLogPath: 'dataflow-2706412-****/consoleLogs/fKE22JaB3xQz/' },
    executorNum: 2, parsedParameters: {}, triggerId: 'T63391JxQHNj', triggerName: 'trigger1',
    createdDate: '2025-03-20T10:00:00+09:00', startDate: '2025-03-20T10:01:00+09:00', endDate: '2025-03-20T10:05:00+09:00',
    waitingTime: 1, runningTime: 4,
  }, 'getJobExecutionById response');
  const trigger = { triggerId: 'T63391JxQHNj', name: 'trigger1', type: 'SCHEDULED',
    triggerRule: { type: 'RECURRING', interval: 'DAY', time: '10:00' },
    createdDate: '2023-10-23T15:17:32.833', updatedDate: '2023-10-23T15:17:32.833' };
  check(dataflowOps.getTriggerById.response, trigger, 'getTriggerById response');
  check(dataflowOps.createTrigger.body, { name: 'trigger1', type: 'SCHEDULED', triggerRule: { type: 'RECURRING', interval: 'DAY', time: '10:00' } }, 'createTrigger body');
  check(dataflowOps.createWorkflow.body, {
    name: 'workflow001',
    nodes: [
      { id: 'd125za******', name: 'trigger001', type: 'TRIGGER', parentNodeIds: [] },
      { id: 'gqigvH******', name: 'job001', type: 'JOB', parentNodeIds: ['d125za******'],
        jobCondition: { workerType: 'DEFAULT', numWorker: 3, timeout: 360, nrn } },
    ],
    isTemp: false,
  }, 'createWorkflow body');
  check(dataflowOps.getWorkflows.response, {
    list: [{ workflowId: 'pJ1HCEI7L9ha', name: 'test-workflow2', createdDate: '2023-10-23T15:20:00.000',
      updatedDate: '2023-10-23T15:20:00.000', lastExecutionDate: null, isTemp: false, triggerRuleType: 'RECURRING',
      nodes: [
        { id: 'vMcf5Gvf2x3R', name: 'trigger1', type: 'TRIGGER', parentNodeIds: [], triggerRule: 'RECURRING', isValid: true },
        { id: 'RpiB7okASK5W', name: 'cdb_pg_test', type: 'JOB', parentNodeIds: ['vMcf5Gvf2x3R'], isValid: true,
          jobCondition: { workerType: 'DEFAULT', numWorker: 3, timeout: 360, nrn } },
      ],
      resourceId: 'pJ1HCEI7L9ha', disabled: false }],
    count: 1, page: 0, limit: 1000,
  }, 'getWorkflows response');
  check(dataflowOps.executeWorkflow.response, { workflowId: '3tfNLP******', triggerId: '8bjF7E******', status: 'ACCEPTED' }, 'executeWorkflow response');
  check(dataflowOps.getExecutionResult.query, { startDate: '2025-03-19T00:00:00', endDate: '2025-03-20T23:59:59' }, 'stats window');
  check(dataflowOps.getExecutionResult.response, { totalCount: 4, completedCount: 3, failedCount: 1 }, 'getExecutionResult response');
  check(dataflowOps.getExecutionCount.response, { result: [{ totalCount: 3, startDate: '2025-03-19T00:00:01', endDate: '2025-03-20T00:00:00' }] }, 'getExecutionCount response');
  check(dataflowOps.getExecutionTimes.response, { result: [{ time: 1742454000000, value: 0 }] }, 'getExecutionTimes response');
  check(dataflowOps.deleteJob.response, true, 'deleteJob response');
  assert.equal(Value.Check(dataflowOps.createJob.body!, { name: '1bad', nodes: [] }), false, 'job name must start with a letter or _');
  assert.equal(Value.Check(dataflowOps.executeJob.body!, { jobCondition: { numWorker: 11 } }), false, 'numWorker ≤ 10');
});

test('CFS spec examples validate', () => {
  check(cfsOps.createFileSystem.body, { fsName: 'cfs-for-test', zone: 'zoneB', type: 'cap', protocol: 'nfs', tags: [{ tagKey: 'aaa', tagValue: 'bbb' }], capacityQuota: 1075838976 }, 'CreateFileSystem body');
  check(cfsOps.createFileSystem.body, { fsName: 'fs1', zone: 'zoneB', type: '', protocol: '' }, 'CreateFileSystem body (Go SDK empty strings)');
  check(cfsOps.createFileSystem.response, { fsId: 'cfs-jVDkWrBBoj' }, 'CreateFileSystem response');
  check(cfsOps.queryFileSystem.response, {
    fileSystemList: [{ fsId: 'cfs-jVDkWrBBoj', fsName: 'cfs-for-test', vpcId: 'vpc-1bryr2edipd0', type: 'cap', protocol: 'nfs',
      fsUsage: '0', status: 'available', zone: 'zoneB', capacityQuota: 0, tags: [],
      mountTargetList: [{ mountId: '53585364776c6d577a2f424444796a2b6641584251773d3d', domain: 'cfs-jVDkWrBBoj.lb.bj.baidubce.com',
        subnetId: 'sbn-qwkkxpvenm0z', accessGroupName: 'DEFAULT_ACCESS_GROUP_NAME', ovip: '192.168.0.10' }] }],
    marker: '', isTruncated: false, maxKeys: 2,
  }, 'QueryFileSystem response');
  check(cfsOps.updateFileSystem.body, { fsName: 'cfs-for-test' }, 'UpdateFileSystem body');
  check(cfsOps.updateFileSystemTags.body, { fsId: ['cfs-xxxxx', 'cfs-yyyyy'], tags: [{ tagKey: 'aaa', tagValue: 'bbb' }, { tagKey: 'bbb', tagValue: 'ccc' }] }, 'UpdateFileSystemTags body');
  check(cfsOps.createMountTarget.body, { vpcId: 'vpc-1bryr2edipd0', subnetId: 'sbn-qwkkxpvenm0z', accessGroupName: 'test_ag_name' }, 'CreateMountTarget body');
  check(cfsOps.createMountTarget.body, { vpcId: 'vpc-1bryr2edipd0', subnetId: 'sbn-qwkkxpvenm0z', accessGroupName: '' }, 'CreateMountTarget body (empty group)');
  check(cfsOps.queryMountedClients.response, { isTruncated: false, marker: '', nextMarker: '', maxKeys: 2, clientInfoList: [{ zone: 'zoneB', vpcId: 'vpc-vjf***pq9pkf', mountId: '6f495573706f41326' }] }, 'QueryMountedClients response');
  check(cfsOps.createAccessGroup.body, { accessGroupName: 'ag_test', description: 'access group for test' }, 'CreateAccessGroup body');
  const rule = { ip: '10.10.1.123', mask: 32, writeAccess: 'read_only', userAccess: 'all_squash', priority: 99 };
  check(cfsOps.createAccessRule.body, rule, 'CreateAccessRule body');
  check(cfsOps.updateAccessRule.body, { ...rule, ip: '2001::', mask: 128 }, 'UpdateAccessRule body (IPv6)');
  check(cfsOps.batchCreateAccessRules.body, { ag_name: 'ag_test', access_rules: [{ ip: '10.10.1.123', mask: 32, write_access: 'read_write', user_access: 'all_squash', priority: 99 }] }, 'BatchCreateAccessRules body');
  check(cfsOps.queryAccessGroups.response, { accessGroups: [{ accessGroupName: 'DEFAULT_ACCESS_GROUP_NAME', accessRules: [{ accessRuleId: 1, ...rule }] }], isTruncated: false, maxKeys: 1000 }, 'QueryAccessGroups response');
  check(cfsOps.getFsQuota.response, { total: 10, created: 1 }, 'GetFsQuota response');
  assert.equal(Value.Check(cfsOps.createFileSystem.body!, { fsName: 'x', zone: 'zoneB', type: 'hdd' }), false, 'type enum');
  assert.equal(Value.Check(cfsOps.createFileSystem.body!, { fsName: '9x', zone: 'zoneB' }), false, 'fsName starts with a letter');
  assert.equal(Value.Check(cfsOps.updateFileSystemTags.body!, { fsId: [] }), false, 'at least one fsId');
});
