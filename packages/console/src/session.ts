/**
 * The signed-in key. The secret lives only in this tab's sessionStorage: never a cookie, never
 * sent (every call is signed here, in the browser, by the SDK's signers).
 */
import { CfsClient, DataFlowClient, DatafenceClient, StockadeClient, type Lang } from '@stockade/sdk';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  lang: Lang;
}

const KEY = 'stockade.console.credentials';

export function loadCredentials(): Credentials | null {
  const text = sessionStorage.getItem(KEY);
  if (!text) return null;
  try {
    const c = JSON.parse(text) as Partial<Credentials>;
    if (typeof c.accessKeyId === 'string' && typeof c.secretAccessKey === 'string') {
      return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, lang: c.lang ?? 'en-US' };
    }
  } catch {
    /* a damaged entry: signed out */
  }
  return null;
}

export function saveCredentials(c: Credentials): void {
  sessionStorage.setItem(KEY, JSON.stringify(c));
}

export function clearCredentials(): void {
  sessionStorage.removeItem(KEY);
}

/** The clients of one signed-in key; the endpoint is the console's own origin. */
export function clientsFor(c: Credentials) {
  const options = {
    endpoint: location.origin,
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
    lang: c.lang,
    fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init),
  };
  return {
    datafence: new DatafenceClient(options),
    dataflow: new DataFlowClient(options),
    cfs: new CfsClient(options),
    stockade: new StockadeClient(options),
  };
}

export type Clients = ReturnType<typeof clientsFor>;
