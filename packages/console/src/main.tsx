/** The Stockade web console: sign-in, navigation and the page router (docs/console.md). */
import '@picocss/pico/css/pico.min.css';
import './console.css';
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Lang } from '@stockade/sdk';
import { LANGS, translate, type TextKey } from './i18n.js';
import { S3Client } from './s3.js';
import { clearCredentials, clientsFor, loadCredentials, saveCredentials, type Credentials } from './session.js';
import { App, ErrorNote, LangContext, Link, useT, type AppState, type Identity } from './ui.js';
import { FencesPage, BoxPage } from './pages/datafence.js';
import { StoragePage } from './pages/storage.js';
import { CfsPage } from './pages/cfs.js';
import { AuditPage } from './pages/audit.js';
import { DevPage } from './pages/dev.js';
import { TransfersPage } from './pages/transfers.js';
import { ReviewsPage } from './pages/reviews.js';
import { DataflowPage } from './pages/dataflow.js';

const BASE = '/console/';

/** The navigation; entries marked `followUp` are pages of a later change (issue 12). */
const NAV: Array<{ path: string; key: TextKey; followUp?: boolean; devOnly?: boolean }> = [
  { path: 'fences', key: 'nav.fences' },
  { path: 'imports', key: 'nav.imports' },
  { path: 'reviews', key: 'nav.reviews' },
  { path: 'dataflow', key: 'nav.dataflow' },
  { path: 'storage', key: 'nav.storage' },
  { path: 'cfs', key: 'nav.cfs' },
  { path: 'audit', key: 'nav.audit' },
  { path: 'dev', key: 'nav.dev', devOnly: true },
];

function SignIn(props: { onSignedIn: (c: Credentials, identity: Identity) => void; lang: Lang; setLang: (l: Lang) => void }) {
  const t = useT();
  const [accessKeyId, setAk] = useState('');
  const [secret, setSecret] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = (e: Event) => {
    e.preventDefault();
    const creds: Credentials = { accessKeyId: accessKeyId.trim(), secretAccessKey: secret, lang: props.lang };
    setBusy(true);
    setError(null);
    clientsFor(creds)
      .stockade.getCallerIdentity()
      .then(
        (identity) => {
          saveCredentials(creds);
          props.onSignedIn(creds, identity);
        },
        (err: unknown) => {
          setBusy(false);
          setError(err);
        },
      );
  };
  return (
    <main class="container signin">
      <h1>{t('app.title')}</h1>
      <article>
        <h2>{t('signin.title')}</h2>
        <p>{t('signin.intro')}</p>
        <form onSubmit={submit}>
          <label>
            {t('signin.accessKey')}
            <input name="accessKeyId" autocomplete="username" required value={accessKeyId} onInput={(e) => setAk(e.currentTarget.value)} />
          </label>
          <label>
            {t('signin.secret')}
            <input name="secretAccessKey" type="password" autocomplete="current-password" required value={secret} onInput={(e) => setSecret(e.currentTarget.value)} />
          </label>
          <label>
            {t('signin.lang')}
            <select name="lang" value={props.lang} onChange={(e) => props.setLang(e.currentTarget.value as Lang)}>
              {LANGS.map((l) => (
                <option value={l.lang} key={l.lang}>{l.label}</option>
              ))}
            </select>
          </label>
          <ErrorNote error={error} />
          <button type="submit" aria-busy={busy} disabled={busy}>{t('signin.submit')}</button>
        </form>
      </article>
    </main>
  );
}

function FollowUp({ page }: { page: string }) {
  const t = useT();
  return (
    <article>
      <h1>{t('followUp.title')}</h1>
      <p>{t('followUp.body', { page })}</p>
    </article>
  );
}

function Page({ route, dev }: { route: string[]; dev: boolean }) {
  const t = useT();
  const [head, ...rest] = route;
  switch (head ?? 'fences') {
    case 'fences':
      if (rest.length === 3 && rest[1] === 'boxes') return <BoxPage fenceId={Number(rest[0])} boxId={Number(rest[2])} />;
      return <FencesPage fenceId={rest[0] !== undefined ? Number(rest[0]) : undefined} />;
    case 'storage':
      return <StoragePage bucket={rest[0]} prefix={rest.slice(1).join('/')} />;
    case 'imports':
      return <TransfersPage />;
    case 'reviews':
      return <ReviewsPage route={rest} />;
    case 'dataflow':
      return <DataflowPage route={rest} />;
    case 'cfs':
      return <CfsPage />;
    case 'audit':
      return <AuditPage />;
    case 'dev':
      return dev ? <DevPage /> : <p>{t('dev.unavailable')}</p>;
    default: {
      const nav = NAV.find((n) => n.path === head && n.followUp);
      return nav ? <FollowUp page={t(nav.key)} /> : <p>{t('notFound')}</p>;
    }
  }
}

