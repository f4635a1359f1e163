/**
 * Cloud File Storage: file systems with their usage and mount targets (create and drop both);
 * access groups and their rules.
 */
import { useState } from 'preact/hooks';
import { FS_PROTOCOLS, FS_TYPES, USER_ACCESS, WRITE_ACCESS } from '@stockade/sdk';
import { ActionButton, ErrorNote, Loading, Section, formatBytes, useApp, useLoad, useT, LoadState } from '../ui.js';

function token(): string {
  return crypto.randomUUID();
}

/** fsName (spec §2.1): 1–65 bytes, starts with a letter; letters, digits, `-` `_` `/` `.` (the operation table's pattern). */
const FS_NAME = /^[A-Za-z][A-Za-z0-9_./-]{0,64}$/;
/** capacityQuota is in bytes, 1 GB … 10 PB (or 0 = none); the form takes GiB: 1 … 10 PiB. */
const GIB = 2 ** 30;
const QUOTA_MAX_GIB = 10 * 2 ** 20;

type FileSystem = Awaited<ReturnType<ReturnType<typeof useApp>['clients']['cfs']['queryFileSystem']>>['fileSystemList'][number];

export function CfsPage() {
  // Every CFS operation needs an owner key: say so, and show the server's own answer to this key.
  return useApp().identity.role === 'owner' ? <FileSystems /> : <NotOwner />;
}

