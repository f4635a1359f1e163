/**
 * The web console's static files at `/console/` (docs/console.md), on the gateway's listener.
 *
 * Files are read when asked for (nothing is loaded at start-up). Safety of the path:
 * - the path after `/console/` is percent-decoded once; a malformed escape, a NUL, a backslash, an
 *   empty segment or one starting with `.` (`.`, `..`, dot-files; also when written `%2e%2e` or
 *   with `%2f`) is refused (404, no file is touched);
 * - the file is resolved under the root, and its real path (symlinks followed) must still lie
 *   under the root's real path and be a regular file: a symlink leading out is a 404;
 * - only GET and HEAD.
 * A path without a file extension that names no file is a page of the single-page app: it gets
 * `index.html` (the app routes on the client). Everything carries a strict Content-Security-Policy
 * (same origin only, no inline script or style, no framing).
 */
import { createReadStream, existsSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { dirname, extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const CONSOLE_PREFIX = '/console/';
const NOT_BUILT = 'the web console is not built: run `npm run build`\n';

/**
 * Same origin only. `img-src data:`: the component library's stylesheet draws its icons as
 * `data:` SVGs; `blob:` for previews the console builds from downloaded bytes.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Is this request for the console (the path `/console` or under `/console/`)? */
export function isConsolePath(rawPath: string): boolean {
  return rawPath === '/console' || rawPath.startsWith(CONSOLE_PREFIX);
}

/** `packages/console/dist` of the checkout this program runs from (bundle or compiled tree), if built. */
export function findConsoleDir(from: string = dirname(fileURLToPath(import.meta.url))): string | null {
  for (let d = from; ; d = dirname(d)) {
    const candidate = join(d, 'packages', 'console', 'dist');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    if (dirname(d) === d) return null;
  }
}

/** The decoded segments under the root, or null when the path is not one a file may have. */
export function consoleSegments(rawPath: string): string[] | null {
  const rest = rawPath.slice(CONSOLE_PREFIX.length);
  if (rest === '') return [];
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/');
  if (segments.at(-1) === '') segments.pop(); // a trailing slash
  // `.`/`..`/empty segments never name a file under the root; nor do dot-files (the build makes none).
  for (const s of segments) if (s === '' || s.startsWith('.')) return null;
  return segments;
}

function plain(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

/** Serves one console request. `root` null: the console was not built. */
export async function serveConsole(req: IncomingMessage, res: ServerResponse, rawPath: string, root: string | null): Promise<void> {
  const method = req.method ?? 'GET';
  req.resume();
  if (method !== 'GET' && method !== 'HEAD') return plain(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
  if (rawPath === '/console') {
    res.writeHead(308, { ...SECURITY_HEADERS, location: CONSOLE_PREFIX, 'content-length': 0 });
    res.end();
    return;
  }
  if (root === null) return plain(res, 404, NOT_BUILT);
  const segments = consoleSegments(rawPath);
  if (segments === null) return plain(res, 404, 'not found\n');
  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch {
    return plain(res, 404, NOT_BUILT);
  }
  let file = segments.length === 0 ? null : await regularFileUnder(realRoot, segments);
  if (file === null && extname(segments.at(-1) ?? '') === '') {
    file = await regularFileUnder(realRoot, ['index.html']);
    if (file === null) return plain(res, 404, NOT_BUILT);
  }
  if (file === null) return plain(res, 404, 'not found\n');
  const type = TYPES[extname(file.path)] ?? 'application/octet-stream';
  // Vite names every asset by its content hash: cached for good. Pages are revalidated.
  const cache = segments[0] === 'assets' && segments.length > 1 ? 'public, max-age=31536000, immutable' : 'no-cache';
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': file.size, 'cache-control': cache });
  if (method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file.path);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

async function regularFileUnder(realRoot: string, segments: string[]): Promise<{ path: string; size: number } | null> {
  try {
    const real = await realpath(join(realRoot, ...segments));
    if (!real.startsWith(realRoot + sep)) return null;
    const st = await stat(real);
    return st.isFile() ? { path: real, size: st.size } : null;
  } catch {
    return null;
  }
}
