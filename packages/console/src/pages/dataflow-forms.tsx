/**
 * Data Flow's create forms (docs/console.md): a trigger (its next due time previewed with the same
 * schedule code the trigger list uses), a job from its node graph as JSON (verified or created; the
 * typed graph previewed as a DAG), and a workflow over a trigger and jobs (its DAG previewed). The
 * spec's rules are checked here first; what the server refuses is shown in place with its detail.
 */
import { useState } from 'preact/hooks';
import { DAYS_OF_WEEK, TRIGGER_INTERVALS, TRIGGER_RULE_TYPES, TRIGGER_TYPES, isProblem, parseRule, type ScheduleRule } from '@stockade/sdk';
import { ErrorNote, useApp, useT } from '../ui.js';
import { Dag } from './dataflow.js';
import { formatKst, nextDueOf } from './workflows.js';

/** Job, trigger and workflow names (dataflow.md §1.2): 3–100 of `[A-Za-z0-9_-]`, starting with a letter or `_`. */
export const DATAFLOW_NAME = /^[A-Za-z_][A-Za-z0-9_-]{2,99}$/;
/** A JOB node's jobCondition (§1.4): numWorker 2–10, timeout 0–1440 minutes. */
const WORKERS = { min: 2, max: 10 };
const TIMEOUT = { min: 0, max: 1440 };

/** Data Flow needs an owner or fence-admin key: a box-user key is offered no form (its lists show the refusal). */
export function useCanWriteDataflow(): boolean {
  return useApp().identity.role !== 'box-user';
}

type TriggerType = (typeof TRIGGER_TYPES)[number];
type RuleType = (typeof TRIGGER_RULE_TYPES)[number];
type Interval = (typeof TRIGGER_INTERVALS)[number];

