/**
 * NAVER Cloud Data Flow: 23 operations + executeWorkflow (../shared/spec/dataflow.md §2, §4).
 * Base path `/api/v1`. Service errors are problem-details bodies with an `errorType` (§5).
 *
 * Where the editions of the reference disagree ([R1]/[R2] vs [R3]) the request schemas accept the
 * union of the editions and the response schemas carry the superset of fields (§ legend).
 */
import { Type, type TLiteral, type TUnion } from '@sinclair/typebox';
import { op, Nullable, MAX_ID, type DocumentedError } from './types.js';

const ncp = { service: 'dataflow', auth: 'ncp-v2' } as const;
/**
 * The least role that may call Data Flow: fence admins and owners. Jobs read and write the
 * account's object storage, which a box-user key may not reach (S3 refuses it); letting box
 * users define jobs would give them that reach (and a way around export review). Not documented;
 * the real service checks IAM permissions per action (inferred).
 */
const ROLE = 'fence-admin' as const;

export const DATAFLOW_ERRORS = {
  badParameter: { status: 400, code: 'bad-parameter', when: 'a parameter or body field is missing or invalid' },
  badState: { status: 400, code: 'bad-state', when: "the resource's current state does not allow the operation" },
  jobNotFound: { status: 404, code: 'resource-not-found/job', when: 'no job with that id in the account' },
  triggerNotFound: { status: 404, code: 'resource-not-found/trigger', when: 'no trigger with that id in the account' },
  workflowNotFound: { status: 404, code: 'resource-not-found/workflow', when: 'no workflow with that id in the account' },
  executionNotFound: { status: 404, code: 'resource-not-found/job-execution', when: 'no such execution of that job' },
  notImplemented: { status: 501, code: 'not-implemented', when: 'the operation is declared but not implemented by this server' },
} satisfies Record<string, DocumentedError>;
const E = DATAFLOW_ERRORS;

/** A closed string set as a union of literals. */
const Enum = <T extends string>(values: readonly T[], opts: { description?: string } = {}): TUnion<TLiteral<T>[]> =>
  Type.Union(values.map((v) => Type.Literal(v)), opts);

const Id = Type.String({ minLength: 1, maxLength: 64, description: '12-character resource id' });
/**
 * Paging (§3.4): `limit` defaults to 1000 and no larger page is served; `page` stops at
 * 1,000,000 so that the offset (page × limit) stays far inside 64 bits. Neither maximum is
 * documented (inferred).
 */
const Page = Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }));
const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 1000 }));
/** Simultaneous runs of one job: no maximum is documented; 100 (inferred). */
const MaxConcurrentRuns = Type.Integer({ minimum: 1, maximum: 100 });
/** A job node's id, as the client numbers its graph. */
const NodeId = Type.Integer({ minimum: 0, maximum: MAX_ID });
const Timestamp = Nullable(Type.String());
/** Job, trigger and workflow names (§1.2): 3–100 chars of `[A-Za-z0-9_-]`, starting with a letter or `_`. */
const Name = Type.String({ minLength: 3, maxLength: 100, pattern: '^[A-Za-z_][A-Za-z0-9_-]{2,99}$' });
/** Dashboard window bounds (§3.3): ISO 8601 local date-time, e.g. `2025-03-19T00:00:00` (millis / offset tolerated). */
const DateTime = Type.String({
  pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,3})?(Z|[+-][0-9]{2}:?[0-9]{2})?$',
  description: 'ISO 8601 local date-time (KST), e.g. 2025-03-19T00:00:00',
});
const StringMap = Type.Record(Type.String(), Type.String());
/**
 * Job and run parameters a client sends (§1.4 `parameters`, executeJob `parameters`): a string map.
 * No bounds are documented (inferred): at most 100 entries (also once merged over the job's own),
 * names of 1–128 characters, values of at most 4096.
 */
export const DATAFLOW_MAX_PARAMETERS = 100;
const ParameterMap = Type.Record(Type.String({ pattern: '^[\\s\\S]{1,128}$' }), Type.String({ maxLength: 4096 }), {
  maxProperties: DATAFLOW_MAX_PARAMETERS,
  additionalProperties: false,
});

