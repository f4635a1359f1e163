/**
 * Data Flow workflows and the dashboard (docs/console.md): a workflow's nodes (trigger → jobs)
 * drawn with the jobs page's DAG, its executions and "Run now"; the dashboard's three statistics
 * as small SVG charts with the same numbers as tables. Times are shown on the KST wall clock, the
 * clock the service's schedules and windows are read on (dataflow.md §1.6, §3.3).
 */
import { useState } from 'preact/hooks';
import { isProblem, nextDue, parseRule, type ScheduleRule } from '@stockade/sdk';
import { ActionButton, ErrorNote, Link, Loading, Section, StatusBadge, useApp, useLoad, useT, LoadState } from '../ui.js';
import { Dag } from './dataflow.js';
import { CreateWorkflow, useCanWriteDataflow } from './dataflow-forms.js';

const LIVE_MS = 3000;
const KST_OFFSET_MS = 9 * 3600_000;
const DAY_MS = 24 * 3600_000;

/** An instant as `YYYY-MM-DD HH:mm KST` (KST has no daylight saving time: a fixed offset is exact). */
export function formatKst(ms: number): string {
  return new Date(ms + KST_OFFSET_MS).toISOString().slice(0, 16).replace('T', ' ') + ' KST';
}

/** Today's KST date, `days` days from now, as `YYYY-MM-DD`. */
function kstDate(days: number, now = Date.now()): string {
  return new Date(now + KST_OFFSET_MS + days * DAY_MS).toISOString().slice(0, 10);
}

/**
 * A trigger's next due time, computed in the browser with the server's own schedule code
 * (@stockade/sdk schedule.ts): `null` when the rule never fires by itself (NONE, EVENT, a past
 * ONE_TIME) or is not one the server would accept.
 */
export function nextDueOf(rule: ScheduleRule, now = Date.now()): number | null {
  const s = parseRule(rule);
  if (isProblem(s)) return null;
  return nextDue(s, now);
}

