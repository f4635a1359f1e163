/**
 * The account's audit log, newest first. Owner keys: every event, with the chain's verification
 * status. Fence-admin keys: the events of the account's fences (what list-audit-events gives them),
 * without the verification (an owner operation). Box-user keys: neither.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ErrorNote, Loading, Section, useApp, useLoad, useT, LoadState } from '../ui.js';

type Events = Awaited<ReturnType<ReturnType<typeof useApp>['clients']['stockade']['listAuditEvents']>>['events'];

export function AuditPage() {
  const t = useT();
  const { role } = useApp().identity;
  if (role === 'owner') return <><ChainStatus /><AuditLog /></>;
  if (role === 'fence-admin') return <AuditLog note={<p id="audit-scope" role="note">{t('audit.fenceOnly')}</p>} />;
  return <p>{t('audit.needsAdmin')}</p>;
}

function ChainStatus() {
  const t = useT();
  const { clients } = useApp();
  const chain = useLoad(() => clients.stockade.verifyAuditChain(), [clients]);
  return (
    <Section title={t('audit.chain')} id="audit-chain" actions={<button type="button" class="outline" onClick={chain.reload}>{t('audit.verify')}</button>}>
      <ErrorNote error={chain.error} />
      <Loading loading={chain.loading} />
      {chain.data && !chain.loading ? (
        <p id="chain-status" class={chain.data.intact ? 'ok' : 'error'} role="status">
          {chain.data.intact ? t('audit.intact') : t('audit.broken', { n: chain.data.problemCount })} <small>({t('audit.verifiedAt', { at: chain.data.verifiedAt })})</small>
        </p>
      ) : null}
    </Section>
  );
}

function AuditLog(props: { note?: ComponentChildren }) {
  const t = useT();
  const { clients } = useApp();
  const first = useLoad(() => clients.stockade.listAuditEvents({ limit: 50 }), [clients]);
  const [older, setOlder] = useState<Events>([]);
  const [olderError, setOlderError] = useState<unknown>(null);
  const events = [...(first.data?.events ?? []), ...older];
  const last = events.at(-1);
  const loadOlder = () => {
    if (!last) return;
    clients.stockade.listAuditEvents({ limit: 50, before: last.seq }).then((r) => setOlder([...older, ...r.events]), setOlderError);
  };
  return (
    <Section title={t('audit.title')} id="audit-title" actions={<button type="button" class="outline" onClick={() => { setOlder([]); first.reload(); }}>{t('refresh')}</button>}>
      {props.note}
      <LoadState load={first} />
      {first.data && events.length === 0 ? <p>{t('none')}</p> : null}
      {events.length > 0 ? (
        <table id="audit">
          <thead><tr><th scope="col">{t('audit.seq')}</th><th scope="col">{t('audit.at')}</th><th scope="col">{t('audit.who')}</th><th scope="col">{t('audit.action')}</th><th scope="col">{t('audit.resource')}</th></tr></thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.seq} data-action={e.action}>
                <td>{e.seq}</td>
                <td>{e.at}</td>
                <td>{e.userName ?? e.accessKeyId}<br /><small>{e.clientAddress ?? ''}</small></td>
                <td><code>{e.action}</code></td>
                <td>{e.resource}{e.detail !== null && e.detail !== undefined ? <><br /><small>{JSON.stringify(e.detail)}</small></> : null}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {last && last.seq > 1 ? <button type="button" class="outline" onClick={loadOlder}>{t('audit.older')}</button> : null}
      <ErrorNote error={olderError} />
    </Section>
  );
}
