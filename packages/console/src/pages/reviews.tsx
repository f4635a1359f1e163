/**
 * The review queue (issue 12) for owner and fence-admin keys: the export requests awaiting a
 * decision in every box the key sees; a request's detail with a preview of the file under review
 * (read from the sealed review bucket through S3, signed here: an audit event like any read of
 * it), the pinned SHA-256 next to the browser's own, the votes and the audit trail; approve, or
 * reject with a reason.
 */
import { useEffect, useState } from 'preact/hooks';
import { ActionButton, ErrorNote, Link, Loading, Section, StatusBadge, formatBytes, useApp, useLoad, useT, LoadState } from '../ui.js';

const LIVE_MS = 3000;
/** Files larger than this are not downloaded for a preview: size and pinned hash only. */
const PREVIEW_MAX_BYTES = 32 * 1024 * 1024;
const TEXT_PREVIEW_CHARS = 64 * 1024;
const CSV_ROWS = 20;
const TEXT_EXT = new Set(['txt', 'log', 'md', 'json', 'ndjson', 'xml', 'yaml', 'yml', 'py', 'r', 'sql', 'sh', 'ini', 'conf', 'html', 'js', 'ts']);
const CSV_EXT: Record<string, string> = { csv: ',', tsv: '\t' };
const IMAGE_EXT: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' };

export function ReviewsPage({ route }: { route: string[] }) {
  const [fenceId, boxId, fileId] = route.map(Number);
  if (route.length === 3 && fenceId && boxId && fileId) return <ReviewDetail fenceId={fenceId} boxId={boxId} fileId={fileId} />;
  return <ReviewQueue />;
}