export const JOB_TYPES = ['DATAFLOW', 'VISUAL', 'SCRIPT'] as const;
export const JOB_STATUSES = ['RUNNABLE', 'READY', 'RUNNING', 'DELETED', 'UNKNOWN', 'DRAFT', 'STOPPED', 'EDITING'] as const;
export const EXECUTION_STATUSES = ['READY', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELED'] as const;
export const EXECUTION_TYPES = ['JOB', 'WORKFLOW'] as const;
export const TRIGGER_TYPES = ['SCHEDULED', 'EVENT', 'NONE'] as const;
export const TRIGGER_RULE_TYPES = ['RECURRING', 'ONE_TIME', 'NONE'] as const;
export const TRIGGER_INTERVALS = ['HOUR', 'DAY', 'WEEK', 'MONTH'] as const;
export const DAYS_OF_WEEK = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] as const;
export const WORKFLOW_NODE_TYPES = ['TRIGGER', 'JOB'] as const;

const JobType = Enum(JOB_TYPES, { description: '`DATAFLOW` [R1]/[R2]; `VISUAL` | `SCRIPT` [R3]' });
const JobStatus = Enum(JOB_STATUSES, { description: '§1.2.1; `RUNNABLE` [R1]/[R2] and `READY` [R3] are the same state' });
const ExecutionStatus = Enum(EXECUTION_STATUSES);
const TriggerRuleType = Enum(TRIGGER_RULE_TYPES);

/** The list envelope shared by every Data Flow list operation (§3.4). */
export const ListOf = <T extends Parameters<typeof Type.Array>[0]>(item: T) =>
  Type.Object({ list: Type.Array(item), count: Type.Integer(), page: Type.Integer(), limit: Type.Integer() });

/**
 * Execution configuration (§1.4): `jobCondition` in requests, `runCondition` in job responses.
 * `timeout` accepts 0 ([R1]/[R2] range 0–1440; [R3] 1–1440).
 */
export const JobCondition = Type.Object({
  workerType: Type.Optional(Type.Union([Type.Literal('DEFAULT'), Type.Literal('DATAFLOW')])),
  numWorker: Type.Optional(Type.Integer({ minimum: 2, maximum: 10 })),
  timeout: Type.Optional(Type.Integer({ minimum: 0, maximum: 1440 })),
  /** `nrn:PUB:IAM::{accountNo}:Role/{roleUuid}`; the bound is not documented (inferred). */
  nrn: Type.Optional(Type.String({ maxLength: 256 })),
  /** `{bucket}/{prefix}` in Object Storage: a bucket name and an object key prefix (at most 1024, as keys). */
  scriptPath: Type.Optional(Type.String({ maxLength: 1088 })),
  logPath: Type.Optional(Type.String({ maxLength: 1088 })),
  parameters: Type.Optional(ParameterMap),
});

/** The effective configuration of one run (§1.5): the §1.4 fields plus `consoleLogPath`. */
export const ExecutionCondition = Type.Object({
  ...JobCondition.properties,
  consoleLogPath: Type.Optional(Nullable(Type.String())),
});

/** A job node: common fields, type-specific properties flattened onto the same object (§1.3). */
export const JobNode = Type.Object(
  {
    id: NodeId,
    name: Type.String(),
    type: Type.String(),
    parentNodeIds: Type.Array(NodeId),
  },
  { additionalProperties: true },
);

const JobSummary = Type.Object({
  jobId: Type.String(),
  name: Type.String(),
  type: JobType,
  status: JobStatus,
  lastExecutionStatus: Nullable(ExecutionStatus),
  createdDate: Type.String(),
  updatedDate: Type.String(),
  lastExecutionDate: Timestamp,
  resourceId: Type.String(),
  disabled: Type.Boolean(),
});

export const Job = Type.Object({
  jobId: Type.String(),
  name: Type.String(),
  description: Type.String(),
  type: JobType,
  status: JobStatus,
  lastExecutionStatus: Nullable(ExecutionStatus),
  nodes: Type.Array(JobNode),
  runCondition: JobCondition,
  /** Whether [R3] renamed `runCondition` is not documented; a server may emit both keys (§4.11). */
  jobCondition: Type.Optional(JobCondition),
  maxConcurrentRuns: Type.Integer(),
  createdDate: Type.String(),
  updatedDate: Type.String(),
  lastExecutionDate: Timestamp,
});

