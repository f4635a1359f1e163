/**
 * Imports and exports of a box (issue 12): import an object of a bucket onto a box NAS, export a
 * file of a box NAS to a bucket (through review), follow both lists live, cancel an export.
 */
import { useState } from 'preact/hooks';
import { ActionButton, ErrorNote, Section, StatusBadge, useApp, useLoad, useT, LoadState } from '../ui.js';

const LIVE_MS = 3000;
/** Files per import or export request (docs/datafence.md: `sourceFilePathList`, at most 10). */
const MAX_FILES = 10;

/** The non-empty lines of a list field: one file per line. */
function fileLines(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
}
/** Export states a cancel is accepted in (docs/datafence.md: before a decision). */
const CANCELLABLE = new Set(['INITIALIZED', 'UPLOADING', 'UPLOADED']);

/** Chooses a fence and one of its boxes (the key sees only what it may: a box-user its boxes). */
export function BoxPicker(props: { fenceId: number | undefined; boxId: number | undefined; onChange: (fenceId: number, boxId: number | undefined) => void }) {
  const t = useT();
  const { clients } = useApp();
  const fences = useLoad(() => clients.datafence.getDatafence(), [clients]);
  const fenceId = props.fenceId ?? fences.data?.[0]?.fenceId;
  const boxes = useLoad(
    () => (fenceId === undefined ? Promise.resolve(null) : clients.datafence.getBoxList({ fenceId, size: 100 })),
    [clients, fenceId],
  );
  const usable = boxes.data?.content.filter((b) => b.statusCode !== 'TERMINATE') ?? [];
  const boxId = props.boxId ?? usable[0]?.boxId;
  if (fenceId !== undefined && boxId !== undefined && (props.fenceId !== fenceId || props.boxId !== boxId)) {
    queueMicrotask(() => props.onChange(fenceId, boxId));
  }
  return (
    <div class="inline-form">
      <ErrorNote error={fences.error ?? boxes.error} />
      <label>
        {t('pick.fence')}
        <select name="fence" value={fenceId ?? ''} onChange={(e) => props.onChange(Number(e.currentTarget.value), undefined)}>
          {(fences.data ?? []).map((f) => <option key={f.fenceId} value={f.fenceId}>{`${f.fenceName} (${f.fenceId})`}</option>)}
        </select>
      </label>
      <label>
        {t('pick.box')}
        <select name="box" value={boxId ?? ''} onChange={(e) => fenceId !== undefined && props.onChange(fenceId, Number(e.currentTarget.value))}>
          {usable.map((b) => <option key={b.boxId} value={b.boxId}>{`${b.boxName} (${b.boxId}) · ${b.statusCode}`}</option>)}
        </select>
      </label>
    </div>
  );
}

export function TransfersPage() {
  const t = useT();
  const [sel, setSel] = useState<{ fenceId?: number; boxId?: number }>({});
  const [exportPath, setExportPath] = useState('');
  return (
    <>
      <h1>{t('nav.imports')}</h1>
      <BoxPicker fenceId={sel.fenceId} boxId={sel.boxId} onChange={(fenceId, boxId) => setSel(boxId === undefined ? { fenceId } : { fenceId, boxId })} />
      {sel.fenceId !== undefined && sel.boxId !== undefined ? (
        <BoxTransfers key={`${sel.fenceId}/${sel.boxId}`} fenceId={sel.fenceId} boxId={sel.boxId} exportPath={exportPath} setExportPath={setExportPath} />
      ) : (
        <p>{t('transfers.noBox')}</p>
      )}
    </>
  );
}

