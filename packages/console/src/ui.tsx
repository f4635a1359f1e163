/** Shared pieces: the app context, data loading with errors in words, and small components. */
import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { Lang } from '@stockade/sdk';
import { translate, type TextKey } from './i18n.js';
import type { Clients, Credentials } from './session.js';
import type { S3Client } from './s3.js';

export interface Identity {
  accountId: string;
  userId: string;
  userName: string;
  role: 'owner' | 'fence-admin' | 'box-user';
  accessKeyId: string;
  s3Regions: string[];
}

export interface AppState {
  creds: Credentials;
  identity: Identity;
  clients: Clients;
  s3: S3Client;
  /** The test controls answer (dev profile). */
  dev: boolean;
  navigate(path: string): void;
}

export const App = createContext<AppState | null>(null);

export function useApp(): AppState {
  const app = useContext(App);
  if (!app) throw new Error('useApp outside the signed-in app');
  return app;
}

export const LangContext = createContext<Lang>('en-US');

export function useT() {
  const lang = useContext(LangContext);
  return (key: TextKey, vars?: Record<string, string | number>) => translate(lang, key, vars);
}

/** An error as words: the server's code and message when it sent them. */
export function describeError(e: unknown): string {
  if (e && typeof e === 'object') {
    const o = e as { code?: unknown; message?: unknown; details?: unknown; status?: unknown };
    const msg = typeof o.message === 'string' ? o.message : JSON.stringify(e);
    const details = typeof o.details === 'string' && o.details !== '' && o.details !== msg ? ` (${o.details})` : '';
    const code = typeof o.code === 'string' && !msg.includes(o.code) ? `[${o.code}] ` : '';
    return code + msg + details;
  }
  return String(e);
}

export function ErrorNote({ error }: { error: unknown }) {
  const t = useT();
  if (error === null || error === undefined) return null;
  return (
    <p class="error" role="alert">
      <strong>{t('error')}:</strong> {describeError(error)}
    </p>
  );
}

/** Loads `fn()` now, when `deps` change and on `reload()`; `everyMs` polls (live status). */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[], everyMs?: number) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const seq = useRef(0);
  const reload = useCallback(() => {
    const mine = ++seq.current;
    setLoading(true);
    fn().then(
      (d) => {
        if (mine !== seq.current) return;
        setData(d);
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (mine !== seq.current) return;
        setError(e);
        setLoading(false);
      },
    );
  }, deps);
  useEffect(() => {
    reload();
    if (!everyMs) return undefined;
    const timer = setInterval(reload, everyMs);
    return () => clearInterval(timer);
  }, [reload, everyMs]);
  return { data, error, loading, reload };
}

/** A button that runs an async action, is busy meanwhile and shows its error in place. */
export function ActionButton(props: {
  label: string;
  run: () => Promise<unknown>;
  onDone?: (result: unknown) => void;
  confirm?: string;
  class?: string;
  disabled?: boolean;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const click = () => {
    if (props.confirm && !window.confirm(props.confirm)) return;
    setBusy(true);
    setError(null);
    props.run().then(
      (r) => {
        setBusy(false);
        props.onDone?.(r);
      },
      (e: unknown) => {
        setBusy(false);
        setError(e);
      },
    );
  };
  return (
    <span class="action">
      <button type="button" class={props.class} onClick={click} disabled={busy || props.disabled} aria-busy={busy}>
        {props.label}
      </button>
      <ErrorNote error={error} />
    </span>
  );
}

export function Section(props: { title: string; children: ComponentChildren; actions?: ComponentChildren; id?: string }) {
  const id = props.id ?? props.title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return (
    <section aria-labelledby={id}>
      <div class="section-head">
        <h2 id={id}>{props.title}</h2>
        {props.actions}
      </div>
      {props.children}
    </section>
  );
}

export function Loading({ loading }: { loading: boolean }) {
  const t = useT();
  return loading ? <p aria-busy="true">{t('loading')}</p> : null;
}

/**
 * What a `useLoad` has to say before its data is shown: its error, "loading" until the first
 * answer, and, when `empty` says the answer holds nothing, `emptyText` (default "none").
 */
export function LoadState<T>(props: { load: { data: T | null; error: unknown; loading: boolean }; empty?: (data: T) => boolean; emptyText?: string }) {
  const t = useT();
  const { data, error, loading } = props.load;
  return (
    <>
      <ErrorNote error={error} />
      <Loading loading={loading && data === null} />
      {data !== null && props.empty?.(data) ? <p>{props.emptyText ?? t('none')}</p> : null}
    </>
  );
}

export function StatusBadge({ code, name }: { code: string; name?: string }) {
  return <span class={`status status-${code.toLowerCase()}`}>{name && name !== code ? `${name} (${code})` : code}</span>;
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** An internal link that navigates without reloading the page. */
export function Link(props: { href: string; children: ComponentChildren; current?: boolean }) {
  const app = useContext(App);
  return (
    <a
      href={props.href}
      aria-current={props.current ? 'page' : undefined}
      onClick={(e) => {
        if (!app || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        app.navigate(props.href);
      }}
    >
      {props.children}
    </a>
  );
}