/** CreateTrigger: the rule's fields for its type and interval; the next due time previewed before sending. */
export function CreateTrigger({ onCreated }: { onCreated: () => void }) {
  const t = useT();
  const { clients } = useApp();
  const [name, setName] = useState('');
  const [type, setType] = useState<TriggerType>('SCHEDULED');
  const [ruleType, setRuleType] = useState<RuleType>('RECURRING');
  const [interval, setIntervalKind] = useState<Interval>('DAY');
  const [minute, setMinute] = useState('00');
  const [time, setTime] = useState('10:00');
  const [days, setDays] = useState<string[]>(['MONDAY']);
  const [dateOfMonth, setDateOfMonth] = useState('1');
  const [executionDate, setExecutionDate] = useState('');
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<string | null>(null);

  const rule: ScheduleRule =
    ruleType === 'NONE' ? { type: 'NONE' }
    : ruleType === 'ONE_TIME' ? { type: 'ONE_TIME', executionDate }
    : {
      type: 'RECURRING',
      interval,
      time: interval === 'HOUR' ? minute : time,
      ...(interval === 'WEEK' ? { dayOfWeek: DAYS_OF_WEEK.filter((d) => days.includes(d)) } : {}),
      ...(interval === 'MONTH' ? { dateOfMonth } : {}),
    };
  // The SDK's rule check (the server's own): which field, if any, is wrong.
  const parsed = parseRule(rule);
  const badField = isProblem(parsed) ? parsed.field : null;
  const nameBad = !DATAFLOW_NAME.test(name);
  // SCHEDULED goes with RECURRING or ONE_TIME; NONE and EVENT with NONE (§4.22).
  const pairBad = (type === 'SCHEDULED') !== (ruleType !== 'NONE');
  const anyBad = nameBad || pairBad || badField !== null;
  const mark = (bad: boolean) => (touched && bad ? 'true' : undefined);
  const now = Date.now();
  const due = type === 'SCHEDULED' && badField === null ? nextDueOf(rule, now) : null;
  const preview =
    type !== 'SCHEDULED' ? t('dataflow.previewNever')
    : badField !== null || pairBad ? '—'
    : due === null ? t('dataflow.previewPast')
    : formatKst(due);

  const changeType = (v: TriggerType) => {
    setType(v);
    if (v !== 'SCHEDULED') setRuleType('NONE');
    else if (ruleType === 'NONE') setRuleType('RECURRING');
  };
  const submit = (e: Event) => {
    e.preventDefault();
    setTouched(true);
    setCreated(null);
    if (anyBad) return;
    setBusy(true);
    setError(null);
    clients.dataflow.createTrigger({ name, type, triggerRule: rule as never }).then(
      (r) => { setBusy(false); setTouched(false); setName(''); setCreated(t('dataflow.triggerCreated', { name: r.name, id: r.triggerId })); onCreated(); },
      (err: unknown) => { setBusy(false); setError(err); },
    );
  };
  return (
    <details>
      <summary>{t('dataflow.createTrigger')}</summary>
      <form class="group" noValidate onSubmit={submit} aria-labelledby="create-trigger-title">
        <h3 id="create-trigger-title">{t('dataflow.createTrigger')}</h3>
        <div class="inline-form">
          <label>
            {t('col.name')}
            <input name="trigger-name" required maxLength={100} value={name} aria-invalid={mark(nameBad)} aria-describedby="trigger-name-help" onInput={(e) => setName(e.currentTarget.value)} />
            <small id="trigger-name-help">{t('dataflow.nameRule')}</small>
          </label>
          <label>
            {t('dataflow.triggerType')}
            <select name="trigger-type" value={type} aria-invalid={mark(pairBad)} onChange={(e) => changeType(e.currentTarget.value as TriggerType)}>
              {TRIGGER_TYPES.map((v) => <option key={v} value={v}>{v}</option>)}
            </select>
          </label>
          <label>
            {t('dataflow.ruleKind')}
            <select name="rule-type" value={ruleType} aria-invalid={mark(pairBad)} aria-describedby="rule-type-help" onChange={(e) => setRuleType(e.currentTarget.value as RuleType)}>
              {TRIGGER_RULE_TYPES.map((v) => <option key={v} value={v}>{v}</option>)}
            </select>
            <small id="rule-type-help">{t('dataflow.typeRule')}</small>
          </label>
        </div>
        {ruleType === 'RECURRING' ? (
          <div class="inline-form">
            <label>
              {t('dataflow.interval')}
              <select name="interval" value={interval} onChange={(e) => setIntervalKind(e.currentTarget.value as Interval)}>
                {TRIGGER_INTERVALS.map((v) => <option key={v} value={v}>{v}</option>)}
              </select>
            </label>
            {interval === 'HOUR' ? (
              <label>
                {t('dataflow.minute')}
                <input name="minute" inputMode="numeric" maxLength={2} value={minute} aria-invalid={mark(badField === 'triggerRule.time')} onInput={(e) => setMinute(e.currentTarget.value)} />
              </label>
            ) : (
              <label>
                {t('dataflow.time')}
                <input name="time" type="time" value={time} aria-invalid={mark(badField === 'triggerRule.time')} onInput={(e) => setTime(e.currentTarget.value)} />
              </label>
            )}
            {interval === 'MONTH' ? (
              <label>
                {t('dataflow.dateOfMonth')}
                <select name="dateOfMonth" value={dateOfMonth} onChange={(e) => setDateOfMonth(e.currentTarget.value)}>
                  {Array.from({ length: 31 }, (_, i) => String(i + 1)).map((d) => <option key={d} value={d}>{d}</option>)}
                  <option value="-1">{t('dataflow.lastDay')}</option>
                </select>
              </label>
            ) : null}
          </div>
        ) : null}
        {ruleType === 'RECURRING' && interval === 'WEEK' ? (
          <fieldset aria-invalid={mark(badField === 'triggerRule.dayOfWeek')} aria-describedby="days-help">
            <legend>{t('dataflow.days')}</legend>
            {DAYS_OF_WEEK.map((d) => (
              <label key={d} class="inline-check">
                <input type="checkbox" name="dayOfWeek" value={d} checked={days.includes(d)} onChange={(e) => setDays(e.currentTarget.checked ? [...days, d] : days.filter((x) => x !== d))} />
                {d}
              </label>
            ))}
            <small id="days-help">{t('dataflow.pickDay')}</small>
          </fieldset>
        ) : null}
        {ruleType === 'ONE_TIME' ? (
          <label>
            {t('dataflow.executionDate')}
            <input name="executionDate" type="datetime-local" value={executionDate} aria-invalid={mark(badField === 'triggerRule.executionDate')} onInput={(e) => setExecutionDate(e.currentTarget.value)} />
          </label>
        ) : null}
        <p>
          {t('dataflow.preview')}: <output id="trigger-preview" aria-live="polite">{preview}</output>
        </p>
        {touched && anyBad ? <p class="error" role="alert">{t('check.fix')}</p> : null}
        <ErrorNote error={error} />
        {created ? <p class="ok" role="status">{created}</p> : null}
        <button type="submit" disabled={busy} aria-busy={busy}>{t('dataflow.createTrigger')}</button>
      </form>
    </details>
  );
}

