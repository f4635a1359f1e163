/** Cloud File Storage: file systems with their usage and mount targets; access groups and their rules. */
import { useState } from 'preact/hooks';
import { ErrorNote, Loading, Section, formatBytes, useApp, useLoad, useT } from '../ui.js';

function token(): string {
  return crypto.randomUUID();
}

export function CfsPage() {
  const t = useT();
  // Every CFS operation needs an owner key: say so rather than show the refusals.
  return useApp().identity.role === 'owner' ? <FileSystems /> : <p>{t('cfs.ownerOnly')}</p>;
}

function FileSystems() {
  const t = useT();
  const { clients } = useApp();
  const fs = useLoad(() => clients.cfs.queryFileSystem({ maxKeys: 1000 }), [clients]);
  const groups = useLoad(() => clients.cfs.queryAccessGroups({ maxKeys: 1000 }), [clients]);
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>(null);
  const createGroup = (e: Event) => {
    e.preventDefault();
    setError(null);
    clients.cfs.createAccessGroup({ clientToken: token(), accessGroupName: name.trim() }).then(
      () => { setName(''); groups.reload(); },
      setError,
    );
  };
  return (
    <>
      <Section title={t('cfs.title')} actions={<button type="button" class="outline" onClick={fs.reload}>{t('refresh')}</button>}>
        <ErrorNote error={fs.error} />
        <Loading loading={fs.loading && !fs.data} />
        {fs.data && fs.data.fileSystemList.length === 0 ? <p>{t('none')}</p> : null}
        {fs.data?.fileSystemList.map((f) => (
          <article key={f.fsId}>
            <header><strong>{f.fsName}</strong> <small>{f.fsId} · {f.type} · {f.protocol} · {f.zone}</small></header>
            <p>
              {t('col.status')}: <span class="status">{f.status}</span> · {t('cfs.usage')}: {formatBytes(Number(f.fsUsage))}
              {f.capacityQuota ? ` · ${t('cfs.quota')}: ${f.capacityQuota} GB` : ''}
            </p>
            {f.mountTargetList.length > 0 ? (
              <table>
                <caption>{t('cfs.mounts')}</caption>
                <thead><tr><th scope="col">{t('col.id')}</th><th scope="col">{t('cfs.domain')}</th><th scope="col">{t('cfs.subnet')}</th><th scope="col">{t('cfs.accessGroup')}</th></tr></thead>
                <tbody>
                  {f.mountTargetList.map((m) => (
                    <tr key={m.mountId}><td>{m.mountId}</td><td><code>{m.domain}</code> ({m.ovip})</td><td>{m.subnetId}</td><td>{m.accessGroupName}</td></tr>
                  ))}
                </tbody>
              </table>
            ) : <p>{t('cfs.mounts')}: {t('none')}</p>}
          </article>
        ))}
      </Section>
      <Section title={t('cfs.groups')} id="cfs-groups">
        <form class="inline-form" onSubmit={createGroup}>
          <label>
            {t('cfs.newGroup')}
            <input name="accessGroupName" required maxLength={65} value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <button type="submit">{t('cfs.createGroup')}</button>
        </form>
        <ErrorNote error={error} />
        <ErrorNote error={groups.error} />
        {groups.data ? (
          <table>
            <thead><tr><th scope="col">{t('col.name')}</th><th scope="col">{t('col.description')}</th><th scope="col">{t('cfs.rules')}</th></tr></thead>
            <tbody>
              {groups.data.accessGroups.map((g) => (
                <tr key={g.accessGroupName}>
                  <td>{g.accessGroupName}</td>
                  <td>{g.description ?? ''}</td>
                  <td>
                    {g.accessRules.length === 0 ? t('none') : (
                      <ul>
                        {g.accessRules.map((r) => (
                          <li key={r.accessRuleId}>{t('cfs.rule', { ip: r.ip, mask: r.mask, write: r.writeAccess, user: r.userAccess, priority: r.priority })}</li>
                        ))}
                      </ul>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : <Loading loading={groups.loading} />}
      </Section>
    </>
  );
}
