/**
 * Object Storage calls from the browser: path-style S3 requests on the console's own origin,
 * signed with the SDK's SigV4 signer (UNSIGNED-PAYLOAD: the body is not hashed). Uploads are
 * multipart, each part sent with XMLHttpRequest for its upload progress.
 */
import { sigv4SignHeaders, uriEncode } from '@stockade/sdk';
import type { Credentials } from './session.js';

export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface BucketInfo {
  name: string;
  created: string;
}
export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: string;
  etag: string;
}
export interface Listing {
  prefixes: string[];
  objects: ObjectInfo[];
  truncated: boolean;
  nextToken: string | null;
}

/** 8 MiB parts (S3's minimum is 5 MiB for every part but the last). */
export const PART_SIZE = 8 * 1024 * 1024;

function text(el: Element | Document, name: string): string {
  return el.getElementsByTagName(name)[0]?.textContent ?? '';
}

async function errorOf(res: Response): Promise<S3Error> {
  const body = await res.text();
  if (body.startsWith('<')) {
    const doc = new DOMParser().parseFromString(body, 'application/xml');
    const code = text(doc, 'Code');
    if (code) return new S3Error(res.status, code, `${code}: ${text(doc, 'Message')}`);
  }
  return new S3Error(res.status, String(res.status), `${res.status} ${res.statusText}`);
}

export class S3Client {
  constructor(
    private readonly creds: Credentials,
    private readonly region: string,
  ) {}

  url(bucket?: string, key?: string, query = ''): URL {
    let path = '/';
    if (bucket !== undefined) path += uriEncode(bucket);
    if (key !== undefined) path += '/' + uriEncode(key, false);
    return new URL(path + (query ? '?' + query : ''), location.origin);
  }

  sign(method: string, url: URL, headers: Record<string, string> = {}): Record<string, string> {
    return sigv4SignHeaders({
      method,
      url,
      headers,
      accessKeyId: this.creds.accessKeyId,
      secretAccessKey: this.creds.secretAccessKey,
      region: this.region,
    });
  }

  async send(method: string, url: URL, body?: BodyInit, headers: Record<string, string> = {}): Promise<Response> {
    const init: RequestInit = { method, headers: this.sign(method, url, headers) };
    if (body !== undefined) init.body = body;
    const res = await fetch(url, init);
    if (!res.ok) throw await errorOf(res);
    return res;
  }

  async listBuckets(): Promise<BucketInfo[]> {
    const res = await this.send('GET', this.url());
    const doc = new DOMParser().parseFromString(await res.text(), 'application/xml');
    return [...doc.getElementsByTagName('Bucket')].map((b) => ({ name: text(b, 'Name'), created: text(b, 'CreationDate') }));
  }

  async createBucket(name: string): Promise<void> {
    await this.send('PUT', this.url(name));
  }

  async deleteBucket(name: string): Promise<void> {
    await this.send('DELETE', this.url(name));
  }

  async list(bucket: string, prefix: string, token?: string): Promise<Listing> {
    const q = new URLSearchParams({ 'list-type': '2', delimiter: '/', prefix });
    if (token) q.set('continuation-token', token);
    const query = [...q].map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&');
    const res = await this.send('GET', this.url(bucket, undefined, query));
    const doc = new DOMParser().parseFromString(await res.text(), 'application/xml');
    return {
      prefixes: [...doc.getElementsByTagName('CommonPrefixes')].map((p) => text(p, 'Prefix')),
      objects: [...doc.getElementsByTagName('Contents')].map((c) => ({
        key: text(c, 'Key'),
        size: Number(text(c, 'Size')),
        lastModified: text(c, 'LastModified'),
        etag: text(c, 'ETag'),
      })),
      truncated: text(doc, 'IsTruncated') === 'true',
      nextToken: text(doc, 'NextContinuationToken') || null,
    };
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    await this.send('DELETE', this.url(bucket, key));
  }

  /** GetObject as bytes (a review preview: a read of a sealed bucket is an audit event). */
  async getBytes(bucket: string, key: string): Promise<Uint8Array<ArrayBuffer>> {
    const res = await this.send('GET', this.url(bucket, key));
    return new Uint8Array(await res.arrayBuffer());
  }

  async download(bucket: string, key: string): Promise<Blob> {
    const res = await this.send('GET', this.url(bucket, key));
    return res.blob();
  }

  /** Multipart upload; `progress` gets the bytes sent so far. Aborts the upload on failure. */
  async upload(bucket: string, key: string, file: Blob, progress: (sent: number) => void): Promise<void> {
    const type = file.type || 'application/octet-stream';
    const created = await this.send('POST', this.url(bucket, key, 'uploads='), undefined, { 'content-type': type });
    const uploadId = text(new DOMParser().parseFromString(await created.text(), 'application/xml'), 'UploadId');
    const parts: string[] = [];
    try {
      const count = Math.max(1, Math.ceil(file.size / PART_SIZE));
      for (let n = 1; n <= count; n++) {
        const chunk = file.slice((n - 1) * PART_SIZE, Math.min(file.size, n * PART_SIZE));
        const base = (n - 1) * PART_SIZE;
        const url = this.url(bucket, key, `partNumber=${n}&uploadId=${uriEncode(uploadId)}`);
        parts.push(await this.putPart(url, chunk, (sent) => progress(base + sent)));
      }
      const xml =
        '<CompleteMultipartUpload>' +
        parts.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</ETag></Part>`).join('') +
        '</CompleteMultipartUpload>';
      const done = await this.send('POST', this.url(bucket, key, `uploadId=${uriEncode(uploadId)}`), xml, { 'content-type': 'application/xml' });
      // CompleteMultipartUpload may answer 200 with an <Error> body.
      const body = await done.text();
      if (body.includes('<Error>')) {
        const doc = new DOMParser().parseFromString(body, 'application/xml');
        throw new S3Error(200, text(doc, 'Code'), `${text(doc, 'Code')}: ${text(doc, 'Message')}`);
      }
      progress(file.size);
    } catch (e) {
      await this.send('DELETE', this.url(bucket, key, `uploadId=${uriEncode(uploadId)}`)).catch(() => undefined);
      throw e;
    }
  }

  private putPart(url: URL, chunk: Blob, progress: (sent: number) => void): Promise<string> {
    const headers = this.sign('PUT', url);
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('PUT', url);
      for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
      xhr.upload.onprogress = (e) => progress(e.loaded);
      xhr.onerror = () => reject(new S3Error(0, 'NetworkError', 'the upload was interrupted'));
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          resolve(xhr.getResponseHeader('etag') ?? '');
          return;
        }
        const doc = new DOMParser().parseFromString(xhr.responseText, 'application/xml');
        const code = text(doc, 'Code') || String(xhr.status);
        reject(new S3Error(xhr.status, code, `${code}: ${text(doc, 'Message')}`));
      };
      xhr.send(chunk);
    });
  }
}