/** A small valid graph (dataflow.md §1.3.6): an Object Storage source, a filter, an Object Storage target. */
const EXAMPLE_NODES = JSON.stringify(
  [
    {
      id: 1, name: 'Object Storage', type: 'SOURCE_OBS', parentNodeIds: [],
      regionNo: '1', bucketName: 'my-bucket', prefix: 'input', dataType: 'CSV',
      fieldList: [{ name: 'id', type: 'string' }, { name: 'name', type: 'string' }],
    },
    {
      id: 2, name: 'Filter', type: 'TRANSFORM_FILTER', parentNodeIds: [1],
      filterType: 'AND', filterConditionList: [{ name: 'name', operator: 'EQ', value: 'A' }],
    },
    {
      id: 3, name: 'Object Storage', type: 'TARGET_OBS', parentNodeIds: [2],
      regionNo: '1', bucketName: 'my-bucket', prefix: 'output', dataType: 'CSV',
      fieldList: [{ name: 'id', type: 'string' }, { name: 'name', type: 'string' }],
      updateType: 'OVERWRITE',
    },
  ],
  null,
  2,
);

interface TypedNode { id: number; name: string; type: string; parentNodeIds: number[] }

/** The textarea's nodes when they have the shape the operation table asks for (JobNode), else why not. */
function readNodes(text: string): { nodes: TypedNode[] } | { syntax: string } | { shape: true } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { syntax: e instanceof Error ? e.message : String(e) };
  }
  const isId = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  const ok = Array.isArray(value) && value.length > 0 && value.every((n: unknown) => {
    if (!n || typeof n !== 'object' || Array.isArray(n)) return false;
    const o = n as Record<string, unknown>;
    return isId(o['id']) && typeof o['name'] === 'string' && typeof o['type'] === 'string' && Array.isArray(o['parentNodeIds']) && o['parentNodeIds'].every(isId);
  });
  return ok ? { nodes: value as TypedNode[] } : { shape: true };
}

/** CreateJob from its node graph as JSON: "Verify" (verifyJob) or "Create" (createJob); the typed graph drawn. */
export function CreateJob({ onCreated }: { onCreated: () => void }) {
  const t = useT();
  const { clients } = useApp();
  const [name, setName] = useState('');
  const [text, setText] = useState(EXAMPLE_NODES);
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const read = readNodes(text);
  const nodes = 'nodes' in read ? read.nodes : null;
  const nameBad = !DATAFLOW_NAME.test(name);
  const anyBad = nameBad || nodes === null;
  const mark = (bad: boolean) => (touched && bad ? 'true' : undefined);
  const send = (verb: 'verify' | 'create') => {
    setTouched(true);
    setNotice(null);
    if (anyBad || !nodes) return;
    setBusy(true);
    setError(null);
    const body = { name, nodes: nodes as never };
    const done = verb === 'verify'
      ? clients.dataflow.verifyJob(body).then(() => t('dataflow.verified'))
      : clients.dataflow.createJob(body).then((r) => { setName(''); setTouched(false); onCreated(); return t('dataflow.jobCreated', { name: r.name, id: r.jobId }); });
    done.then(
      (msg) => { setBusy(false); setNotice(msg); },
      (err: unknown) => { setBusy(false); setError(err); },
    );
  };
  return (
    <details>
      <summary>{t('dataflow.createJob')}</summary>
      <form class="group" noValidate onSubmit={(e) => { e.preventDefault(); send('create'); }} aria-labelledby="create-job-title">
        <h3 id="create-job-title">{t('dataflow.createJob')}</h3>
        <label>
          {t('col.name')}
          <input name="job-name" required maxLength={100} value={name} aria-invalid={mark(nameBad)} aria-describedby="job-name-help" onInput={(e) => setName(e.currentTarget.value)} />
          <small id="job-name-help">{t('dataflow.nameRule')}</small>
        </label>
        <label>
          {t('dataflow.nodesJson')}
          <textarea name="nodes" rows={14} spellcheck={false} class="mono" value={text} aria-invalid={nodes === null ? 'true' : undefined} aria-describedby="job-nodes-help" onInput={(e) => setText(e.currentTarget.value)} />
          <small id="job-nodes-help">
            {'syntax' in read ? t('dataflow.jsonBad', { message: read.syntax }) : 'shape' in read ? t('dataflow.nodesShape') : t('dataflow.nodesHelp')}
          </small>
        </label>
        {nodes ? <Dag id="job-preview" nodes={nodes} label={t('dataflow.previewGraph', { n: nodes.length })} /> : null}
        {touched && anyBad ? <p class="error" role="alert">{t('check.fix')}</p> : null}
        <ErrorNote error={error} />
        {notice ? <p class="ok" role="status">{notice}</p> : null}
        <button type="button" class="outline" disabled={busy} aria-busy={busy} onClick={() => send('verify')}>{t('dataflow.verify')}</button>{' '}
        <button type="submit" disabled={busy} aria-busy={busy}>{t('dataflow.createJob')}</button>
      </form>
    </details>
  );
}

