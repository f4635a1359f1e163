/**
 * Data Flow (issue 12): jobs, a job's node graph drawn as a DAG (SVG, laid out here), its
 * executions with status and their logs (objects read through S3), the triggers with their next
 * due time (computed in the browser, KST), and the workflows and dashboard (./workflows.tsx).
 * Jobs, triggers and workflows are created with ./dataflow-forms.tsx and deleted from their lists.
 */
import { useState } from 'preact/hooks';
import { ActionButton, ErrorNote, Link, Section, StatusBadge, useApp, useLoad, useT, LoadState } from '../ui.js';
import { DashboardPage, WorkflowList, WorkflowPage, formatKst, nextDueOf } from './workflows.js';
import { CreateJob, CreateTrigger, useCanWriteDataflow } from './dataflow-forms.js';

const LIVE_MS = 3000;
const LOG_MAX_CHARS = 64 * 1024;

export function DataflowPage({ route }: { route: string[] }) {
  if (route[0] === 'jobs' && route[1]) return <JobPage jobId={route[1]} />;
  if (route[0] === 'workflows' && route[1]) return <WorkflowPage workflowId={route[1]} />;
  if (route[0] === 'dashboard') return <DashboardPage />;
  return <Overview />;
}

function Overview() {
  const t = useT();
  const { clients } = useApp();
  const canWrite = useCanWriteDataflow();
  const jobs = useLoad(() => clients.dataflow.getJobs({ limit: 100 }), [clients], LIVE_MS * 2);
  const triggers = useLoad(() => clients.dataflow.getTriggers({ limit: 100 }), [clients]);
  const now = Date.now();
  return (
    <>
      <p><Link href="/console/dataflow/dashboard">{t('dataflow.dashboard')}</Link></p>
      {canWrite ? null : <p id="dataflow-admin-only">{t('dataflow.adminOnly')}</p>}
      <Section title={t('dataflow.jobs')} id="jobs-title" actions={<button type="button" class="outline" onClick={jobs.reload}>{t('refresh')}</button>}>
        <LoadState load={jobs} />
        {canWrite ? <CreateJob onCreated={jobs.reload} /> : null}
        {jobs.data && jobs.data.list.length === 0 ? <p>{t('none')}</p> : null}
        {jobs.data && jobs.data.list.length > 0 ? (
          <table id="jobs">
            <thead><tr><th scope="col">{t('col.name')}</th><th scope="col">{t('dataflow.type')}</th><th scope="col">{t('col.status')}</th><th scope="col">{t('dataflow.lastRun')}</th><th scope="col">{t('dataflow.updated')}</th>{canWrite ? <th scope="col">{t('col.actions')}</th> : null}</tr></thead>
            <tbody>
              {jobs.data.list.map((j) => (
                <tr key={j.jobId} data-job={j.jobId}>
                  <td><Link href={`/console/dataflow/jobs/${encodeURIComponent(j.jobId)}`}>{j.name}</Link><br /><small>{j.jobId}</small></td>
                  <td>{j.type}</td>
                  <td><StatusBadge code={j.status} /></td>
                  <td>{j.lastExecutionStatus ? <StatusBadge code={j.lastExecutionStatus} /> : '—'}<br /><small>{j.lastExecutionDate ?? ''}</small></td>
                  <td>{j.updatedDate}</td>
                  {canWrite ? (
                    <td>
                      <ActionButton class="secondary outline" label={t('delete')} confirm={t('confirm.delete', { name: j.name })} run={() => clients.dataflow.deleteJob({ jobId: j.jobId })} onDone={jobs.reload} />
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </Section>
      <Section title={t('dataflow.triggers')} id="triggers-title">
        <LoadState load={triggers} />
        {canWrite ? <CreateTrigger onCreated={triggers.reload} /> : null}
        {triggers.data && triggers.data.list.length === 0 ? <p>{t('none')}</p> : null}
        {triggers.data && triggers.data.list.length > 0 ? (
          <table id="triggers">
            <thead><tr><th scope="col">{t('col.name')}</th><th scope="col">{t('dataflow.type')}</th><th scope="col">{t('dataflow.rule')}</th><th scope="col">{t('dataflow.nextDue')}</th><th scope="col">{t('dataflow.updated')}</th>{canWrite ? <th scope="col">{t('col.actions')}</th> : null}</tr></thead>
            <tbody>
              {triggers.data.list.map((tr) => (
                <tr key={tr.triggerId} data-trigger={tr.triggerId}>
                  <td>{tr.name}<br /><small>{tr.triggerId}</small></td>
                  <td>{tr.type}</td>
                  <td>{describeRule(tr.triggerRule)}</td>
                  <td data-next-due>{(() => { const due = tr.type === 'SCHEDULED' ? nextDueOf(tr.triggerRule, now) : null; return due === null ? '—' : formatKst(due); })()}</td>
                  <td>{tr.updatedDate}</td>
                  {canWrite ? (
                    <td>
                      <ActionButton class="secondary outline" label={t('delete')} confirm={t('confirm.delete', { name: tr.name })} run={() => clients.dataflow.deleteTrigger({ triggerId: tr.triggerId })} onDone={triggers.reload} />
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </Section>
      <WorkflowList jobs={jobs.data?.list ?? []} triggers={triggers.data?.list ?? []} />
    </>
  );
}

/** A trigger rule as the API returned it, in one line (the fields it has, nothing computed). */
function describeRule(r: { type: string; interval?: string; time?: string; dayOfWeek?: string[]; dateOfMonth?: string; executionDate?: string }): string {
  const parts = [r.type, r.interval, r.time, r.dayOfWeek?.join(','), r.dateOfMonth, r.executionDate].filter((x): x is string => typeof x === 'string' && x !== '');
  return parts.join(' · ');
}

/** A job's nodes (numeric ids) or a workflow's (string ids: the trigger's or job's id). */
type NodeId = number | string;
interface GraphNode {
  id: NodeId;
  name: string;
  type: string;
  parentNodeIds: NodeId[];
}

/**
 * A layered layout: a node's layer is the length of the longest path to it from a root; nodes
 * of one layer stack in the order the job lists them. Edges to unknown parents and cycles (the
 * server refuses both; a node in one still gets a layer) are drawn as far as they go.
 */
export function layout(nodes: GraphNode[]): { pos: Map<NodeId, { x: number; y: number }>; layers: number } {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const layer = new Map<NodeId, number>();
  const visiting = new Set<NodeId>();
  const depth = (id: NodeId): number => {
    const known = layer.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const n = byId.get(id);
    const d = n ? Math.max(-1, ...n.parentNodeIds.filter((p) => byId.has(p)).map(depth)) + 1 : 0;
    visiting.delete(id);
    layer.set(id, d);
    return d;
  };
  const rows = new Map<number, number>();
  const pos = new Map<NodeId, { x: number; y: number }>();
  for (const n of nodes) {
    const d = depth(n.id);
    const row = rows.get(d) ?? 0;
    rows.set(d, row + 1);
    pos.set(n.id, { x: d, y: row });
  }
  return { pos, layers: Math.max(0, ...rows.keys()) + 1 };
}

const NODE_W = 170;
const NODE_H = 48;
const GAP_X = 60;
const GAP_Y = 24;

/** `id` names the SVG (default `dag`); a page with more than one graph gives each its own. */
export function Dag({ nodes, label, id = 'dag' }: { nodes: GraphNode[]; label: string; id?: string }) {
  const { pos, layers } = layout(nodes);
  const maxRow = Math.max(0, ...[...pos.values()].map((p) => p.y));
  const width = layers * (NODE_W + GAP_X) - GAP_X + 20;
  const height = (maxRow + 1) * (NODE_H + GAP_Y) - GAP_Y + 20;
  const at = (id: NodeId) => {
    const p = pos.get(id)!;
    return { x: 10 + p.x * (NODE_W + GAP_X), y: 10 + p.y * (NODE_H + GAP_Y) };
  };
  return (
    <div class="overflow-auto" tabIndex={0} role="region" aria-label={label}>
      <svg id={id} class="dag" role="img" aria-label={label} width={width} height={height} viewBox={`0 0 ${width} ${height}`}>
        <defs>
          <marker id={`${id}-arrow`} viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" class="dag-arrow" />
          </marker>
        </defs>
        {nodes.flatMap((n) =>
          n.parentNodeIds.filter((p) => pos.has(p)).map((p) => {
            const a = at(p);
            const b = at(n.id);
            const x1 = a.x + NODE_W;
            const y1 = a.y + NODE_H / 2;
            const x2 = b.x;
            const y2 = b.y + NODE_H / 2;
            const mid = (x1 + x2) / 2;
            return <path key={`${p}-${n.id}`} class="dag-edge" data-edge={`${p}-${n.id}`} d={`M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`} marker-end={`url(#${id}-arrow)`} />;
          }),
        )}
        {nodes.map((n) => {
          const p = at(n.id);
          return (
            <g key={n.id} class="dag-node" data-node={n.id} transform={`translate(${p.x} ${p.y})`}>
              <rect width={NODE_W} height={NODE_H} rx="6" />
              <text x="8" y="19" class="dag-name">{n.name.length > 22 ? n.name.slice(0, 21) + '…' : n.name}</text>
              <text x="8" y="38" class="dag-type">{n.type}</text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}

/** `bucket/key…` (the form of logPath / consoleLogPath) as a bucket and a key. */
function splitPath(p: string): { bucket: string; key: string } | null {
  const i = p.indexOf('/');
  if (i <= 0 || i === p.length - 1) return null;
  return { bucket: p.slice(0, i), key: p.slice(i + 1) };
}

function JobPage({ jobId }: { jobId: string }) {
  const t = useT();
  const { clients } = useApp();
  const job = useLoad(() => clients.dataflow.getJobById({ jobId }), [clients, jobId]);
  const runs = useLoad(() => clients.dataflow.getJobExecutions({ jobId, limit: 20 }), [clients, jobId], LIVE_MS);
  const [notice, setNotice] = useState<string | null>(null);
  const [logOf, setLogOf] = useState<string | null>(null);
  const j = job.data;
  return (
    <>
      <nav aria-label={t('nav.breadcrumb')}>
        <ul><li><Link href="/console/dataflow">{t('nav.dataflow')}</Link></li><li>{j?.name ?? jobId}</li></ul>
      </nav>
      <LoadState load={job} />
      {j ? (
        <>
          <Section
            title={t('dataflow.job', { name: j.name })}
            id="job-title"
            actions={
              <ActionButton
                label={t('dataflow.run')}
                run={() => clients.dataflow.executeJob({ jobId })}
                onDone={(e) => {
                  setNotice(t('dataflow.started', { id: (e as { jobExecutionId: string }).jobExecutionId }));
                  runs.reload();
                }}
              />
            }
          >
            {notice ? <p class="ok" role="status">{notice}</p> : null}
            <p>{j.description}</p>
            <p><StatusBadge code={j.status} /> · {j.type} · {t('dataflow.maxRuns', { n: j.maxConcurrentRuns })}</p>
            {j.nodes.length > 0 ? (
              <>
                <Dag nodes={j.nodes} label={t('dataflow.graph', { name: j.name, n: j.nodes.length })} />
                <ol id="dag-nodes" class="dag-list">
                  {j.nodes.map((n) => (
                    <li key={n.id}>{`${n.name} (${n.type})`}{n.parentNodeIds.length ? ` ← ${n.parentNodeIds.map((p) => j.nodes.find((x) => x.id === p)?.name ?? p).join(', ')}` : ''}</li>
                  ))}
                </ol>
              </>
            ) : <p>{t('dataflow.noNodes')}</p>}
          </Section>
          <Section title={t('dataflow.executions')} id="executions-title">
            <p><small>{t('live', { s: LIVE_MS / 1000 })}</small></p>
            <ErrorNote error={runs.error} />
            {runs.data && runs.data.list.length === 0 ? <p>{t('none')}</p> : null}
            {runs.data && runs.data.list.length > 0 ? (
              <table id="executions">
                <thead><tr><th scope="col">{t('col.id')}</th><th scope="col">{t('col.status')}</th><th scope="col">{t('dataflow.startedAt')}</th><th scope="col">{t('col.ended')}</th><th scope="col">{t('col.actions')}</th></tr></thead>
                <tbody aria-live="polite">
                  {runs.data.list.map((e) => (
                    <tr key={e.jobExecutionId} data-status={e.status}>
                      <td>{e.jobExecutionId}{e.triggerName ? <><br /><small>{e.triggerName}</small></> : null}</td>
                      <td><StatusBadge code={e.status} /></td>
                      <td>{e.startDate ?? e.createdDate}</td>
                      <td>{e.endDate ?? ''}</td>
                      <td>
                        <button type="button" class="outline" aria-expanded={logOf === e.jobExecutionId} onClick={() => setLogOf(logOf === e.jobExecutionId ? null : e.jobExecutionId)}>
                          {t('dataflow.log')}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
            {logOf ? <ExecutionLog key={logOf} jobId={jobId} executionId={logOf} /> : null}
          </Section>
        </>
      ) : null}
    </>
  );
}

function ExecutionLog({ jobId, executionId }: { jobId: string; executionId: string }) {
  const t = useT();
  const { clients, s3 } = useApp();
  // The execution names where its logs are (docs/dataflow.md): the console log, and the per-node
  // events under logPath.
  const log = useLoad(async () => {
    const e = await clients.dataflow.getJobExecutionById({ jobId, executionId });
    const out: Array<{ name: string; text: string | null; error: unknown }> = [];
    // consoleLogPath is a folder (`{bucket}/consoleLogs/{executionId}/`) holding console.log.
    const consoleLog = e.jobCondition.consoleLogPath ? e.jobCondition.consoleLogPath + (e.jobCondition.consoleLogPath.endsWith('/') ? 'console.log' : '') : null;
    const paths = [consoleLog, e.jobCondition.logPath ? `${e.jobCondition.logPath}${executionId}/events.json` : null];
    for (const p of paths) {
      const where = p ? splitPath(p) : null;
      if (!p || !where) continue;
      try {
        const bytes = await s3.getBytes(where.bucket, where.key);
        out.push({ name: p, text: new TextDecoder().decode(bytes).slice(0, LOG_MAX_CHARS), error: null });
      } catch (err) {
        out.push({ name: p, text: null, error: err });
      }
    }
    return { status: e.status, logs: out };
  }, [clients, s3, jobId, executionId]);
  return (
    <article id="execution-log" aria-labelledby="log-title">
      <h3 id="log-title">{t('dataflow.logOf', { id: executionId })}</h3>
      <LoadState load={log} empty={(d) => d.logs.length === 0} emptyText={t('dataflow.noLog')} />
      {log.data?.logs.map((l) => (
        <div key={l.name}>
          <p><code>{l.name}</code></p>
          {l.text !== null ? <pre class="preview-text" tabIndex={0}>{l.text}</pre> : <ErrorNote error={l.error} />}
        </div>
      ))}
    </article>
  );
}
