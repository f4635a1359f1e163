/** Datafence: fences and their boxes with live status, create a box, infra lists and histories, NAS resize, network, return. */
import { useState } from 'preact/hooks';
import { PASSWORD_PATTERN } from '@stockade/sdk';
import { ActionButton, ErrorNote, Link, Loading, Section, StatusBadge, useApp, useLoad, useT, LoadState } from '../ui.js';

/** Box states that change on their own: the page polls faster while one is shown. */
const MOVING = new Set(['INITIALIZE', 'ING', 'RETURN']);
const LIVE_MS = 3000;

export function FencesPage({ fenceId }: { fenceId?: number | undefined }) {
  const t = useT();
  const { clients } = useApp();
  const fences = useLoad(() => clients.datafence.getDatafence(), [clients]);
  const selected = fenceId ?? fences.data?.[0]?.fenceId;
  return (
    <>
      <Section title={t('fences.title')} actions={<button type="button" class="outline" onClick={fences.reload}>{t('refresh')}</button>}>
        <Loading loading={fences.loading && !fences.data} />
        <ErrorNote error={fences.error} />
        {fences.data && fences.data.length === 0 ? <p>{t('none')}</p> : null}
        {fences.data && fences.data.length > 0 ? (
          <table id="fences">
            <thead>
              <tr><th scope="col">{t('col.id')}</th><th scope="col">{t('col.name')}</th><th scope="col">{t('col.status')}</th><th scope="col">{t('col.boxCount')}</th><th scope="col">{t('col.created')}</th></tr>
            </thead>
            <tbody>
              {fences.data.map((f) => (
                <tr key={f.fenceId}>
                  <td>{f.fenceId}</td>
                  <td><Link href={`/console/fences/${f.fenceId}`} current={f.fenceId === selected}>{f.fenceName}</Link><br /><small>{f.description}</small></td>
                  <td><StatusBadge code={f.statusCode} name={f.statusName} /></td>
                  <td>{f.boxCount}</td>
                  <td>{f.createDate}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </Section>
      {selected !== undefined ? <FenceDetail key={selected} fenceId={selected} /> : null}
    </>
  );
}

function FenceDetail({ fenceId }: { fenceId: number }) {
  const t = useT();
  const { clients, identity } = useApp();
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const boxes = useLoad(() => clients.datafence.getBoxList({ fenceId, size: 100 }), [clients, fenceId], LIVE_MS);
  const infra = useLoad(() => clients.datafence.getDatafenceInfraList({ fenceId, size: 100 }), [clients, fenceId]);
  const history = useLoad(() => clients.datafence.getDatafenceInfraHistory({ fenceId, size: 20 }), [clients, fenceId]);
  const canAdmin = identity.role !== 'box-user';
  return (
    <>
      <Section
        title={`${t('fence.boxes')} · fence ${fenceId}`}
        id="boxes-title"
        actions={canAdmin ? <button type="button" onClick={() => setCreating(!creating)} aria-expanded={creating}>{t('box.create')}</button> : null}
      >
        <p><small aria-live="polite">{t('live', { s: LIVE_MS / 1000 })}</small></p>
        {notice ? <p class="ok" role="status">{notice}</p> : null}
        {creating ? (
          <CreateBoxForm
            fenceId={fenceId}
            onCreated={(message) => {
              setCreating(false);
              setNotice(t('requested', { message }));
              boxes.reload();
            }}
            onCancel={() => setCreating(false)}
          />
        ) : null}
        <LoadState load={boxes} empty={(d) => d.content.length === 0} />
        {boxes.data && boxes.data.content.length > 0 ? (
          <table id="boxes">
            <thead>
              <tr><th scope="col">{t('col.id')}</th><th scope="col">{t('col.name')}</th><th scope="col">{t('col.status')}</th><th scope="col">{t('col.created')}</th></tr>
            </thead>
            <tbody aria-live="polite">
              {boxes.data.content.map((b) => (
                <tr key={b.boxId} data-status={b.statusCode}>
                  <td>{b.boxId}</td>
                  <td><Link href={`/console/fences/${fenceId}/boxes/${b.boxId}`}>{b.boxName}</Link><br /><small>{b.description}</small></td>
                  <td><StatusBadge code={b.statusCode} name={b.statusName} />{MOVING.has(b.statusCode) ? <span aria-busy="true" /> : null}</td>
                  <td>{b.createDate}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </Section>
      <Section title={t('fence.infra')} id="fence-infra">
        <ErrorNote error={infra.error} />
        {infra.data ? (
          <table>
            <thead><tr><th scope="col">{t('col.type')}</th><th scope="col">{t('col.name')}</th><th scope="col">{t('col.spec')}</th><th scope="col">{t('col.status')}</th><th scope="col">{t('col.actions')}</th></tr></thead>
            <tbody>
              {infra.data.content.map((i) => (
                <tr key={i.instanceNo}>
                  <td>{i.infraType}</td>
                  <td>{i.instanceName}<br /><small>{i.privateIp || i.userName}</small></td>
                  <td>{i.specName}</td>
                  <td><StatusBadge code={i.statusCode} name={i.statusName} /></td>
                  <td>
                    {i.infraType === 'FENCE_NAS' && canAdmin ? (
                      <NasResize
                        name={i.instanceName}
                        resize={(volumeSize) => clients.datafence.changeFenceNasVolume({ fenceId, instanceNo: i.instanceNo, volumeSize })}
                        onDone={() => infra.reload()}
                      />
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : <Loading loading={infra.loading} />}
      </Section>
      <Section title={t('fence.history')} id="fence-history">
        <ErrorNote error={history.error} />
        {history.data ? <HistoryTable rows={history.data.content} /> : <Loading loading={history.loading} />}
      </Section>
    </>
  );
}

function HistoryTable({ rows }: { rows: Array<{ infraType: string; instanceNo: number; instanceName: string; statusCode: string; statusName: string; createDate: string; endDate: string }> }) {
  const t = useT();
  if (rows.length === 0) return <p>{t('none')}</p>;
  return (
    <table>
      <thead><tr><th scope="col">{t('col.type')}</th><th scope="col">{t('col.name')}</th><th scope="col">{t('col.status')}</th><th scope="col">{t('col.created')}</th><th scope="col">{t('col.ended')}</th></tr></thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={`${r.instanceNo}-${i}`}>
            <td>{r.infraType}</td><td>{r.instanceName}</td><td><StatusBadge code={r.statusCode} name={r.statusName} /></td><td>{r.createDate}</td><td>{r.endDate}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** NAS sizes (datafence.md §1.7): 500–10000 GB in steps of 100. */
const NAS = { min: 500, max: 10000, step: 100 };
const STORAGE = { min: 10, max: 2000, step: 10 };

function rangeError(v: number, r: { min: number; max: number; step: number }): boolean {
  return !Number.isInteger(v) || v < r.min || v > r.max || v % r.step !== 0;
}

function NasResize(props: { name: string; resize: (size: number) => Promise<unknown>; onDone: (result: unknown) => void }) {
  const t = useT();
  const [size, setSize] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const n = Number(size);
  const invalid = size !== '' && rangeError(n, NAS);
  const submit = (e: Event) => {
    e.preventDefault();
    if (size === '' || invalid) return;
    setBusy(true);
    setError(null);
    props.resize(n).then(
      (r) => { setBusy(false); setSize(''); props.onDone(r); },
      (err: unknown) => { setBusy(false); setError(err); },
    );
  };
  const id = `nas-${props.name}`.replace(/[^A-Za-z0-9-]/g, '-');
  return (
    <form class="inline-form" onSubmit={submit}>
      <label>
        {t('nas.newSize', { name: props.name })}
        <input type="number" min={NAS.min} max={NAS.max} step={NAS.step} value={size} aria-invalid={invalid ? 'true' : undefined} aria-describedby={`${id}-help`} onInput={(e) => setSize(e.currentTarget.value)} />
        <small id={`${id}-help`}>{t('check.range', NAS)}</small>
      </label>
      <button type="submit" class="outline" disabled={busy || invalid || size === ''} aria-busy={busy}>{t('nas.resize')}</button>
      <ErrorNote error={error} />
    </form>
  );
}

interface ServerFields { spec: string; software: string; storage: string; password: string }

/** The create-box form: choices from get-product-spec, the spec's rules checked before sending. */
function CreateBoxForm(props: { fenceId: number; onCreated: (message: string) => void; onCancel: () => void }) {
  const t = useT();
  const { clients } = useApp();
  const spec = useLoad(() => clients.datafence.getProductSpec(), [clients]);
  const [description, setDescription] = useState('');
  const [connect, setConnect] = useState<ServerFields>({ spec: '', software: '', storage: '50', password: '' });
  const [linux, setLinux] = useState<ServerFields | null>({ spec: '', software: '', storage: '50', password: '' });
  const [nasSize, setNasSize] = useState('500');
  const [nasCount, setNasCount] = useState('1');
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [serverError, setServerError] = useState<unknown>(null);

  if (!spec.data) return <><Loading loading={spec.loading} /><ErrorNote error={spec.error} /></>;
  const product = (code: string) => spec.data?.find((p) => p.productCode === code);
  const con = product('CON');
  const lnx = product('SVR_LNX_UBUNTU');
  const boxNas = product('BOX_NAS');
  const nasMax = boxNas?.maxQuantity ?? 10;
  const nasMin = Math.max(1, boxNas?.minQuantity ?? 1);
  const passwordRe = new RegExp(PASSWORD_PATTERN);
  // Linux servers need a software code (create-box's schema); the connect server's is optional.
  const serverProblems = (s: ServerFields, needsSoftware = false) => ({
    spec: s.spec === '',
    software: needsSoftware && s.software === '',
    storage: rangeError(Number(s.storage), STORAGE),
    password: !passwordRe.test(s.password),
  });
  const cp = serverProblems(connect);
  const lp = linux ? serverProblems(linux, true) : null;
  const nasSizeBad = rangeError(Number(nasSize), NAS);
  const nasCountBad = !Number.isInteger(Number(nasCount)) || Number(nasCount) < nasMin || Number(nasCount) > nasMax;
  const anyBad = cp.spec || cp.storage || cp.password || (lp !== null && (lp.spec || lp.software || lp.storage || lp.password)) || nasSizeBad || nasCountBad;

  const submit = (e: Event) => {
    e.preventDefault();
    setTouched(true);
    if (anyBad) return;
    setBusy(true);
    setServerError(null);
    clients.datafence
      .createBox({
        fenceId: props.fenceId,
        ...(description ? { description } : {}),
        createBoxInfo: {
          connectServerList: [{
            specCode: connect.spec,
            ...(connect.software ? { softwareCode: connect.software } : {}),
            storageSize: Number(connect.storage),
            userPassword1: connect.password,
          }],
          ...(linux ? { linuxServerList: [{ specCode: linux.spec, softwareCode: linux.software, storageSize: Number(linux.storage), userPassword: linux.password }] } : {}),
          nasList: [{ nasSize: Number(nasSize), count: Number(nasCount) }],
        },
      })
      .then(
        (r) => { setBusy(false); props.onCreated(r.message); },
        (err: unknown) => { setBusy(false); setServerError(err); },
      );
  };

  const server = (prefix: string, legend: string, value: ServerFields, set: (v: ServerFields) => void, p: ReturnType<typeof serverProblems>, prod: typeof con) => (
    <fieldset class="group">
      <legend>{legend}</legend>
      <label>
        {t('form.spec')}
        <select name={`${prefix}-spec`} required value={value.spec} aria-invalid={touched && p.spec ? 'true' : undefined} onChange={(e) => set({ ...value, spec: e.currentTarget.value })}>
          <option value="">—</option>
          {(prod?.specCodeList ?? []).map((s) => <option value={s.specCode} key={s.specCode}>{s.specName} ({s.specCode})</option>)}
        </select>
        {touched && p.spec ? <small>{t('check.required')}</small> : null}
      </label>
      <label>
        {t('form.software')}
        <select name={`${prefix}-software`} value={value.software} aria-invalid={touched && p.software ? 'true' : undefined} onChange={(e) => set({ ...value, software: e.currentTarget.value })}>
          <option value="">—</option>
          {(prod?.softwareCodeList ?? []).map((s) => <option value={s.softwareCode} key={s.softwareCode}>{s.softwareName}</option>)}
        </select>
        {touched && p.software ? <small>{t('check.required')}</small> : null}
      </label>
      <label>
        {t('form.storage')}
        <input name={`${prefix}-storage`} type="number" min={STORAGE.min} max={STORAGE.max} step={STORAGE.step} value={value.storage} aria-invalid={touched && p.storage ? 'true' : undefined} onInput={(e) => set({ ...value, storage: e.currentTarget.value })} />
        <small>{t('check.range', STORAGE)}</small>
      </label>
      <label>
        {t('form.password')}
        <input name={`${prefix}-password`} type="password" autocomplete="new-password" value={value.password} aria-invalid={touched && p.password ? 'true' : undefined} onInput={(e) => set({ ...value, password: e.currentTarget.value })} />
        <small>{t('check.password')}</small>
      </label>
    </fieldset>
  );

  return (
    <article>
      <form onSubmit={submit} noValidate aria-labelledby="create-box-title">
        <h3 id="create-box-title">{t('box.create')}</h3>
        <label>
          {t('form.description')}
          <input name="description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </label>
        {server('connect', t('form.connect'), connect, setConnect, cp, con)}
        {linux && lp ? (
          <>
            {server('linux', t('form.linux'), linux, setLinux, lp, lnx)}
            <button type="button" class="outline secondary" onClick={() => setLinux(null)}>{t('form.removeLinux')}</button>
          </>
        ) : (
          <button type="button" class="outline" onClick={() => setLinux({ spec: '', software: '', storage: '50', password: '' })}>{t('form.addLinux')}</button>
        )}
        <fieldset class="group">
          <legend>{t('form.nas')}</legend>
          <label>
            {t('form.nasSize')}
            <input name="nas-size" type="number" min={NAS.min} max={NAS.max} step={NAS.step} value={nasSize} aria-invalid={touched && nasSizeBad ? 'true' : undefined} onInput={(e) => setNasSize(e.currentTarget.value)} />
            <small>{t('check.range', NAS)}</small>
          </label>
          <label>
            {t('form.nasCount')}
            <input name="nas-count" type="number" min={nasMin} max={nasMax} step={1} value={nasCount} aria-invalid={touched && nasCountBad ? 'true' : undefined} onInput={(e) => setNasCount(e.currentTarget.value)} />
            <small>{t('check.range', { min: nasMin, max: nasMax, step: 1 })}</small>
          </label>
        </fieldset>
        {touched && anyBad ? <p class="error" role="alert">{t('check.fix')}</p> : null}
        <ErrorNote error={serverError} />
        <button type="submit" disabled={busy} aria-busy={busy}>{t('create')}</button>{' '}
        <button type="button" class="secondary" onClick={props.onCancel}>{t('cancel')}</button>
      </form>
    </article>
  );
}

export function BoxPage({ fenceId, boxId }: { fenceId: number; boxId: number }) {
  const t = useT();
  const { clients, identity } = useApp();
  // get-box-summary-info: status, external network and NAS totals, polled (live status).
  const summary = useLoad(() => clients.datafence.getBoxSummaryInfo({ fenceId, boxId }), [clients, fenceId, boxId], LIVE_MS);
  const infra = useLoad(() => clients.datafence.getBoxInfraList({ fenceId, boxId, size: 100 }), [clients, fenceId, boxId], LIVE_MS * 2);
  const history = useLoad(() => clients.datafence.getBoxInfraHistory({ fenceId, boxId, size: 50 }), [clients, fenceId, boxId]);
  const box = summary.data;
  const canAdmin = identity.role !== 'box-user';
  const [notice, setNotice] = useState<string | null>(null);
  /** After a change was accepted: the server's message, and fresh lists. */
  const requested = (r: unknown) => {
    const message = (r as { message?: unknown } | undefined)?.message;
    setNotice(typeof message === 'string' ? t('requested', { message }) : null);
    summary.reload();
    infra.reload();
    history.reload();
  };
  return (
    <>
      <p><Link href={`/console/fences/${fenceId}`}>← fence {fenceId}</Link></p>
      <Section title={box ? `${box.boxName} (box ${boxId})` : `box ${boxId}`} id="box-title">
        <LoadState load={summary} />
        {box ? (
          <>
            <p aria-live="polite">
              {t('col.status')}: <StatusBadge code={box.statusCode} name={box.statusName} />{box.description ? ` · ${box.description}` : ''}
            </p>
            <p id="box-network">
              {t('box.network')}: {box.webBlockStatus ? t('box.blocked') : t('box.allowed')} · {t('form.nas')}: {box.nasCount} × · {box.nasTotalUseSize} / {box.nasTotalSize} GB
            </p>
          </>
        ) : null}
        {notice ? <p class="ok" role="status">{notice}</p> : null}
        {canAdmin && box && box.statusCode === 'USE' ? (
          <div>
            {box.webBlockStatus ? (
              <ActionButton class="outline" label={t('box.allow')} run={() => clients.datafence.changeBoxBlockExternalNetwork({ fenceId, boxId, isBlock: false })} onDone={requested} />
            ) : (
              <ActionButton class="outline" label={t('box.block')} run={() => clients.datafence.changeBoxBlockExternalNetwork({ fenceId, boxId, isBlock: true })} onDone={requested} />
            )}
            <ActionButton class="secondary" label={t('box.return')} confirm={t('box.confirmReturn', { name: box.boxName })} run={() => clients.datafence.returnBox({ fenceId, boxId })} onDone={requested} />
          </div>
        ) : null}
      </Section>
      <Section title={t('box.infra')} id="box-infra">
        <ErrorNote error={infra.error} />
        {infra.data ? (
          infra.data.content.length === 0 ? <p>{t('none')}</p> : (
            <table>
              <thead><tr><th scope="col">{t('col.type')}</th><th scope="col">{t('col.name')}</th><th scope="col">{t('col.spec')}</th><th scope="col">{t('col.status')}</th><th scope="col">{t('col.actions')}</th></tr></thead>
              <tbody>
                {infra.data.content.map((i) => (
                  <tr key={`${i.infraType}-${i.instanceNo}`}>
                    <td>{i.infraType}</td>
                    <td>{i.instanceName}<br /><small>{i.privateIp || i.userName1}</small></td>
                    <td>{i.specName}{i.blockStorageSize ? ` · ${i.blockStorageSize} GB` : ''}</td>
                    <td><StatusBadge code={i.statusCode} name={i.statusName} /></td>
                    <td>
                      {i.infraType === 'BOX_NAS' && canAdmin ? (
                        <NasResize name={i.instanceName} resize={(volumeSize) => clients.datafence.changeBoxNasVolume({ fenceId, boxId, instanceNo: i.instanceNo, volumeSize })} onDone={requested} />
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        ) : <Loading loading={infra.loading} />}
      </Section>
      <Section title={t('box.history')} id="box-history">
        <ErrorNote error={history.error} />
        {history.data ? <HistoryTable rows={history.data.content} /> : <Loading loading={history.loading} />}
      </Section>
    </>
  );
}
