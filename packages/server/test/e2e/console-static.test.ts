/**
 * The web console's static files at /console/ (gateway/console.ts): served from disk when asked
 * for, with a strict Content-Security-Policy; traversal out of the console's directory refused
 * however it is spelled; signed requests under /console still reach the APIs.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { findConsoleDir } from '../../src/gateway/console.js';

const SECRET = 'the-secret-file-outside-the-console-dir';
let tmp: string;
let root: string;
let srv: TestServer;
let secure: TestServer;

before(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'stockade-console-'));
  root = path.join(tmp, 'dist');
  await fsp.mkdir(path.join(root, 'assets'), { recursive: true });
  await fsp.writeFile(path.join(root, 'index.html'), '<!doctype html><title>console</title><script type="module" src="/console/assets/app-1.js"></script>');
  await fsp.writeFile(path.join(root, 'assets', 'app-1.js'), 'export const x = 1;\n');
  await fsp.writeFile(path.join(root, 'assets', 'style-1.css'), 'body{}\n');
  await fsp.writeFile(path.join(tmp, 'secret.txt'), SECRET);
  await fsp.writeFile(path.join(root, '.env'), SECRET);
  await fsp.mkdir(path.join(tmp, 'outside'));
  await fsp.writeFile(path.join(tmp, 'outside', 'x.js'), SECRET);
  // Symlinks leading out of the root: a file and a directory.
  await fsp.symlink(path.join(tmp, 'secret.txt'), path.join(root, 'assets', 'leak.js'));
  await fsp.symlink(path.join(tmp, 'outside'), path.join(root, 'assets', 'out'));
  // A symlink that stays inside the root is followed.
  await fsp.symlink(path.join(root, 'assets', 'app-1.js'), path.join(root, 'assets', 'alias.js'));
  srv = await startTestServer('console_static', { config: { consoleDir: root } });
  secure = await startTestServer('console_static_secure', { config: { consoleDir: root, profile: 'secure' } });
});

after(async () => {
  await srv.close();
  await secure.close();
  await fsp.rm(tmp, { recursive: true, force: true });
});

/** A raw request: the path goes on the wire exactly as written (fetch would normalise `..`). */
function raw(base: string, method: string, target: string, headers: Record<string, string> = {}) {
  const u = new URL(base);
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path: target, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function assertStrictCsp(headers: http.IncomingHttpHeaders | Headers): void {
  const get = (n: string) => (headers instanceof Headers ? headers.get(n) : (headers[n] as string | undefined)) ?? '';
  const csp = get('content-security-policy');
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /style-src 'self'(;|$)/);
  assert.match(csp, /connect-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:|\*/);
  assert.equal(get('x-content-type-options'), 'nosniff');
  assert.equal(get('x-frame-options'), 'DENY');
}