/** One job execution (§1.5, §4.18). */
export const Execution = Type.Object({
  jobExecutionId: Type.String(),
  jobId: Type.String(),
  jobName: Type.String(),
  type: Enum(EXECUTION_TYPES),
  status: ExecutionStatus,
  jobCondition: ExecutionCondition,
  executorNum: Type.Integer(),
  parsedParameters: StringMap,
  triggerId: Nullable(Type.String()),
  triggerName: Nullable(Type.String()),
  /** Not listed in the reference's responses; stored from executeJob's query (inferred). */
  workflowId: Type.Optional(Nullable(Type.String())),
  createdDate: Type.String(),
  startDate: Timestamp,
  endDate: Timestamp,
  waitingTime: Nullable(Type.Integer({ description: 'minutes spent READY' })),
  runningTime: Nullable(Type.Integer({ description: 'minutes spent RUNNING' })),
});

/** A trigger's start rule (§1.6). Conditional requirements (interval/time/...) are checked by the server. */
export const TriggerRule = Type.Object({
  type: TriggerRuleType,
  interval: Type.Optional(Enum(TRIGGER_INTERVALS, { description: 'required when type is RECURRING' })),
  time: Type.Optional(
    Type.String({
      pattern: '^([0-5][0-9]|([01][0-9]|2[0-3]):[0-5][0-9])$',
      description: 'HOUR: minute "00"–"59"; DAY/WEEK/MONTH: "HH:mm" (KST)',
    }),
  ),
  dayOfWeek: Type.Optional(Type.Array(Enum(DAYS_OF_WEEK), { minItems: 1, maxItems: 7, description: 'interval WEEK' })),
  dateOfMonth: Type.Optional(
    Type.String({ pattern: '^(-1|[1-9]|[12][0-9]|3[01])$', description: 'interval MONTH: "1"–"31", "-1" = last day' }),
  ),
  executionDate: Type.Optional(Type.String({ description: 'ONE_TIME: date-time of the single run (KST)' })),
});

export const Trigger = Type.Object({
  triggerId: Type.String(),
  name: Type.String(),
  type: Enum(TRIGGER_TYPES),
  triggerRule: TriggerRule,
  createdDate: Type.String(),
  updatedDate: Type.String(),
});

/** A workflow node (§1.7): ids are strings (the referenced trigger or job id). */
export const WorkflowNode = Type.Object({
  id: Id,
  name: Type.String(),
  type: Enum(WORKFLOW_NODE_TYPES),
  parentNodeIds: Type.Array(Type.String()),
  triggerRule: Type.Optional(Nullable(TriggerRuleType)),
  jobCondition: Type.Optional(JobCondition),
  isValid: Type.Optional(Type.Boolean({ description: 'response only' })),
});

export const Workflow = Type.Object({
  workflowId: Type.String(),
  name: Type.String(),
  nodes: Type.Array(WorkflowNode),
  isTemp: Type.Boolean(),
  createdDate: Type.String(),
  updatedDate: Type.String(),
  lastExecutionDate: Timestamp,
});

const WorkflowSummary = Type.Object({
  ...Workflow.properties,
  triggerRuleType: Nullable(TriggerRuleType),
  resourceId: Type.String(),
  disabled: Type.Boolean(),
});

const StatsWindow = Type.Object({ startDate: DateTime, endDate: DateTime });
const WorkflowBody = Type.Object({
  name: Name,
  nodes: Type.Array(WorkflowNode, { minItems: 1 }),
  isTemp: Type.Optional(Type.Boolean({ default: false, description: '[R1]/[R2] draft flag' })),
});

const jobParams = Type.Object({ jobId: Id });
const workflowParams = Type.Object({ workflowId: Id });
const triggerParams = Type.Object({ triggerId: Id });