function routeOf(pathname: string): string[] {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : '';
  return rest.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
}

function Console() {
  const [creds, setCreds] = useState<Credentials | null>(loadCredentials);
  const [identity, setIdentity] = useState<Identity | null>(null);
  const [restoreError, setRestoreError] = useState<unknown>(null);
  const [lang, setLang] = useState<Lang>(creds?.lang ?? 'en-US');
  const [path, setPath] = useState(location.pathname);
  const [dev, setDev] = useState(false);

  useEffect(() => {
    const onPop = () => setPath(location.pathname);
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  useEffect(() => {
    document.documentElement.lang = LANGS.find((l) => l.lang === lang)?.html ?? 'en';
    document.title = translate(lang, 'app.title');
  }, [lang]);
  // A reloaded tab: the key is still in session storage; ask who it is again.
  useEffect(() => {
    if (!creds || identity) return;
    clientsFor(creds).stockade.getCallerIdentity().then(setIdentity, (e: unknown) => {
      setRestoreError(e);
      clearCredentials();
      setCreds(null);
    });
  }, [creds, identity]);
  useEffect(() => {
    if (!identity) return;
    // The dev profile's test controls answer GET /_stockade/health; the secure profile's do not.
    fetch('/_stockade/health').then((r) => setDev(r.ok), () => setDev(false));
  }, [identity]);

  const app = useMemo<AppState | null>(() => {
    if (!creds || !identity) return null;
    const withLang = { ...creds, lang };
    return {
      creds: withLang,
      identity,
      clients: clientsFor(withLang),
      s3: new S3Client(withLang, identity.s3Regions[0] ?? 'us-east-1'),
      dev,
      navigate(to: string) {
        history.pushState(null, '', to);
        setPath(new URL(to, location.origin).pathname);
        window.scrollTo(0, 0);
        // Keyboard and screen-reader users land on the new page's content, not on the old link.
        requestAnimationFrame(() => document.getElementById('content')?.focus());
      },
    };
  }, [creds, identity, lang, dev]);

  if (!creds || !identity) {
    return (
      <LangContext.Provider value={lang}>
        {creds && !restoreError ? <p aria-busy="true" class="container">…</p> : (
          <>
            <SignIn lang={lang} setLang={setLang} onSignedIn={(c, id) => { setCreds(c); setIdentity(id); }} />
            <div class="container"><ErrorNote error={restoreError} /></div>
          </>
        )}
      </LangContext.Provider>
    );
  }
  const route = routeOf(path);
  const signOut = () => {
    clearCredentials();
    setCreds(null);
    setIdentity(null);
    history.pushState(null, '', BASE);
    setPath(BASE);
  };
  return (
    <LangContext.Provider value={lang}>
      <App.Provider value={app}>
        <Shell route={route} identity={identity} dev={dev} lang={lang} setLang={(l) => { setLang(l); saveCredentials({ ...creds, lang: l }); }} signOut={signOut} />
      </App.Provider>
    </LangContext.Provider>
  );
}

function Shell(props: { route: string[]; identity: Identity; dev: boolean; lang: Lang; setLang: (l: Lang) => void; signOut: () => void }) {
  const t = useT();
  const current = props.route[0] ?? 'fences';
  return (
    <>
      <a class="skip" href="#content">{t('nav.skip')}</a>
      <header class="container-fluid topbar">
        <nav aria-label={t('nav.main')}>
          <ul>
            <li><strong>{t('app.title')}</strong></li>
          </ul>
          <ul>
            <li>
              <span id="whoami" data-account={props.identity.accountId} data-role={props.identity.role}>
                {t('whoami', { account: props.identity.accountId, user: props.identity.userName, role: props.identity.role })}
              </span>
            </li>
            <li>
              <select aria-label={t('signin.lang')} value={props.lang} onChange={(e) => props.setLang(e.currentTarget.value as Lang)}>
                {LANGS.map((l) => <option value={l.lang} key={l.lang}>{l.label}</option>)}
              </select>
            </li>
            <li><button type="button" class="secondary" onClick={props.signOut}>{t('signout')}</button></li>
          </ul>
        </nav>
      </header>
      <div class="container-fluid layout">
        <aside>
          <nav aria-label={t('nav.pages')}>
            <ul>
              {NAV.filter((n) => !n.devOnly || props.dev).map((n) => (
                <li key={n.path}>
                  <Link href={BASE + n.path} current={current === n.path}>
                    {t(n.key)}
                    {n.followUp ? <small class="follow-up"> ({t('nav.followUp')})</small> : null}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
        </aside>
        <main id="content" tabIndex={-1}>
          <Page route={props.route} dev={props.dev} />
        </main>
      </div>
    </>
  );
}

render(<Console />, document.getElementById('app')!);