interface JobRow {
  key: number;
  jobId: string;
  /** The trigger (`''`) or another row's key. */
  parent: string;
  numWorker: string;
  timeout: string;
}

function rangeBad(v: string, r: { min: number; max: number }): boolean {
  return v !== '' && (!/^[0-9]{1,4}$/.test(v) || Number(v) < r.min || Number(v) > r.max);
}

/** CreateWorkflow: a trigger and JOB nodes, each under the trigger or under another JOB node; the DAG previewed. */
export function CreateWorkflow(props: {
  jobs: Array<{ jobId: string; name: string }>;
  triggers: Array<{ triggerId: string; name: string; type: string }>;
  onCreated: () => void;
}) {
  const t = useT();
  const { clients } = useApp();
  const [name, setName] = useState('');
  const [triggerId, setTriggerId] = useState('');
  const [rows, setRows] = useState<JobRow[]>([{ key: 1, jobId: '', parent: '', numWorker: '', timeout: '' }]);
  const [nextKey, setNextKey] = useState(2);
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<string | null>(null);
  const trigger = props.triggers.find((x) => x.triggerId === triggerId);
  const jobName = (id: string) => props.jobs.find((j) => j.jobId === id)?.name ?? id;
  const update = (key: number, patch: Partial<JobRow>) => setRows(rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  const remove = (key: number) => setRows(rows.filter((r) => r.key !== key).map((r) => (r.parent === String(key) ? { ...r, parent: '' } : r)));
  const byKey = new Map(rows.map((r) => [String(r.key), r]));
  /** Whether a row's chain of parents reaches the trigger (not a cycle). */
  const reachesTrigger = (r: JobRow): boolean => {
    const seen = new Set<number>();
    for (let cur: JobRow | undefined = r; cur; cur = byKey.get(cur.parent)) {
      if (seen.has(cur.key)) return false;
      seen.add(cur.key);
      if (cur.parent === '') return true;
    }
    return false;
  };
  const problems = new Map(rows.map((r) => [r.key, {
    job: r.jobId === '' || rows.some((o) => o.key !== r.key && o.jobId === r.jobId),
    twice: r.jobId !== '' && rows.some((o) => o.key !== r.key && o.jobId === r.jobId),
    parent: !reachesTrigger(r) || (r.parent !== '' && byKey.get(r.parent)?.jobId === ''),
    numWorker: rangeBad(r.numWorker, WORKERS),
    timeout: rangeBad(r.timeout, TIMEOUT),
  }]));
  const nameBad = !DATAFLOW_NAME.test(name);
  const triggerBad = !trigger;
  const rowsBad = rows.length === 0 || [...problems.values()].some((p) => p.job || p.parent || p.numWorker || p.timeout);
  const anyBad = nameBad || triggerBad || rowsBad;
  const mark = (bad: boolean) => (touched && bad ? 'true' : undefined);
  const parentId = (r: JobRow) => (r.parent === '' ? triggerId : byKey.get(r.parent)?.jobId ?? '');
  const nodes = [
    ...(trigger ? [{ id: trigger.triggerId, name: trigger.name, type: 'TRIGGER' as const, parentNodeIds: [] as string[] }] : []),
    ...rows.filter((r) => r.jobId !== '').map((r) => ({
      id: r.jobId,
      name: jobName(r.jobId),
      type: 'JOB' as const,
      parentNodeIds: parentId(r) === '' ? [] : [parentId(r)],
      ...(r.numWorker !== '' || r.timeout !== ''
        ? { jobCondition: { ...(r.numWorker !== '' ? { numWorker: Number(r.numWorker) } : {}), ...(r.timeout !== '' ? { timeout: Number(r.timeout) } : {}) } }
        : {}),
    })),
  ];
  const submit = (e: Event) => {
    e.preventDefault();
    setTouched(true);
    setCreated(null);
    if (anyBad) return;
    setBusy(true);
    setError(null);
    clients.dataflow.createWorkflow({ name, nodes }).then(
      (w) => {
        setBusy(false);
        setTouched(false);
        setName('');
        setCreated(t('dataflow.workflowCreated', { name: w.name, id: w.workflowId }));
        props.onCreated();
      },
      (err: unknown) => { setBusy(false); setError(err); },
    );
  };
  return (
    <details>
      <summary>{t('dataflow.createWorkflow')}</summary>
      <form class="group" noValidate onSubmit={submit} aria-labelledby="create-workflow-title">
        <h3 id="create-workflow-title">{t('dataflow.createWorkflow')}</h3>
        <div class="inline-form">
          <label>
            {t('col.name')}
            <input name="workflow-name" required maxLength={100} value={name} aria-invalid={mark(nameBad)} aria-describedby="workflow-name-help" onInput={(e) => setName(e.currentTarget.value)} />
            <small id="workflow-name-help">{t('dataflow.nameRule')}</small>
          </label>
          <label>
            {t('dataflow.trigger')}
            <select name="workflow-trigger" value={triggerId} aria-invalid={mark(triggerBad)} onChange={(e) => setTriggerId(e.currentTarget.value)}>
              <option value="">{t('dataflow.pick')}</option>
              {props.triggers.map((x) => <option key={x.triggerId} value={x.triggerId}>{`${x.name} (${x.type})`}</option>)}
            </select>
          </label>
        </div>
        {rows.map((r, i) => {
          const p = problems.get(r.key)!;
          const n = i + 1;
          return (
            <fieldset key={r.key} class="group" data-job-node={n}>
              <legend>{t('dataflow.jobNode', { n })}</legend>
              <div class="inline-form">
                <label>
                  {t('dataflow.jobNodeJob')}
                  <select name={`node-${n}-job`} value={r.jobId} aria-invalid={mark(p.job)} onChange={(e) => update(r.key, { jobId: e.currentTarget.value })}>
                    <option value="">{t('dataflow.pick')}</option>
                    {props.jobs.map((j) => <option key={j.jobId} value={j.jobId}>{j.name}</option>)}
                  </select>
                  {touched && p.twice ? <small>{t('dataflow.jobTwice')}</small> : null}
                </label>
                <label>
                  {t('dataflow.parent')}
                  <select name={`node-${n}-parent`} value={r.parent} aria-invalid={mark(p.parent)} onChange={(e) => update(r.key, { parent: e.currentTarget.value })}>
                    <option value="">{t('dataflow.underTrigger', { name: trigger?.name ?? '—' })}</option>
                    {rows.filter((o) => o.key !== r.key).map((o) => (
                      <option key={o.key} value={String(o.key)}>{t('dataflow.jobNodeOf', { n: rows.indexOf(o) + 1, name: o.jobId === '' ? '—' : jobName(o.jobId) })}</option>
                    ))}
                  </select>
                  {touched && p.parent ? <small>{t('dataflow.cycle')}</small> : null}
                </label>
                <label>
                  {t('dataflow.numWorker')}
                  <input name={`node-${n}-numWorker`} type="number" min={WORKERS.min} max={WORKERS.max} value={r.numWorker} aria-invalid={mark(p.numWorker)} onInput={(e) => update(r.key, { numWorker: e.currentTarget.value })} />
                </label>
                <label>
                  {t('dataflow.timeout')}
                  <input name={`node-${n}-timeout`} type="number" min={TIMEOUT.min} max={TIMEOUT.max} value={r.timeout} aria-invalid={mark(p.timeout)} onInput={(e) => update(r.key, { timeout: e.currentTarget.value })} />
                </label>
              </div>
              {rows.length > 1 ? (
                <button type="button" class="outline secondary" onClick={() => remove(r.key)}>{t('dataflow.removeJobNode', { n })}</button>
              ) : null}
            </fieldset>
          );
        })}
        <button
          type="button"
          class="outline"
          onClick={() => {
            setRows([...rows, { key: nextKey, jobId: '', parent: '', numWorker: '', timeout: '' }]);
            setNextKey(nextKey + 1);
          }}
        >
          {t('dataflow.addJobNode')}
        </button>
        {nodes.length > 0 ? <Dag id="workflow-preview" nodes={nodes} label={t('dataflow.previewGraph', { n: nodes.length })} /> : null}
        {touched && anyBad ? <p class="error" role="alert">{t('check.fix')}</p> : null}
        <ErrorNote error={error} />
        {created ? <p class="ok" role="status">{created}</p> : null}
        <button type="submit" disabled={busy} aria-busy={busy}>{t('dataflow.createWorkflow')}</button>
      </form>
    </details>
  );
}