function BoxTransfers(props: { fenceId: number; boxId: number; exportPath: string; setExportPath: (p: string) => void }) {
  const t = useT();
  const { clients } = useApp();
  const box = { fenceId: props.fenceId, boxId: props.boxId };
  const imports = useLoad(() => clients.datafence.getImportList({ ...box, size: 20 }), [clients, props.fenceId, props.boxId], LIVE_MS);
  const exports = useLoad(() => clients.datafence.getExportList({ ...box, size: 20 }), [clients, props.fenceId, props.boxId], LIVE_MS);
  const buckets = useLoad(() => clients.datafence.getBucketList(), [clients]);
  const targetNas = useLoad(() => clients.datafence.getTargetNasList(box), [clients, props.fenceId, props.boxId]);
  const sourceNas = useLoad(() => clients.datafence.getSourceNasList(box), [clients, props.fenceId, props.boxId]);
  const [notice, setNotice] = useState<string | null>(null);
  const bucketNames = buckets.data?.map((b) => b.name) ?? [];
  return (
    <>
      {notice ? <p class="ok" role="status">{notice}</p> : null}
      <ErrorNote error={buckets.error} />
      <Section title={t('imports.title')} id="imports-title">
        <p><small>{t('live', { s: LIVE_MS / 1000 })}</small></p>
        <TransferForm
          kind="import"
          buckets={bucketNames}
          nas={targetNas.data?.content ?? []}
          nasError={targetNas.error}
          submit={(f) =>
            clients.datafence.createFileImport({
              ...box,
              sourceBucketName: f.bucket,
              sourceFilePathList: f.paths,
              targetNasInstanceNo: Number(f.nas),
              description: f.description,
            })
          }
          onDone={(m) => {
            setNotice(t('requested', { message: m }));
            imports.reload();
          }}
        />
        <LoadState load={imports} empty={(d) => d.content.length === 0} />
        {imports.data && imports.data.content.length > 0 ? (
          <table id="imports">
            <thead>
              <tr><th scope="col">{t('col.id')}</th><th scope="col">{t('transfer.source')}</th><th scope="col">{t('transfer.nas')}</th><th scope="col">{t('col.status')}</th><th scope="col">{t('col.created')}</th><th scope="col">{t('col.actions')}</th></tr>
            </thead>
            <tbody aria-live="polite">
              {imports.data.content.map((r) => (
                <tr key={r.fileId} data-status={r.statusCode} data-file={r.sourceFilePath}>
                  <td>{r.fileId}</td>
                  <td>{`${r.sourceBucketName}/${r.sourceFilePath}`}<br /><small>{r.description}</small></td>
                  <td>{r.targetNasName}</td>
                  <td><StatusBadge code={r.statusCode} name={r.statusName} /></td>
                  <td>{r.createDate}{r.completeDate ? <><br /><small>{r.completeDate}</small></> : null}</td>
                  <td>
                    {r.statusCode === 'IMPORTED' ? (
                      // The file lands on the NAS as `{fileId}_{last segment of the key}` (docs/datafence.md).
                      <button type="button" class="outline" onClick={() => props.setExportPath(addLine(props.exportPath, `${r.fileId}_${r.sourceFilePath.split('/').pop() ?? ''}`))}>
                        {t('imports.exportThis')}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </Section>
      <Section title={t('exports.title')} id="exports-title">
        <TransferForm
          kind="export"
          buckets={bucketNames}
          nas={sourceNas.data?.content ?? []}
          nasError={sourceNas.error}
          path={props.exportPath}
          setPath={props.setExportPath}
          submit={(f) =>
            clients.datafence.createFileExport({
              ...box,
              sourceNasInstanceNo: Number(f.nas),
              sourceFilePathList: f.paths,
              targetBucketName: f.bucket,
              fileDescription: f.fileDescription,
              exportPurpose: f.purpose,
              description: f.description,
            })
          }
          onDone={(m) => {
            setNotice(t('requested', { message: m }));
            exports.reload();
          }}
        />
        <LoadState load={exports} empty={(d) => d.content.length === 0} />
        {exports.data && exports.data.content.length > 0 ? (
          <table id="exports">
            <thead>
              <tr><th scope="col">{t('col.id')}</th><th scope="col">{t('transfer.source')}</th><th scope="col">{t('transfer.target')}</th><th scope="col">{t('col.status')}</th><th scope="col">{t('col.created')}</th><th scope="col">{t('col.actions')}</th></tr>
            </thead>
            <tbody aria-live="polite">
              {exports.data.content.map((r) => (
                <tr key={r.fileId} data-status={r.statusCode} data-file={r.sourceFilePath}>
                  <td>{r.fileId}</td>
                  <td>{`${r.sourceNasName}: ${r.sourceFilePath}`}<br /><small>{r.description}</small></td>
                  <td>{r.targetBucketName}</td>
                  <td>
                    <StatusBadge code={r.statusCode} name={r.statusName} />
                    {r.rejectReason ? <><br /><small>{t('review.rejectReason')}: {r.rejectReason}</small></> : null}
                  </td>
                  <td>{r.createDate}{r.resultDate ? <><br /><small>{r.resultDate}</small></> : null}</td>
                  <td>
                    {CANCELLABLE.has(r.statusCode) ? (
                      <ActionButton
                        class="secondary"
                        label={t('exports.cancel')}
                        confirm={t('exports.cancelConfirm', { id: r.fileId })}
                        run={() => clients.datafence.cancelFileExport({ ...box, fileId: r.fileId })}
                        onDone={(res) => {
                          setNotice(t('requested', { message: (res as { message: string }).message }));
                          exports.reload();
                        }}
                      />
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </Section>
    </>
  );
}

/** The list with `line` added at its end, unless it holds it already. */
function addLine(text: string, line: string): string {
  const lines = fileLines(text);
  return lines.includes(line) ? lines.join('\n') : [...lines, line].join('\n');
}

interface TransferFields {
  bucket: string;
  paths: string[];
  nas: string;
  description: string;
  fileDescription: string;
  purpose: string;
}

function TransferForm(props: {
  kind: 'import' | 'export';
  buckets: string[];
  nas: Array<{ instanceNo: number; instanceName: string }>;
  nasError: unknown;
  path?: string;
  setPath?: (p: string) => void;
  submit: (f: TransferFields) => Promise<{ message: string }>;
  onDone: (message: string) => void;
}) {
  const t = useT();
  const [f, setF] = useState<Omit<TransferFields, 'paths'>>({ bucket: '', nas: '', description: '', fileDescription: '', purpose: '' });
  const [ownPath, setOwnPath] = useState('');
  const path = props.path ?? ownPath;
  const setPath = props.setPath ?? setOwnPath;
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const bucket = f.bucket || props.buckets[0] || '';
  const nas = f.nas || String(props.nas[0]?.instanceNo ?? '');
  const exp = props.kind === 'export';
  const set = (k: keyof typeof f) => (e: Event) => setF({ ...f, [k]: (e.currentTarget as HTMLInputElement).value });
  const paths = fileLines(path);
  // The operation table's rules (docs/datafence.md): 1–10 files, none named twice; an import's description 1–50
  // characters, an export's 0–50; an export's file description and purpose 1–1000.
  const bad = {
    paths: paths.length < 1 || paths.length > MAX_FILES || new Set(paths).size !== paths.length,
    description: (!exp && f.description.trim() === '') || f.description.length > 50,
    fileDescription: exp && (f.fileDescription.trim() === '' || f.fileDescription.length > 1000),
    purpose: exp && (f.purpose.trim() === '' || f.purpose.length > 1000),
  };
  const anyBad = Object.values(bad).some(Boolean);
  const mark = (b: boolean) => (touched && b ? 'true' : undefined);
  const submit = (e: Event) => {
    e.preventDefault();
    setTouched(true);
    if (anyBad) return;
    setBusy(true);
    setError(null);
    props.submit({ ...f, bucket, nas, paths }).then(
      (r) => {
        setBusy(false);
        setTouched(false);
        setPath('');
        props.onDone(r.message);
      },
      (err: unknown) => {
        setBusy(false);
        setError(err);
      },
    );
  };
  const p = props.kind;
  const nasSelect = (
    <select name={`${p}-nas`} value={nas} onChange={set('nas')}>
      {props.nas.map((n) => <option key={n.instanceNo} value={n.instanceNo}>{`${n.instanceName} (${n.instanceNo})`}</option>)}
    </select>
  );
  const bucketSelect = (
    <select name={`${p}-bucket`} value={bucket} onChange={set('bucket')}>
      {props.buckets.map((b) => <option key={b} value={b}>{b}</option>)}
    </select>
  );
  return (
    <form class="group" noValidate aria-labelledby={`${p}-form-title`} onSubmit={submit}>
      <h3 id={`${p}-form-title`}>{t(exp ? 'exports.new' : 'imports.new')}</h3>
      <ErrorNote error={props.nasError} />
      <div class="inline-form">
        <label>
          {t(exp ? 'transfer.sourceNas' : 'transfer.sourceBucket')}
          {exp ? nasSelect : bucketSelect}
        </label>
        <label>
          {t(exp ? 'transfer.targetBucket' : 'transfer.targetNas')}
          {exp ? bucketSelect : nasSelect}
        </label>
      </div>
      <label>
        {t(exp ? 'transfer.nasFiles' : 'transfer.objectKeys')}
        <textarea name={`${p}-paths`} rows={3} value={path} aria-invalid={mark(bad.paths)} aria-describedby={`${p}-paths-help`} onInput={(e) => setPath(e.currentTarget.value)} />
        <small id={`${p}-paths-help`}>{touched && bad.paths ? t('check.files') : t('transfer.filesHelp', { n: paths.length })}</small>
      </label>
      {exp ? (
        <div class="inline-form">
          <label>
            {t('exports.fileDescription')}
            <input name="export-file-description" maxLength={1000} value={f.fileDescription} aria-invalid={mark(bad.fileDescription)} onInput={set('fileDescription')} />
            {touched && bad.fileDescription ? <small>{t('check.required')}</small> : null}
          </label>
          <label>
            {t('exports.purpose')}
            <input name="export-purpose" maxLength={1000} value={f.purpose} aria-invalid={mark(bad.purpose)} onInput={set('purpose')} />
            {touched && bad.purpose ? <small>{t('check.required')}</small> : null}
          </label>
        </div>
      ) : null}
      <label>
        {t('col.description')}
        <input name={`${p}-description`} maxLength={50} value={f.description} aria-invalid={mark(bad.description)} onInput={set('description')} />
        <small>{!exp && touched && f.description.trim() === '' ? t('check.required') : t('check.maxLength', { max: 50 })}</small>
      </label>
      {touched && anyBad ? <p class="error" role="alert">{t('check.fix')}</p> : null}
      <ErrorNote error={error} />
      <button type="submit" aria-busy={busy} disabled={busy}>{t(exp ? 'exports.submit' : 'imports.submit')}</button>
    </form>
  );
}