function NotOwner() {
  const t = useT();
  const { clients } = useApp();
  const fs = useLoad(() => clients.cfs.queryFileSystem({ maxKeys: 1 }), [clients]);
  return (
    <>
      <h1>{t('cfs.title')}</h1>
      <p>{t('cfs.ownerOnly')}</p>
      <Loading loading={fs.loading} />
      <ErrorNote error={fs.error} />
    </>
  );
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
        <LoadState load={fs} empty={(d) => d.fileSystemList.length === 0} />
        <CreateFileSystem onCreated={fs.reload} />
        {fs.data?.fileSystemList.map((f) => (
          <FileSystemCard key={f.fsId} fs={f} groups={groups.data?.accessGroups.map((g) => g.accessGroupName) ?? []} onChanged={fs.reload} />
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

/** CreateFileSystem: the documented name rule and quota range checked here first, then the server's answer in place. */
function CreateFileSystem({ onCreated }: { onCreated: () => void }) {
  const t = useT();
  const { clients } = useApp();
  const [fsName, setName] = useState('');
  const [zone, setZone] = useState('');
  const [type, setType] = useState<(typeof FS_TYPES)[number]>('cap');
  const [protocol, setProtocol] = useState<(typeof FS_PROTOCOLS)[number]>('nfs');
  const [quota, setQuota] = useState('');
  const [vpcId, setVpc] = useState('');
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<string | null>(null);
  const nameBad = !FS_NAME.test(fsName);
  const zoneBad = zone.trim() === '' || zone.trim().length > 64;
  const quotaBad = quota !== '' && (!/^[0-9]{1,8}$/.test(quota) || Number(quota) < 1 || Number(quota) > QUOTA_MAX_GIB);
  const vpcBad = vpcId.trim().length > 64;
  const submit = (e: Event) => {
    e.preventDefault();
    setTouched(true);
    setCreated(null);
    if (nameBad || zoneBad || quotaBad || vpcBad) return;
    setBusy(true);
    setError(null);
    clients.cfs
      .createFileSystem({
        clientToken: token(),
        fsName,
        zone: zone.trim(),
        type,
        protocol,
        ...(quota !== '' ? { capacityQuota: Number(quota) * GIB } : {}),
        ...(vpcId.trim() !== '' ? { vpcId: vpcId.trim() } : {}),
      })
      .then(
        (r) => { setBusy(false); setTouched(false); setName(''); setCreated(r.fsId); onCreated(); },
        (err: unknown) => { setBusy(false); setError(err); },
      );
  };
  const mark = (bad: boolean) => (touched && bad ? 'true' : undefined);
  return (
    <details>
      <summary>{t('cfs.createFs')}</summary>
      <form class="group" noValidate onSubmit={submit} aria-labelledby="create-fs-title">
        <h3 id="create-fs-title">{t('cfs.createFs')}</h3>
        <div class="inline-form">
          <label>
            {t('cfs.fsName')}
            <input name="fsName" required maxLength={65} value={fsName} aria-invalid={mark(nameBad)} aria-describedby="fs-name-help" onInput={(e) => setName(e.currentTarget.value)} />
            <small id="fs-name-help">{t('cfs.fsNameRule')}</small>
          </label>
          <label>
            {t('cfs.zone')}
            <input name="zone" required maxLength={64} value={zone} aria-invalid={mark(zoneBad)} aria-describedby="fs-zone-help" onInput={(e) => setZone(e.currentTarget.value)} />
            <small id="fs-zone-help">{t('cfs.zoneHelp')}</small>
          </label>
        </div>
        <div class="inline-form">
          <label>
            {t('cfs.type')}
            <select name="type" value={type} onChange={(e) => setType(e.currentTarget.value as typeof type)}>
              {FS_TYPES.map((v) => <option key={v} value={v}>{v}</option>)}
            </select>
          </label>
          <label>
            {t('cfs.protocol')}
            <select name="protocol" value={protocol} onChange={(e) => setProtocol(e.currentTarget.value as typeof protocol)}>
              {FS_PROTOCOLS.map((v) => <option key={v} value={v}>{v}</option>)}
            </select>
          </label>
          <label>
            {t('cfs.quotaGib')}
            <input name="capacityQuota" type="number" min={1} max={QUOTA_MAX_GIB} value={quota} aria-invalid={mark(quotaBad)} aria-describedby="fs-quota-help" onInput={(e) => setQuota(e.currentTarget.value)} />
            <small id="fs-quota-help">{t('cfs.quotaHelp', { max: QUOTA_MAX_GIB })}</small>
          </label>
          <label>
            {t('cfs.vpcOptional')}
            <input name="vpcId" maxLength={64} value={vpcId} aria-invalid={mark(vpcBad)} onInput={(e) => setVpc(e.currentTarget.value)} />
          </label>
        </div>
        {touched && (nameBad || zoneBad || quotaBad || vpcBad) ? <p class="error" role="alert">{t('check.fix')}</p> : null}
        <ErrorNote error={error} />
        {created ? <p class="ok" role="status">{t('cfs.created', { id: created })}</p> : null}
        <button type="submit" disabled={busy} aria-busy={busy}>{t('cfs.createFs')}</button>
      </form>
    </details>
  );
}

/** One file system: its facts as QueryFileSystem gave them, its mount targets, and the drop actions. */
function FileSystemCard({ fs: f, groups, onChanged }: { fs: FileSystem; groups: string[]; onChanged: () => void }) {
  const t = useT();
  const { clients } = useApp();
  return (
    <article data-fs-id={f.fsId} aria-labelledby={`fs-${f.fsId}`}>
      <header>
        <strong id={`fs-${f.fsId}`}>{f.fsName}</strong> <small>{f.fsId} · {f.type} · {f.protocol} · {f.zone} · {f.vpcId}</small>
      </header>
      <p>
        {t('col.status')}: <span class="status">{f.status}</span> · {t('cfs.usage')}: <span class="fs-usage">{formatBytes(Number(f.fsUsage))}</span>
        {f.capacityQuota ? ` · ${t('cfs.quota')}: ${formatBytes(f.capacityQuota)}` : ''}
      </p>
      {f.mountTargetList.length > 0 ? (
        <table>
          <caption>{t('cfs.mountsOf', { name: f.fsName })}</caption>
          <thead><tr><th scope="col">{t('col.id')}</th><th scope="col">{t('cfs.domain')}</th><th scope="col">{t('cfs.subnet')}</th><th scope="col">{t('cfs.accessGroup')}</th><th scope="col">{t('col.actions')}</th></tr></thead>
          <tbody>
            {f.mountTargetList.map((m) => (
              <tr key={m.mountId} data-mount-id={m.mountId}>
                <td>{m.mountId}</td><td><code>{m.domain}</code> ({m.ovip})</td><td>{m.subnetId}</td><td>{m.accessGroupName}</td>
                <td>
                  <ActionButton
                    class="secondary outline"
                    label={t('cfs.dropMount')}
                    confirm={t('cfs.dropMountConfirm', { id: m.mountId, name: f.fsName })}
                    run={() => clients.cfs.dropMountTarget({ fsId: f.fsId, mountId: m.mountId })}
                    onDone={onChanged}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : <p>{t('cfs.mounts')}: {t('none')}</p>}
      <CreateMountTarget fs={f} groups={groups} onCreated={onChanged} />
      <footer>
        <ActionButton
          class="secondary"
          label={t('cfs.dropFs')}
          confirm={t('cfs.dropFsConfirm', { name: f.fsName, id: f.fsId })}
          run={() => clients.cfs.dropFileSystem({ fsId: f.fsId })}
          onDone={onChanged}
        />
      </footer>
    </article>
  );
}

/**
 * CreateMountTarget. The API exposes no catalogue of VPCs and subnets, so they are typed in; the
 * VPC starts as the file system's own (QueryFileSystem returns it). The access group is one of
 * QueryAccessGroups' groups, or none for the server's default.
 */
function CreateMountTarget({ fs: f, groups, onCreated }: { fs: FileSystem; groups: string[]; onCreated: () => void }) {
  const t = useT();
  const { clients } = useApp();
  const [vpcId, setVpc] = useState(f.vpcId);
  const [subnetId, setSubnet] = useState('');
  const [group, setGroup] = useState('');
  const [address, setAddress] = useState('');
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const vpcBad = vpcId.trim() === '' || vpcId.trim().length > 64;
  const subnetBad = subnetId.trim() === '' || subnetId.trim().length > 64;
  const addressBad = address.trim().length > 64;
  const submit = (e: Event) => {
    e.preventDefault();
    setTouched(true);
    if (vpcBad || subnetBad || addressBad) return;
    setBusy(true);
    setError(null);
    clients.cfs
      .createMountTarget({
        fsId: f.fsId,
        clientToken: token(),
        vpcId: vpcId.trim(),
        subnetId: subnetId.trim(),
        ...(group !== '' ? { accessGroupName: group } : {}),
        ...(address.trim() !== '' ? { address: address.trim() } : {}),
      })
      .then(
        () => { setBusy(false); setTouched(false); setSubnet(''); setAddress(''); onCreated(); },
        (err: unknown) => { setBusy(false); setError(err); },
      );
  };
  const mark = (bad: boolean) => (touched && bad ? 'true' : undefined);
  return (
    <details>
      <summary>{t('cfs.addMount')}</summary>
      <form noValidate onSubmit={submit} aria-label={t('cfs.addMountTo', { name: f.fsName })}>
        <div class="inline-form">
          <label>{t('cfs.vpc')}<input name="vpcId" required maxLength={64} value={vpcId} aria-invalid={mark(vpcBad)} onInput={(e) => setVpc(e.currentTarget.value)} /></label>
          <label>{t('cfs.subnet')}<input name="subnetId" required maxLength={64} value={subnetId} aria-invalid={mark(subnetBad)} onInput={(e) => setSubnet(e.currentTarget.value)} /></label>
          <label>
            {t('cfs.accessGroup')}
            <select name="accessGroupName" value={group} onChange={(e) => setGroup(e.currentTarget.value)}>
              <option value="">{t('cfs.defaultGroup')}</option>
              {groups.map((g) => <option key={g} value={g}>{g}</option>)}
            </select>
          </label>
          <label>{t('cfs.address')}<input name="address" maxLength={64} value={address} aria-invalid={mark(addressBad)} onInput={(e) => setAddress(e.currentTarget.value)} /></label>
        </div>
        {touched && (vpcBad || subnetBad || addressBad) ? <p class="error" role="alert">{t('check.fix')}</p> : null}
        <ErrorNote error={error} />
        <button type="submit" disabled={busy} aria-busy={busy}>{t('cfs.addMount')}</button>
      </form>
    </details>
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
