/**
 * Dev-profile test controls (`/_stockade/…`): reset, run due tasks (which advances `manual`
 * resources), and the transition policies. These routes are unauthenticated but guarded (Host,
 * Origin, and `x-stockade-control: 1` on changes: README "Test controls"); the console is same-origin.
 */
import { useState } from 'preact/hooks';
import { ActionButton, ErrorNote, Section, useLoad, useT, LoadState } from '../ui.js';

async function control(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const init: RequestInit = { method, headers: { 'x-stockade-control': '1', 'content-type': 'application/json' } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(path, init);
  const data = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw new Error(data.error ?? `${res.status} ${res.statusText}`);
  return data;
}

export function DevPage() {
  const t = useT();
  const policies = useLoad(() => control('GET', '/_stockade/transitions') as Promise<Record<string, string>>, []);
  const [edits, setEdits] = useState<Record<string, string>>({});
  const [notice, setNotice] = useState<string | null>(null);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [newKind, setNewKind] = useState('');
  const current = { ...(policies.data ?? {}), ...edits };
  const save = (e: Event) => {
    e.preventDefault();
    setSaveError(null);
    control('POST', '/_stockade/transitions', current).then(
      () => { setEdits({}); setNotice(t('dev.saved')); policies.reload(); },
      setSaveError,
    );
  };
  return (
    <>
      <Section title={t('dev.title')}>
        <p>{t('dev.intro')}</p>
        {notice ? <p class="ok" role="status">{notice}</p> : null}
        <ActionButton label={t('dev.run')} run={() => control('POST', '/_stockade/tasks/run')} onDone={(r) => setNotice(t('dev.ran', { n: (r as { ran?: number }).ran ?? 0 }))} />
        <ActionButton class="secondary" label={t('dev.reset')} confirm={t('dev.confirmReset')} run={() => control('POST', '/_stockade/reset')} onDone={() => setNotice(t('dev.didReset'))} />
      </Section>
      <Section title={t('dev.policies')} id="dev-policies">
        <LoadState load={policies} />
        {policies.data ? (
          <form onSubmit={save}>
            {Object.entries(current).map(([kind, policy]) => (
              <label key={kind}>
                {kind}
                <input name={`policy-${kind}`} value={policy} aria-describedby="policy-help" onInput={(e) => setEdits({ ...edits, [kind]: e.currentTarget.value })} />
              </label>
            ))}
            <fieldset class="inline-form">
              <label>
                {t('dev.newKind')}
                <input name="new-kind" value={newKind} onInput={(e) => setNewKind(e.currentTarget.value.trim())} />
              </label>
              <button type="button" class="outline" disabled={newKind === '' || newKind in current} onClick={() => { setEdits({ ...edits, [newKind]: 'manual' }); setNewKind(''); }}>
                {t('dev.addKind')}
              </button>
            </fieldset>
            <small id="policy-help">{t('dev.policyHelp')}</small>
            <ErrorNote error={saveError} />
            <button type="submit">{t('dev.savePolicies')}</button>
          </form>
        ) : null}
      </Section>
    </>
  );
}