function ReviewQueue() {
  const t = useT();
  const { clients, identity } = useApp();
  // Every box of every fence the key sees; the requests awaiting a decision (UPLOADED) of each.
  const queue = useLoad(
    async () => {
      const rows = [];
      for (const f of await clients.datafence.getDatafence()) {
        const boxes = await clients.datafence.getBoxList({ fenceId: f.fenceId, size: 100 });
        for (const b of boxes.content) {
          if (b.statusCode === 'TERMINATE') continue;
          const list = await clients.datafence.getExportFileApproveList({ fenceId: f.fenceId, boxId: b.boxId, status: 'UPLOADED', size: 100 });
          rows.push(...list.content);
        }
      }
      return rows;
    },
    [clients],
    LIVE_MS * 2,
  );
  return (
    <Section title={t('reviews.title')} id="reviews-title" actions={<button type="button" class="outline" onClick={queue.reload}>{t('refresh')}</button>}>
      <p>{t('reviews.intro')}</p>
      {identity.role === 'box-user' ? <p class="error" role="note">{t('reviews.boxUser')}</p> : null}
      <LoadState load={queue} empty={(d) => d.length === 0} emptyText={t('reviews.empty')} />
      {queue.data && queue.data.length > 0 ? (
        <table id="review-queue">
          <thead>
            <tr><th scope="col">{t('col.id')}</th><th scope="col">{t('pick.box')}</th><th scope="col">{t('review.requester')}</th><th scope="col">{t('review.file')}</th><th scope="col">{t('review.votes')}</th><th scope="col">{t('col.created')}</th></tr>
          </thead>
          <tbody aria-live="polite">
            {queue.data.map((r) => (
              <tr key={`${r.fenceId}/${r.boxId}/${r.fileId}`} data-file-id={r.fileId}>
                <td><Link href={`/console/reviews/${r.fenceId}/${r.boxId}/${r.fileId}`}>{t('reviews.open', { id: r.fileId })}</Link></td>
                <td>{`${r.fenceName} / ${r.boxName}`}</td>
                <td>{r.requesterId}{r.requesterId === identity.userName ? <><br /><small>{t('review.yours')}</small></> : null}</td>
                <td>{r.screenFilePath}<br /><small>{r.fileDescription}</small></td>
                <td>{`${r.voteList.filter((v) => v.vote === 'APPROVE').length} / ${r.approvalsRequired}`}</td>
                <td>{r.createDate}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Section>
  );
}

/** An audit resource segment as the server writes it (`/`, `%`, control characters escaped). */
function segment(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[%/\u0000-\u001f\u007f]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

function ReviewDetail(props: { fenceId: number; boxId: number; fileId: number }) {
  const t = useT();
  const { clients, identity } = useApp();
  const q = { fenceId: props.fenceId, boxId: props.boxId, fileId: props.fileId };
  const review = useLoad(() => clients.datafence.getExportFileApproveDetail(q), [clients, props.fenceId, props.boxId, props.fileId], LIVE_MS);
  const fence = useLoad(async () => (await clients.datafence.getDatafence()).find((f) => f.fenceId === props.fenceId) ?? null, [clients, props.fenceId]);
  const [notice, setNotice] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const [reasonInvalid, setReasonInvalid] = useState(false);
  const [rejectError, setRejectError] = useState<unknown>(null);
  const [rejecting, setRejecting] = useState(false);
  const r = review.data;
  const own = r !== null && r.requesterId === identity.userName;
  const voted = r !== null && r.voteList.some((v) => v.reviewerId === identity.userName);
  const blocked = r === null ? null : own ? t('review.ownRequest') : voted ? t('review.alreadyVoted') : r.statusCode !== 'UPLOADED' ? t('review.notUploaded', { status: r.statusCode }) : null;
  const reject = (e: Event) => {
    e.preventDefault();
    const text = reason.trim();
    if (text.length < 1 || text.length > 1000) {
      setReasonInvalid(true);
      return;
    }
    setReasonInvalid(false);
    setRejecting(true);
    setRejectError(null);
    clients.datafence.exportFileReject({ ...q, rejectReason: text }).then(
      (res) => {
        setRejecting(false);
        setNotice(t('requested', { message: res.message }));
        review.reload();
      },
      (err: unknown) => {
        setRejecting(false);
        setRejectError(err);
      },
    );
  };
  return (
    <>
      <nav aria-label={t('nav.breadcrumb')}>
        <ul><li><Link href="/console/reviews">{t('reviews.title')}</Link></li><li>{t('reviews.open', { id: props.fileId })}</li></ul>
      </nav>
      <LoadState load={review} />
      {r ? (
        <>
          <Section title={t('review.detail', { id: r.fileId })} id="review-title">
            {notice ? <p class="ok" role="status">{notice}</p> : null}
            <dl id="review-facts">
              <dt>{t('col.status')}</dt><dd><StatusBadge code={r.statusCode} name={r.statusName} /></dd>
              <dt>{t('pick.box')}</dt><dd>{`${r.fenceName} / ${r.boxName} (${r.boxStatus})`}</dd>
              <dt>{t('review.requester')}</dt><dd>{r.requesterId}</dd>
              <dt>{t('review.file')}</dt><dd>{r.screenFilePath}</dd>
              <dt>{t('exports.fileDescription')}</dt><dd>{r.fileDescription}</dd>
              <dt>{t('exports.purpose')}</dt><dd>{r.exportPurpose}</dd>
              <dt>{t('review.size')}</dt><dd>{`${r.fileSize} MB`}</dd>
              <dt>{t('review.pinned')}</dt><dd><code id="pinned-sha256">{r.sha256}</code></dd>
              <dt>{t('review.approvals')}</dt><dd>{`${r.voteList.filter((v) => v.vote === 'APPROVE').length} / ${r.approvalsRequired}`}</dd>
              {r.rejectReason ? <><dt>{t('review.rejectReason')}</dt><dd>{r.rejectReason}</dd></> : null}
            </dl>
          </Section>
          <Section title={t('review.preview')} id="preview-title">
            {fence.data ? <Preview key={r.screenFilePath} bucket={fence.data.exportScreenBucketName} path={r.screenFilePath} sizeMb={r.fileSize} pinned={r.sha256} /> : <ErrorNote error={fence.error} />}
          </Section>
          <Section title={t('review.decision')} id="decision-title">
            {blocked ? <p id="decision-blocked" role="note">{blocked}</p> : null}
            <ActionButton
              label={t('review.approve')}
              disabled={blocked !== null}
              run={() => clients.datafence.exportFileApprove(q)}
              onDone={(res) => {
                setNotice(t('requested', { message: (res as { message: string }).message }));
                review.reload();
              }}
            />
            <form class="group" aria-labelledby="reject-title" onSubmit={reject}>
              <h3 id="reject-title">{t('review.reject')}</h3>
              <label>
                {t('review.rejectReason')}
                <textarea name="reject-reason" rows={2} maxLength={1000} value={reason} aria-invalid={reasonInvalid ? 'true' : undefined} aria-describedby="reason-help" onInput={(e) => setReason(e.currentTarget.value)} />
                <small id="reason-help">{reasonInvalid ? t('review.reasonRule') : t('review.reasonHelp')}</small>
              </label>
              <ErrorNote error={rejectError} />
              <button type="submit" class="secondary" disabled={blocked !== null || rejecting} aria-busy={rejecting}>{t('review.reject')}</button>
            </form>
          </Section>
          <Section title={t('review.votes')} id="votes-title">
            {r.voteList.length === 0 ? <p>{t('review.noVotes')}</p> : (
              <table id="votes">
                <thead><tr><th scope="col">{t('review.reviewer')}</th><th scope="col">{t('review.vote')}</th><th scope="col">{t('review.rejectReason')}</th><th scope="col">{t('col.created')}</th></tr></thead>
                <tbody>
                  {r.voteList.map((v) => <tr key={v.reviewerId}><td>{v.reviewerId}</td><td>{v.vote}</td><td>{v.reason}</td><td>{v.voteDate}</td></tr>)}
                </tbody>
              </table>
            )}
          </Section>
          <Section title={t('review.trail')} id="trail-title">
            {/* list-audit-events gives owner and fence-admin keys the fence's events: the whole trail. */}
            {identity.role === 'box-user' ? (
              <p>{t('review.trailReviewers')}</p>
            ) : fence.data ? (
              <Trail fenceId={r.fenceId} boxId={r.boxId} fileId={r.fileId} bucket={fence.data.exportScreenBucketName} path={r.screenFilePath} />
            ) : (
              <Loading loading={fence.loading} />
            )}
          </Section>
        </>
      ) : null}
    </>
  );
}

/** The request's own events and the reads of its review object, newest first. */
function Trail(props: { fenceId: number; boxId: number; fileId: number; bucket: string; path: string }) {
  const t = useT();
  const { clients } = useApp();
  const events = useLoad(async () => {
    const [own, reads] = await Promise.all([
      clients.stockade.listAuditEvents({ resource: `fence/${props.fenceId}/box/${props.boxId}/export/${props.fileId}`, limit: 100 }),
      clients.stockade.listAuditEvents({ resource: `s3/${segment(props.bucket)}/${segment(props.path)}`, limit: 100 }),
    ]);
    return [...own.events, ...reads.events].sort((a, b) => b.seq - a.seq);
  }, [clients, props.fenceId, props.boxId, props.fileId, props.bucket, props.path], LIVE_MS * 2);
  return (
    <>
      <LoadState load={events} />
      {events.data ? (
        <table id="trail">
          <thead><tr><th scope="col">#</th><th scope="col">{t('col.created')}</th><th scope="col">{t('audit.who')}</th><th scope="col">{t('audit.action')}</th><th scope="col">{t('review.detailCol')}</th></tr></thead>
          <tbody>
            {events.data.map((e) => (
              <tr key={e.seq} data-action={e.action}><td>{e.seq}</td><td>{e.at}</td><td>{e.userName ?? e.accessKeyId}</td><td>{e.action}</td><td><code>{JSON.stringify(e.detail)}</code></td></tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string | null> {
  // WebCrypto exists only in a secure context (https, or http on localhost).
  if (!globalThis.crypto?.subtle) return null;
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** A small CSV reader for the preview: quoted fields, doubled quotes, CRLF; the first rows only. */
export function parseCsv(text: string, sep: string, maxRows: number): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < maxRows; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === sep) { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if ((field !== '' || row.length > 0) && rows.length < maxRows) rows.push([...row, field]);
  return rows;
}

interface Loaded {
  bytes: number;
  hash: string | null;
  kind: 'text' | 'csv' | 'image' | 'other';
  text?: string;
  rows?: string[][];
  url?: string;
}

function Preview(props: { bucket: string; path: string; sizeMb: number; pinned: string }) {
  const t = useT();
  const { s3 } = useApp();
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // An image preview's blob: URL is released when the preview goes away.
  useEffect(() => () => { if (loaded?.url) URL.revokeObjectURL(loaded.url); }, [loaded]);
  const ext = (props.path.split('.').pop() ?? '').toLowerCase();
  const tooLarge = props.sizeMb * 1024 * 1024 > PREVIEW_MAX_BYTES;
  const open = () => {
    setBusy(true);
    setError(null);
    s3.getBytes(props.bucket, props.path)
      .then(async (bytes) => {
        const hash = await sha256Hex(bytes);
        const base = { bytes: bytes.length, hash };
        if (IMAGE_EXT[ext]) return { ...base, kind: 'image' as const, url: URL.createObjectURL(new Blob([bytes], { type: IMAGE_EXT[ext] })) };
        const decoded = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, TEXT_PREVIEW_CHARS * 4));
        if (CSV_EXT[ext] !== undefined) return { ...base, kind: 'csv' as const, rows: parseCsv(decoded, CSV_EXT[ext], CSV_ROWS + 1) };
        if (TEXT_EXT.has(ext)) return { ...base, kind: 'text' as const, text: decoded.slice(0, TEXT_PREVIEW_CHARS) };
        return { ...base, kind: 'other' as const };
      })
      .then(
        (l) => {
          setBusy(false);
          setLoaded(l);
        },
        (e: unknown) => {
          setBusy(false);
          setError(e);
        },
      );
  };
  if (tooLarge) return <p>{t('preview.tooLarge', { mb: props.sizeMb })}</p>;
  const [head, ...body] = loaded?.rows ?? [];
  return (
    <>
      {!loaded ? (
        <p>
          <small>{t('preview.audited')}</small><br />
          <button type="button" onClick={open} aria-busy={busy} disabled={busy}>{t('preview.open')}</button>
        </p>
      ) : null}
      <ErrorNote error={error} />
      {loaded ? (
        <div id="preview" data-kind={loaded.kind}>
          <p>
            {t('preview.size', { size: formatBytes(loaded.bytes) })}<br />
            {t('preview.hash')}: <code id="preview-sha256">{loaded.hash ?? t('preview.noHash')}</code>{' '}
            {loaded.hash ? (
              loaded.hash === props.pinned ? <strong class="status-use" id="hash-match">{t('preview.match')}</strong> : <strong class="error" id="hash-match">{t('preview.mismatch')}</strong>
            ) : null}
          </p>
          {loaded.kind === 'text' ? <pre class="preview-text" tabIndex={0}>{loaded.text}</pre> : null}
          {loaded.kind === 'csv' && head ? (
            <div class="overflow-auto" tabIndex={0} role="region" aria-label={t('review.preview')}>
              <table class="striped" id="preview-table">
                <caption>{t('preview.firstRows', { n: Math.min(CSV_ROWS, body.length) })}</caption>
                <thead><tr>{head.map((h, i) => <th scope="col" key={i}>{h}</th>)}</tr></thead>
                <tbody>{body.slice(0, CSV_ROWS).map((row, i) => <tr key={i}>{row.map((c, j) => <td key={j}>{c}</td>)}</tr>)}</tbody>
              </table>
            </div>
          ) : null}
          {loaded.kind === 'image' ? <img class="preview-image" src={loaded.url} alt={t('preview.imageAlt', { name: props.path })} /> : null}
          {loaded.kind === 'other' ? <p>{t('preview.other')}</p> : null}
        </div>
      ) : null}
    </>
  );
}
