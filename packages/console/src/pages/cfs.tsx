/** Cloud File Storage: file systems with their usage and mount targets; access groups and their rules. */
import { useState } from 'preact/hooks';
import { USER_ACCESS, WRITE_ACCESS } from '@stockade/sdk';
import { ActionButton, ErrorNote, Loading, Section, formatBytes, useApp, useLoad, useT } from '../ui.js';

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
            <thead><tr><th scope="col">{t('col.name')}</th><th scope="col">{t('col.description')}</th><th scope="col">{t('cfs.rules')}</th><th scope="col">{t('col.actions')}</th></tr></thead>
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
                    <AddRule group={g.accessGroupName} onAdded={groups.reload} />
                  </td>
                  <td>
                    <ActionButton class="secondary outline" label={t('delete')} confirm={t('confirm.delete', { name: g.accessGroupName })} run={() => clients.cfs.deleteAccessGroup({ agName: g.accessGroupName })} onDone={() => groups.reload()} />
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

/** A rule for a group: the fields CreateAccessRule takes; the server checks the address. */
function AddRule({ group, onAdded }: { group: string; onAdded: () => void }) {
  const t = useT();
  const { clients } = useApp();
  const [ip, setIp] = useState('');
  const [mask, setMask] = useState('32');
  const [writeAccess, setWrite] = useState<(typeof WRITE_ACCESS)[number]>('read_write');
  const [userAccess, setUser] = useState<(typeof USER_ACCESS)[number]>('no_squash');
  const [priority, setPriority] = useState('1');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const maskBad = !/^[0-9]{1,3}$/.test(mask) || Number(mask) > 128;
  const priorityBad = !/^[0-9]{1,3}$/.test(priority) || Number(priority) < 1 || Number(priority) > 100;
  const submit = (e: Event) => {
    e.preventDefault();
    if (maskBad || priorityBad || ip === '') return;
    setBusy(true);
    setError(null);
    clients.cfs
      .createAccessRule({ agName: group, clientToken: token(), ip: ip.trim(), mask: Number(mask), writeAccess, userAccess, priority: Number(priority) })
      .then(
        () => { setBusy(false); setIp(''); onAdded(); },
        (err: unknown) => { setBusy(false); setError(err); },
      );
  };
  return (
    <details>
      <summary>{t('cfs.addRule')}</summary>
      <form onSubmit={submit} aria-label={t('cfs.addRuleTo', { group })}>
        <label>{t('cfs.ip')}<input name="ip" required value={ip} onInput={(e) => setIp(e.currentTarget.value)} /></label>
        <label>{t('cfs.mask')}<input name="mask" type="number" min={0} max={128} value={mask} aria-invalid={maskBad ? 'true' : undefined} onInput={(e) => setMask(e.currentTarget.value)} /></label>
        <label>{t('cfs.write')}
          <select name="writeAccess" value={writeAccess} onChange={(e) => setWrite(e.currentTarget.value as typeof writeAccess)}>
            {WRITE_ACCESS.map((w) => <option key={w} value={w}>{w}</option>)}
          </select>
        </label>
        <label>{t('cfs.user')}
          <select name="userAccess" value={userAccess} onChange={(e) => setUser(e.currentTarget.value as typeof userAccess)}>
            {USER_ACCESS.map((u) => <option key={u} value={u}>{u}</option>)}
          </select>
        </label>
        <label>{t('cfs.priority')}<input name="priority" type="number" min={1} max={100} value={priority} aria-invalid={priorityBad ? 'true' : undefined} onInput={(e) => setPriority(e.currentTarget.value)} /></label>
        <ErrorNote error={error} />
        <button type="submit" disabled={busy || maskBad || priorityBad} aria-busy={busy}>{t('cfs.addRule')}</button>
      </form>
    </details>
  );
}
