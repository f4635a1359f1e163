/** Object storage: buckets, prefixes (folders by `/`), multipart upload with progress, download, delete. */
import { useState } from 'preact/hooks';
import type { ObjectInfo } from '../s3.js';
import { ActionButton, ErrorNote, Link, Section, formatBytes, useApp, useLoad, useT, LoadState } from '../ui.js';

const enc = (s: string) => s.split('/').map(encodeURIComponent).join('/');

export function StoragePage({ bucket, prefix }: { bucket?: string | undefined; prefix: string }) {
  return bucket === undefined ? <Buckets /> : <Objects bucket={bucket} prefix={prefix === '' ? '' : prefix.endsWith('/') ? prefix : prefix + '/'} />;
}

function Buckets() {
  const t = useT();
  const { s3 } = useApp();
  const buckets = useLoad(() => s3.listBuckets(), [s3]);
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const create = (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    s3.createBucket(name.trim()).then(
      () => { setBusy(false); setName(''); buckets.reload(); },
      (err: unknown) => { setBusy(false); setError(err); },
    );
  };
  return (
    <Section title={t('storage.title')} actions={<button type="button" class="outline" onClick={buckets.reload}>{t('refresh')}</button>}>
      <form class="inline-form" onSubmit={create}>
        <label>
          {t('storage.newBucket')}
          <input name="bucket" required minLength={3} maxLength={63} pattern="[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={busy} aria-busy={busy}>{t('storage.createBucket')}</button>
      </form>
      <ErrorNote error={error} />
      <LoadState load={buckets} empty={(d) => d.length === 0} />
      {buckets.data && buckets.data.length > 0 ? (
        <table id="buckets">
          <thead><tr><th scope="col">{t('col.name')}</th><th scope="col">{t('col.created')}</th><th scope="col">{t('col.actions')}</th></tr></thead>
          <tbody>
            {buckets.data.map((b) => (
              <tr key={b.name}>
                <td><Link href={`/console/storage/${encodeURIComponent(b.name)}`}>{b.name}</Link></td>
                <td>{b.created}</td>
                <td><ActionButton class="secondary outline" label={t('delete')} confirm={t('confirm.delete', { name: b.name })} run={() => s3.deleteBucket(b.name)} onDone={() => buckets.reload()} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Section>
  );
}

function Objects({ bucket, prefix }: { bucket: string; prefix: string }) {
  const t = useT();
  const { s3 } = useApp();
  const [extra, setExtra] = useState<{ objects: ObjectInfo[]; prefixes: string[]; token: string | null } | null>(null);
  const listing = useLoad(() => { setExtra(null); return s3.list(bucket, prefix); }, [s3, bucket, prefix]);
  const [upload, setUpload] = useState<{ name: string; sent: number; size: number } | null>(null);
  const [uploadError, setUploadError] = useState<unknown>(null);
  const [moreError, setMoreError] = useState<unknown>(null);
  const objects = [...(listing.data?.objects ?? []), ...(extra?.objects ?? [])];
  const prefixes = [...(listing.data?.prefixes ?? []), ...(extra?.prefixes ?? [])];
  const nextToken = extra ? extra.token : listing.data?.truncated ? listing.data.nextToken : null;
  const parent = prefix === '' ? null : prefix.slice(0, prefix.slice(0, -1).lastIndexOf('/') + 1);

  const onFile = (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    setUploadError(null);
    setUpload({ name: file.name, sent: 0, size: file.size });
    s3.upload(bucket, prefix + file.name, file, (sent) => setUpload({ name: file.name, sent, size: file.size })).then(
      () => { setUpload(null); input.value = ''; listing.reload(); },
      (err: unknown) => { setUpload(null); setUploadError(err); },
    );
  };
  const download = async (key: string) => {
    const blob = await s3.download(bucket, key);
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = key.slice(key.lastIndexOf('/') + 1);
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  const more = () => {
    if (!nextToken) return;
    s3.list(bucket, prefix, nextToken).then(
      (l) => setExtra({ objects: [...(extra?.objects ?? []), ...l.objects], prefixes: [...(extra?.prefixes ?? []), ...l.prefixes], token: l.truncated ? l.nextToken : null }),
      setMoreError,
    );
  };
  return (
    <>
      <nav aria-label={t('nav.breadcrumb')}>
        <ul>
          <li><Link href="/console/storage">{t('storage.title')}</Link></li>
          <li><Link href={`/console/storage/${encodeURIComponent(bucket)}`}>{bucket}</Link></li>
          {prefix ? <li>{prefix}</li> : null}
        </ul>
      </nav>
      <Section title={`${bucket}/${prefix}`} id="objects-title" actions={<button type="button" class="outline" onClick={listing.reload}>{t('refresh')}</button>}>
        <label>
          {t('storage.uploadTo', { prefix: `${bucket}/${prefix}` })}
          <input type="file" name="upload" onChange={onFile} disabled={upload !== null} />
        </label>
        {upload ? (
          <div role="status">
            <span id="upload-label">{t('storage.uploading', { name: upload.name })} — {formatBytes(upload.sent)} / {formatBytes(upload.size)}</span>
            <progress aria-labelledby="upload-label" value={upload.sent} max={Math.max(1, upload.size)} />
          </div>
        ) : null}
        <ErrorNote error={uploadError} />
        <LoadState load={listing} />
        {listing.data ? (
          <table id="objects">
            <thead><tr><th scope="col">{t('col.name')}</th><th scope="col">{t('col.size')}</th><th scope="col">{t('col.modified')}</th><th scope="col">{t('col.actions')}</th></tr></thead>
            <tbody>
              {parent !== null ? (
                <tr><td colSpan={4}><Link href={`/console/storage/${encodeURIComponent(bucket)}/${enc(parent)}`}>{parent === '' ? t('storage.root') : `↑ ${t('storage.up')}`}</Link></td></tr>
              ) : null}
              {prefixes.map((p) => (
                <tr key={p}><td colSpan={4}><Link href={`/console/storage/${encodeURIComponent(bucket)}/${enc(p)}`}>{p.slice(prefix.length)}</Link></td></tr>
              ))}
              {objects.map((o) => (
                <tr key={o.key}>
                  <td>{o.key.slice(prefix.length)}</td>
                  <td>{formatBytes(o.size)}</td>
                  <td>{o.lastModified}</td>
                  <td>
                    <ActionButton class="outline" label={t('storage.download')} run={() => download(o.key)} />
                    <ActionButton class="secondary outline" label={t('delete')} confirm={t('confirm.delete', { name: o.key })} run={() => s3.deleteObject(bucket, o.key)} onDone={() => listing.reload()} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        {listing.data && objects.length === 0 && prefixes.length === 0 ? <p>{t('none')}</p> : null}
        {nextToken ? <button type="button" class="outline" onClick={more}>{t('storage.more')}</button> : null}
        <ErrorNote error={moreError} />
      </Section>
    </>
  );
}