/** The workflows, with the create form (over the page's jobs and triggers) and a delete action each. */
export function WorkflowList(props: { jobs: Array<{ jobId: string; name: string }>; triggers: Array<{ triggerId: string; name: string; type: string }> }) {
  const t = useT();
  const { clients } = useApp();
  const canWrite = useCanWriteDataflow();
  const flows = useLoad(() => clients.dataflow.getWorkflows({ limit: 100 }), [clients]);
  return (
    <Section title={t('dataflow.workflows')} id="workflows-title" actions={<button type="button" class="outline" onClick={flows.reload}>{t('refresh')}</button>}>
      <LoadState load={flows} />
      {canWrite ? <CreateWorkflow jobs={props.jobs} triggers={props.triggers} onCreated={flows.reload} /> : null}
      {flows.data && flows.data.list.length === 0 ? <p>{t('none')}</p> : null}
      {flows.data && flows.data.list.length > 0 ? (
        <table id="workflows">
          <thead><tr><th scope="col">{t('col.name')}</th><th scope="col">{t('dataflow.ruleType')}</th><th scope="col">{t('dataflow.lastRun')}</th>{canWrite ? <th scope="col">{t('col.actions')}</th> : null}</tr></thead>
          <tbody>
            {flows.data.list.map((w) => (
              <tr key={w.workflowId} data-workflow={w.workflowId}>
                <td><Link href={`/console/dataflow/workflows/${encodeURIComponent(w.workflowId)}`}>{w.name}</Link><br /><small>{w.workflowId}</small></td>
                <td>{w.triggerRuleType ?? '—'}</td>
                <td>{w.lastExecutionDate ?? '—'}</td>
                {canWrite ? (
                  <td>
                    <ActionButton class="secondary outline" label={t('delete')} confirm={t('confirm.delete', { name: w.name })} run={() => clients.dataflow.deleteWorkflow({ workflowId: w.workflowId })} onDone={flows.reload} />
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Section>
  );
}

export function WorkflowPage({ workflowId }: { workflowId: string }) {
  const t = useT();
  const { clients } = useApp();
  const flow = useLoad(() => clients.dataflow.getWorkflowById({ workflowId }), [clients, workflowId]);
  const runs = useLoad(() => clients.dataflow.getWorkflowExecutions({ workflowId, limit: 20 }), [clients, workflowId], LIVE_MS);
  const [notice, setNotice] = useState<string | null>(null);
  const w = flow.data;
  const trigger = w?.nodes.find((n) => n.type === 'TRIGGER');
  const ruleType = trigger?.triggerRule ?? null;
  return (
    <>
      <nav aria-label={t('nav.breadcrumb')}>
        <ul><li><Link href="/console/dataflow">{t('nav.dataflow')}</Link></li><li>{w?.name ?? workflowId}</li></ul>
      </nav>
      <ErrorNote error={flow.error} />
      <Loading loading={flow.loading && !w} />
      {w ? (
        <>
          <Section
            title={t('dataflow.workflow', { name: w.name })}
            id="workflow-title"
            actions={
              // Offered for every workflow: the server decides (NONE/EVENT start, a scheduled one is
              // refused) and its error is shown here in place.
              <ActionButton
                label={t('dataflow.run')}
                run={() => clients.dataflow.executeWorkflow({ workflowId })}
                onDone={() => {
                  setNotice(t('dataflow.accepted'));
                  runs.reload();
                }}
              />
            }
          >
            {notice ? <p class="ok" role="status">{notice}</p> : null}
            <p>
              {t('dataflow.ruleType')}: {ruleType ?? '—'}
              {ruleType && ruleType !== 'NONE' ? <> · <small>{t('dataflow.scheduledOnly')}</small></> : null}
              {' · '}{t('dataflow.lastRun')}: {w.lastExecutionDate ?? '—'}
            </p>
            <Dag nodes={w.nodes} label={t('dataflow.graph', { name: w.name, n: w.nodes.length })} />
            <ol id="dag-nodes" class="dag-list">
              {w.nodes.map((n) => (
                <li key={n.id}>{`${n.name} (${n.type})`}{n.parentNodeIds.length ? ` ← ${n.parentNodeIds.map((p) => w.nodes.find((x) => x.id === p)?.name ?? p).join(', ')}` : ''}</li>
              ))}
            </ol>
          </Section>
          <Section title={t('dataflow.executions')} id="executions-title">
            <p><small>{t('live', { s: LIVE_MS / 1000 })}</small></p>
            <ErrorNote error={runs.error} />
            {runs.data && runs.data.list.length === 0 ? <p>{t('none')}</p> : null}
            {runs.data && runs.data.list.length > 0 ? (
              <table id="workflow-executions">
                <thead><tr><th scope="col">{t('col.id')}</th><th scope="col">{t('dataflow.jobs')}</th><th scope="col">{t('col.status')}</th><th scope="col">{t('dataflow.startedAt')}</th><th scope="col">{t('col.ended')}</th></tr></thead>
                <tbody aria-live="polite">
                  {runs.data.list.map((e) => (
                    <tr key={e.jobExecutionId} data-status={e.status}>
                      <td>{e.jobExecutionId}</td>
                      <td><Link href={`/console/dataflow/jobs/${encodeURIComponent(e.jobId)}`}>{e.jobName}</Link></td>
                      <td><StatusBadge code={e.status} /></td>
                      <td>{e.startDate ?? e.createdDate}</td>
                      <td>{e.endDate ?? ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
          </Section>
        </>
      ) : null}
    </>
  );
}

interface Bar {
  label: string;
  value: number;
}

const CHART_H = 140;
const CHART_PAD = 24;

/** Vertical bars scaled to the largest value; the figure is labelled, the numbers are in a table next to it. */
function BarChart({ bars, label, id, every = 1 }: { bars: Bar[]; label: string; id: string; every?: number }) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const slot = Math.max(6, Math.min(96, Math.floor(720 / Math.max(1, bars.length))));
  const width = CHART_PAD * 2 + slot * bars.length;
  const height = CHART_H + CHART_PAD * 2;
  return (
    <div class="overflow-auto">
      <svg id={id} class="chart" role="img" aria-label={label} width={width} height={height} viewBox={`0 0 ${width} ${height}`}>
        <text x={2} y={CHART_PAD - 8} class="chart-label">{String(max)}</text>
        <line x1={CHART_PAD} y1={CHART_PAD + CHART_H} x2={width - CHART_PAD} y2={CHART_PAD + CHART_H} class="chart-axis" />
        {bars.map((b, i) => {
          const h = Math.round((b.value / max) * CHART_H);
          const x = CHART_PAD + i * slot;
          return (
            <g key={i} data-value={b.value}>
              <rect class="chart-bar" x={x + 1} y={CHART_PAD + CHART_H - h} width={Math.max(1, slot - 2)} height={h} />
              {i % every === 0 ? <text x={x} y={height - 6} class="chart-label">{b.label}</text> : null}
            </g>
          );
        })}
      </svg>
    </div>
  );
}

export function DashboardPage() {
  const t = useT();
  const { clients } = useApp();
  // Default window: the last 7 KST days, today included (both bounds inclusive on the server).
  const [from, setFrom] = useState(kstDate(-6));
  const [to, setTo] = useState(kstDate(0));
  const stats = useLoad(async () => {
    const q = { startDate: `${from}T00:00:00`, endDate: `${to}T23:59:59` };
    const [result, count, times] = await Promise.all([
      clients.dataflow.getExecutionResult(q),
      clients.dataflow.getExecutionCount(q),
      clients.dataflow.getExecutionTimes(q),
    ]);
    return { result, count: count.result, times: times.result };
  }, [clients, from, to]);
  const s = stats.data;
  return (
    <>
      <nav aria-label={t('nav.breadcrumb')}>
        <ul><li><Link href="/console/dataflow">{t('nav.dataflow')}</Link></li><li>{t('dataflow.dashboard')}</li></ul>
      </nav>
      <Section title={t('dataflow.dashboard')} id="dashboard-title">
        <div class="grid">
          <label>{t('dataflow.from')}<input type="date" id="stats-from" value={from} onChange={(e) => setFrom((e.target as HTMLInputElement).value)} /></label>
          <label>{t('dataflow.to')}<input type="date" id="stats-to" value={to} onChange={(e) => setTo((e.target as HTMLInputElement).value)} /></label>
        </div>
        <p><small>{t('dataflow.kstWindow')}</small></p>
        <ErrorNote error={stats.error} />
        <Loading loading={stats.loading && !s} />
        {s ? (
          <>
            <h3 id="result-title">{t('dataflow.result')}</h3>
            <BarChart
              id="chart-result"
              label={t('dataflow.resultChart', { total: s.result.totalCount, completed: s.result.completedCount, failed: s.result.failedCount })}
              bars={[
                { label: t('dataflow.total'), value: s.result.totalCount },
                { label: t('dataflow.completed'), value: s.result.completedCount },
                { label: t('dataflow.failed'), value: s.result.failedCount },
              ]}
            />
            <table id="stats-result">
              <thead><tr><th scope="col">{t('dataflow.total')}</th><th scope="col">{t('dataflow.completed')}</th><th scope="col">{t('dataflow.failed')}</th></tr></thead>
              <tbody><tr><td>{s.result.totalCount}</td><td>{s.result.completedCount}</td><td>{s.result.failedCount}</td></tr></tbody>
            </table>
            <h3 id="daily-title">{t('dataflow.daily')}</h3>
            <BarChart
              id="chart-daily"
              label={t('dataflow.dailyChart', { n: s.count.length })}
              bars={s.count.map((d) => ({ label: d.startDate.slice(5, 10), value: d.totalCount }))}
              every={Math.ceil(s.count.length / 10)}
            />
            <details>
              <summary>{t('dataflow.asTable')}</summary>
              <table id="stats-daily">
                <thead><tr><th scope="col">{t('dataflow.day')}</th><th scope="col">{t('dataflow.total')}</th></tr></thead>
                <tbody>{s.count.map((d) => <tr key={d.startDate}><td>{d.startDate.slice(0, 10)}</td><td>{d.totalCount}</td></tr>)}</tbody>
              </table>
            </details>
            <h3 id="times-title">{t('dataflow.times')}</h3>
            <BarChart
              id="chart-times"
              label={t('dataflow.timesChart', { n: s.times.length })}
              bars={s.times.map((p) => ({ label: formatKst(p.time).slice(5, 13), value: p.value }))}
              every={Math.ceil(s.times.length / 6)}
            />
            <details>
              <summary>{t('dataflow.asTable')}</summary>
              <table id="stats-times">
                <thead><tr><th scope="col">{t('dataflow.from')}</th><th scope="col">{t('dataflow.total')}</th></tr></thead>
                <tbody>{s.times.map((p) => <tr key={p.time}><td>{formatKst(p.time)}</td><td>{p.value}</td></tr>)}</tbody>
              </table>
            </details>
          </>
        ) : null}
      </Section>
    </>
  );
}