export const dataflowOps = {
  // ---- Dashboard (§4.1–4.3) ----
  getExecutionResult: op({
    ...ncp,
    name: 'getExecutionResult',
    method: 'GET',
    path: '/api/v1/stats/executions',
    summary: 'Total / completed / failed execution counts in a window',
    role: ROLE,
    query: StatsWindow,
    response: Type.Object({ totalCount: Type.Integer(), completedCount: Type.Integer(), failedCount: Type.Integer() }),
    errors: [E.badParameter],
  }),

  getExecutionCount: op({
    ...ncp,
    name: 'getExecutionCount',
    method: 'GET',
    path: '/api/v1/stats/executions-interval',
    summary: 'Daily execution counts in a window',
    role: ROLE,
    query: StatsWindow,
    response: Type.Object({
      result: Type.Array(Type.Object({ totalCount: Type.Integer(), startDate: Type.String(), endDate: Type.String() })),
    }),
    errors: [E.badParameter],
  }),

  getExecutionTimes: op({
    ...ncp,
    name: 'getExecutionTimes',
    method: 'GET',
    path: '/api/v1/stats/executions-times',
    aliasPaths: ['/api/v1/stats/execution-times'],
    summary: 'Execution time series (epoch-ms points)',
    role: ROLE,
    query: StatsWindow,
    response: Type.Object({
      result: Type.Array(Type.Object({ time: Type.Integer({ description: 'epoch milliseconds' }), value: Type.Integer() })),
    }),
    errors: [E.badParameter],
  }),

  // ---- Workflows (§4.4–4.9, §4.24) ----
  getWorkflows: op({
    ...ncp,
    name: 'getWorkflows',
    method: 'GET',
    path: '/api/v1/workflows',
    summary: 'List workflows',
    role: ROLE,
    query: Type.Object({ page: Page, limit: Limit }),
    response: ListOf(WorkflowSummary),
    errors: [E.badParameter],
  }),

  getWorkflowById: op({
    ...ncp,
    name: 'getWorkflowById',
    method: 'GET',
    path: '/api/v1/workflows/{workflowId}',
    summary: 'Get one workflow',
    role: ROLE,
    params: workflowParams,
    response: Workflow,
    errors: [E.badParameter, E.workflowNotFound],
  }),

  createWorkflow: op({
    ...ncp,
    name: 'createWorkflow',
    method: 'POST',
    path: '/api/v1/workflows',
    summary: 'Create a workflow',
    role: ROLE,
    body: WorkflowBody,
    response: Workflow,
    successStatus: 201,
    errors: [
      { ...E.badParameter, when: 'invalid name or node list (exactly one TRIGGER node; JOB nodes must have it as parent)' },
      { ...E.jobNotFound, when: 'a JOB node references an unknown job (inferred)' },
      { ...E.triggerNotFound, when: 'the TRIGGER node references an unknown trigger (inferred)' },
    ],
  }),

  updateWorkflow: op({
    ...ncp,
    name: 'updateWorkflow',
    method: 'PUT',
    path: '/api/v1/workflows/{workflowId}',
    summary: "Replace a workflow's name/nodes",
    role: ROLE,
    params: workflowParams,
    body: WorkflowBody,
    response: Workflow,
    errors: [
      { ...E.badParameter, when: 'invalid name or node list (exactly one TRIGGER node; JOB nodes must have it as parent)' },
      E.workflowNotFound,
      { ...E.jobNotFound, when: 'a JOB node references an unknown job (inferred)' },
      { ...E.triggerNotFound, when: 'the TRIGGER node references an unknown trigger (inferred)' },
    ],
  }),

  deleteWorkflow: op({
    ...ncp,
    name: 'deleteWorkflow',
    method: 'DELETE',
    path: '/api/v1/workflows/{workflowId}',
    summary: 'Delete a workflow',
    role: ROLE,
    params: workflowParams,
    response: Type.Boolean(),
    errors: [E.badParameter, E.workflowNotFound],
  }),

  getWorkflowExecutions: op({
    ...ncp,
    name: 'getWorkflowExecutions',
    method: 'GET',
    path: '/api/v1/workflows/{workflowId}/executions',
    summary: 'List executions started by a workflow',
    role: ROLE,
    params: workflowParams,
    query: Type.Object({
      filter: Type.Optional(Type.String({ description: 'workflow name filter' })),
      page: Page,
      limit: Limit,
    }),
    response: ListOf(Execution),
    errors: [E.badParameter, E.workflowNotFound],
  }),

  /**
   * Companion operation outside the 23 (§4.24). No body; the optional header
   * `x-ncp-dataflow-payload` (Base64 JSON describing the event source) is read by the handler.
   */
  executeWorkflow: op({
    ...ncp,
    name: 'executeWorkflow',
    method: 'POST',
    path: '/api/v1/workflows/{workflowId}/executions',
    summary: 'Start a workflow whose trigger is manual (NONE) or EVENT',
    role: ROLE,
    params: workflowParams,
    response: Type.Object({ workflowId: Type.String(), triggerId: Type.String(), status: Type.Literal('ACCEPTED') }),
    successStatus: 202,
    errors: [
      E.badParameter,
      E.workflowNotFound,
      { ...E.badState, when: "the workflow's start trigger is scheduled, not manual (NONE) or EVENT (status inferred)" },
    ],
  }),

  // ---- Jobs (§4.10–4.19) ----
  getJobs: op({
    ...ncp,
    name: 'getJobs',
    method: 'GET',
    path: '/api/v1/jobs',
    summary: 'List jobs',
    role: ROLE,
    query: Type.Object({
      name: Type.Optional(Type.String({ description: 'job name filter' })),
      status: Type.Optional(Enum(JOB_STATUSES, { description: '[R1]/[R2] status filter (still accepted)' })),
      page: Page,
      limit: Limit,
    }),
    response: ListOf(JobSummary),
    errors: [E.badParameter],
  }),

  getJobById: op({
    ...ncp,
    name: 'getJobById',
    method: 'GET',
    path: '/api/v1/jobs/{jobId}',
    summary: 'Get one job (with nodes and execution config)',
    role: ROLE,
    params: jobParams,
    response: Job,
    errors: [E.badParameter, E.jobNotFound],
  }),

  createJob: op({
    ...ncp,
    name: 'createJob',
    method: 'POST',
    path: '/api/v1/jobs',
    summary: 'Create a job',
    role: ROLE,
    body: Type.Object({
      name: Name,
      type: Type.Optional(JobType),
      description: Type.Optional(Type.String()),
      maxConcurrentRuns: Type.Optional(MaxConcurrentRuns),
      jobCondition: Type.Optional(JobCondition),
      nodes: Type.Optional(Type.Array(JobNode, { description: 'required for visual (DATAFLOW/VISUAL) jobs' })),
    }),
    response: Job,
    successStatus: 201,
    errors: [{ ...E.badParameter, when: 'invalid name, configuration or node graph; duplicate name (inferred)' }],
  }),

  updateJob: op({
    ...ncp,
    name: 'updateJob',
    method: 'PATCH',
    aliasMethods: ['PUT'],
    path: '/api/v1/jobs/{jobId}',
    summary: 'Modify a job',
    role: ROLE,
    params: jobParams,
    body: Type.Object({
      type: JobType,
      name: Type.Optional(Name),
      description: Type.Optional(Type.String()),
      isTemp: Type.Optional(Type.Boolean({ description: '[R1]/[R2]: true = save as DRAFT, false = finalize' })),
      maxConcurrentRuns: Type.Optional(MaxConcurrentRuns),
      jobCondition: Type.Optional(JobCondition),
      nodes: Type.Optional(Type.Array(JobNode)),
    }),
    response: Job,
    errors: [
      { ...E.badParameter, when: 'invalid name, configuration or node graph (PUT also requires name)' },
      { ...E.badState, when: 'the job is RUNNING (inferred)' },
      E.jobNotFound,
    ],
  }),

  deleteJob: op({
    ...ncp,
    name: 'deleteJob',
    method: 'DELETE',
    path: '/api/v1/jobs/{jobId}',
    summary: 'Delete a job',
    role: ROLE,
    params: jobParams,
    response: Type.Boolean(),
    errors: [
      E.badParameter,
      { ...E.badState, when: 'the job is running or referenced by a workflow (inferred)' },
      E.jobNotFound,
    ],
  }),

  verifyJob: op({
    ...ncp,
    name: 'verifyJob',
    method: 'POST',
    path: '/api/v1/jobs/verify',
    summary: 'Validate a job definition without saving',
    role: ROLE,
    body: Type.Object({ name: Name, nodes: Type.Array(JobNode, { minItems: 1 }) }),
    response: Type.Boolean({ description: 'true when valid (response not documented; inferred)' }),
    errors: [{ ...E.badParameter, when: 'the definition is invalid; detail names the first offending node/field' }],
  }),

  executeJob: op({
    ...ncp,
    name: 'executeJob',
    method: 'POST',
    path: '/api/v1/jobs/{jobId}/executions',
    summary: 'Start a job run',
    role: ROLE,
    params: jobParams,
    query: Type.Object({
      triggerId: Type.Optional(Type.String()),
      workflowId: Type.Optional(Type.String()),
    }),
    body: Type.Object({
      jobCondition: Type.Optional(JobCondition),
      parameters: Type.Optional(ParameterMap),
      /** Some generated clients send these in the body rather than the query. */
      triggerId: Type.Optional(Type.String()),
      workflowId: Type.Optional(Type.String()),
    }),
    response: Execution,
    errors: [
      { ...E.badParameter, when: 'numWorker or timeout out of range, or another invalid field' },
      { ...E.badState, when: 'the job is DRAFT/EDITING/DELETED or already at maxConcurrentRuns (inferred)' },
      E.jobNotFound,
    ],
  }),

  getJobExecutions: op({
    ...ncp,
    name: 'getJobExecutions',
    method: 'GET',
    path: '/api/v1/jobs/{jobId}/executions',
    summary: 'List runs of a job',
    role: ROLE,
    params: jobParams,
    query: Type.Object({ page: Page, limit: Limit }),
    response: ListOf(Execution),
    errors: [E.badParameter, E.jobNotFound],
  }),

  getJobExecutionById: op({
    ...ncp,
    name: 'getJobExecutionById',
    method: 'GET',
    path: '/api/v1/jobs/{jobId}/executions/{executionId}',
    summary: 'Get one run',
    role: ROLE,
    params: Type.Object({ jobId: Id, executionId: Id }),
    response: Execution,
    errors: [E.badParameter, E.jobNotFound, E.executionNotFound],
  }),

  updateJobExecuteConfig: op({
    ...ncp,
    name: 'updateJobExecuteConfig',
    method: 'PUT',
    path: '/api/v1/jobs/{jobId}/executions',
    summary: "Change the job's stored execution config",
    role: ROLE,
    params: jobParams,
    body: Type.Object({ jobCondition: JobCondition }),
    response: Job,
    errors: [E.badParameter, E.jobNotFound],
  }),

  // ---- Triggers (§4.20–4.23) ----
  getTriggers: op({
    ...ncp,
    name: 'getTriggers',
    method: 'GET',
    path: '/api/v1/triggers',
    summary: 'List triggers',
    role: ROLE,
    query: Type.Object({
      name: Type.Optional(Type.String({ description: 'trigger name filter' })),
      page: Page,
      limit: Limit,
    }),
    response: ListOf(Trigger),
    errors: [E.badParameter],
  }),

  getTriggerById: op({
    ...ncp,
    name: 'getTriggerById',
    method: 'GET',
    path: '/api/v1/triggers/{triggerId}',
    summary: 'Get one trigger',
    role: ROLE,
    params: triggerParams,
    response: Trigger,
    errors: [E.badParameter, E.triggerNotFound],
  }),

  createTrigger: op({
    ...ncp,
    name: 'createTrigger',
    method: 'POST',
    path: '/api/v1/triggers',
    summary: 'Create a trigger',
    role: ROLE,
    body: Type.Object({ name: Name, type: Enum(TRIGGER_TYPES), triggerRule: TriggerRule }),
    response: Trigger,
    successStatus: 201,
    errors: [
      {
        ...E.badParameter,
        when: 'invalid name or rule, a rule field missing for its interval, or type/triggerRule.type mismatch (inferred)',
      },
    ],
  }),

  deleteTrigger: op({
    ...ncp,
    name: 'deleteTrigger',
    method: 'DELETE',
    path: '/api/v1/triggers/{triggerId}',
    summary: 'Delete a trigger',
    role: ROLE,
    params: triggerParams,
    response: Type.Boolean(),
    errors: [
      E.badParameter,
      { ...E.badState, when: 'a workflow still references the trigger (inferred)' },
      E.triggerNotFound,
    ],
  }),
};

export const DataflowSchemas = {
  Id,
  Page,
  Limit,
  Timestamp,
  Name,
  DateTime,
  JobSummary,
  JobType,
  JobStatus,
  ExecutionStatus,
  TriggerRuleType,
  WorkflowSummary,
};