describe('web console static files', () => {
  test('GET /console/ answers index.html with a strict Content-Security-Policy', async () => {
    const res = await fetch(srv.url + '/console/');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assertStrictCsp(res.headers);
    assert.match(await res.text(), /<title>console<\/title>/);
  });

  test('the console is served in the secure profile too, on the same listener', async () => {
    const res = await fetch(secure.url + '/console/');
    assert.equal(res.status, 200);
    assertStrictCsp(res.headers);
    assert.notEqual((await fetch(secure.url + '/_stockade/health')).status, 200, 'no test controls in the secure profile');
  });

  test('GET /console redirects to /console/', async () => {
    const res = await raw(srv.url, 'GET', '/console');
    assert.equal(res.status, 308);
    assert.equal(res.headers.location, '/console/');
  });

  test('assets are served with their type and cached for good (their names carry a content hash)', async () => {
    const js = await fetch(srv.url + '/console/assets/app-1.js');
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assertStrictCsp(js.headers);
    assert.equal(await js.text(), 'export const x = 1;\n');
    const css = await fetch(srv.url + '/console/assets/style-1.css');
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
  });

  test('HEAD gives the headers and no body; other methods are refused with 405', async () => {
    const head = await raw(srv.url, 'HEAD', '/console/assets/app-1.js');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String('export const x = 1;\n'.length));
    assert.equal(head.body, '');
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await raw(srv.url, method, '/console/index.html');
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.allow, 'GET, HEAD');
    }
  });

  test('a page path of the single-page app (no file extension) answers index.html', async () => {
    for (const p of ['/console/fences', '/console/fences/3/boxes/12', '/console/storage/my-bucket/a/b/']) {
      const res = await fetch(srv.url + p);
      assert.equal(res.status, 200, p);
      assert.match(await res.text(), /<title>console<\/title>/, p);
    }
  });

  test('a missing file with an extension is a 404, not the app', async () => {
    const res = await fetch(srv.url + '/console/assets/missing-1.js');
    assert.equal(res.status, 404);
    assertStrictCsp(res.headers);
  });

  test('path traversal is refused however it is spelled: .., encoded dots, encoded slashes, backslashes, NUL, dot-files', async () => {
    const attempts = [
      '/console/../secret.txt',
      '/console/assets/../../secret.txt',
      '/console/%2e%2e/secret.txt',
      '/console/%2E%2E/secret.txt',
      '/console/.%2e/secret.txt',
      '/console/%2e%2e%2fsecret.txt',
      '/console/assets/..%2f..%2fsecret.txt',
      '/console/..%5csecret.txt',
      '/console/%5c..%5csecret.txt',
      '/console/./index.html',
      '/console//etc/passwd',
      '/console/%2fetc%2fpasswd',
      '/console/index.html%00.js',
      '/console/%E0%A4%A',
      '/console/%252e%252e/secret.txt',
      '/console/.env',
      '/console/%2eenv',
    ];
    for (const target of attempts) {
      const res = await raw(srv.url, 'GET', target);
      assert.notEqual(res.status, 200, target);
      assert.ok(!res.body.includes(SECRET), `${target} leaked the file`);
      assert.ok(!res.body.includes('root:'), `${target} leaked /etc/passwd`);
    }
  });

  test('a symlink leading out of the console directory is a 404; one inside it is followed', async () => {
    for (const target of ['/console/assets/leak.js', '/console/assets/out/x.js']) {
      const res = await raw(srv.url, 'GET', target);
      assert.equal(res.status, 404, target);
      assert.ok(!res.body.includes(SECRET));
    }
    const inside = await fetch(srv.url + '/console/assets/alias.js');
    assert.equal(inside.status, 200);
    assert.equal(await inside.text(), 'export const x = 1;\n');
  });

  test('a signed S3 request under /console still reaches Object Storage (a bucket named console)', async () => {
    const s3 = new S3Client({ endpoint: srv.url, forcePathStyle: true, region: 'us-east-1', credentials: srv });
    await s3.send(new CreateBucketCommand({ Bucket: 'console' }));
    await s3.send(new HeadBucketCommand({ Bucket: 'console' }));
    const page = await fetch(srv.url + '/console/');
    assert.equal(page.status, 200, 'an unsigned request is still the console');
    s3.destroy();
  });

  test('paths that only start like /console are not the console', async () => {
    const res = await raw(srv.url, 'GET', '/consolex/index.html');
    assert.ok(!res.body.includes('<title>console</title>'));
  });

  test('the built console is found beside the program and has no inline script or third-party origin', async () => {
    const dir = findConsoleDir();
    assert.ok(dir, 'packages/console/dist is built by `npm run build`');
    const html = await fsp.readFile(path.join(dir, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.ok(scripts.length > 0);
    for (const [, attrs, body] of scripts) {
      assert.match(attrs!, /src="\/console\/assets\//, 'every script is a same-origin file');
      assert.equal(body!.trim(), '', 'no inline script');
    }
    assert.doesNotMatch(html, /https?:\/\//, 'no third-party origin');
    assert.doesNotMatch(html, /\sstyle=/, 'no inline style');
  });

  test('an unbuilt console answers 404 with how to build it', async () => {
    const empty = await fsp.mkdtemp(path.join(os.tmpdir(), 'stockade-console-empty-'));
    const s = await startTestServer('console_unbuilt', { config: { consoleDir: empty } });
    try {
      const res = await fetch(s.url + '/console/');
      assert.equal(res.status, 404);
      assert.match(await res.text(), /npm run build/);
    } finally {
      await s.close();
      await fsp.rm(empty, { recursive: true, force: true });
    }
  });
});
