/**
 * nfs-ganesha as a child process: the NFS server of CFS file systems (`stockade serve --nfs ganesha`).
 *
 * - One process per Stockade server, NFSv4 only (`Protocols = 4`), on `--nfs-host` (127.0.0.1)
 *   and `--nfs-port` (2049; 0 = a free port), without rpcbind or dbus. Its configuration, pid file,
 *   log and NFSv4 client records live in `<data>/nfs/`.
 * - Each file system with a mount target is one export of its volume's directory, at pseudo path
 *   `/{fsId}`. The export's client list is its mount targets' access rules in order (a client takes
 *   the first entry its address matches; no match, no access). Squashed users become uid/gid 65534.
 * - A change is applied by rewriting the configuration and sending SIGHUP; `apply` returns once
 *   ganesha has logged that it re-read its exports. Applies run one at a time, each reading the
 *   state it writes when its turn comes, so a later change is never overwritten by an earlier one.
 * - Ganesha answers every access with an error unless it runs as root, so `--nfs ganesha` needs root.
 * - Clients: ganesha records each confirmed NFSv4 client (its address) under its recovery
 *   directory until the client's lease expires; `clients()` reads those records.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { formatAddress, parseAddress, unmapV4 } from './net.js';

/** The uid and gid squashed users become (`nobody` on Debian). */
export const ANONYMOUS_ID = 65534;
/** Ganesha's default NFSv4 lease: a client that stops renewing is forgotten after it. */
export const LEASE_SECONDS = 60;

export interface ExportClient {
  /** Ganesha client entries: `10.0.0.0/8`, `2001:db8:0:0:0:0:0:0/32`. */
  clients: string[];
  access: 'RO' | 'RW';
  squash: 'No_Root_Squash' | 'Root_Squash' | 'All_Squash';
}

export interface Export {
  fsId: string;
  /** Absolute directory (the volume's). */
  path: string;
  clients: ExportClient[];
}

export class GaneshaError extends Error {
  override name = 'GaneshaError';
}

/** The ganesha binary on PATH (or the Debian location), or null. */
export function findGanesha(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin', '/usr/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, 'ganesha.nfsd');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** A string in ganesha's configuration syntax. */
function quoted(s: string): string {
  if (/["\\\n\r]/.test(s)) throw new GaneshaError(`cannot put ${JSON.stringify(s)} in the NFS server's configuration`);
  return `"${s}"`;
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface GaneshaOptions {
  /** `<data>/nfs` */
  dir: string;
  host: string;
  /** 0 = a free port. */
  port: number;
  logger: Logger;
  binary?: string;
}

export class Ganesha {
  readonly confFile: string;
  readonly pidFile: string;
  readonly logFile: string;
  readonly recoveryDir: string;
  readonly host: string;
  port = 0;
  /** Milliseconds from spawning ganesha to its port answering (last start). */
  startMs = 0;
  private child: ChildProcess | null = null;
  private log: fs.WriteStream | null = null;
  private stopping = false;
  /** Started and serving: only then may it get SIGHUP (before its signal thread runs, SIGHUP kills it). */
  private ready = false;
  private restartTimer: NodeJS.Timeout | null = null;
  /** A restart under way (stop waits for it, then stops what it started). */
  private restarting: Promise<void> | null = null;
  /** Last lines ganesha wrote, for error messages. */
  private readonly tail: string[] = [];
  private lineWaiters: Array<{ re: RegExp; resolve: () => void; reject: (e: Error) => void }> = [];
  private readonly exportIds = new Map<string, number>();
  /** The exports text ganesha last loaded. */
  private applied = '';
  private queue: Promise<void> = Promise.resolve();
  private lastSource: (() => Promise<Export[]>) | null = null;

  constructor(private readonly opts: GaneshaOptions) {
    this.confFile = path.join(opts.dir, 'ganesha.conf');
    this.pidFile = path.join(opts.dir, 'ganesha.pid');
    this.logFile = path.join(opts.dir, 'ganesha.log');
    this.recoveryDir = path.join(opts.dir, 'recovery');
    this.host = opts.host;
  }

  /** Throws a GaneshaError saying what is missing when ganesha cannot serve here. */
  static preflight(): string {
    if (typeof process.getuid === 'function' && process.getuid() !== 0) {
      throw new GaneshaError(
        '--nfs ganesha needs root: nfs-ganesha serves files with the ids NFS clients claim, which only root can do (as another user every access fails)',
      );
    }
    const bin = findGanesha();
    if (!bin) throw new GaneshaError('--nfs ganesha: ganesha.nfsd is not installed (Debian: apt-get install nfs-ganesha nfs-ganesha-vfs)');
    return bin;
  }

  /** The running ganesha's process id. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.ready && this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts ganesha with the exports `source` gives; resolves once it serves. */
  async start(source: () => Promise<Export[]>): Promise<void> {
    const binary = this.opts.binary ?? Ganesha.preflight();
    this.stopping = false;
    this.ready = false;
    this.lastSource = source;
    await fsp.mkdir(this.opts.dir, { recursive: true });
    await this.killStale();
    // Graceless: no client reclaims state from an earlier run, so earlier records mean nothing.
    await fsp.rm(this.recoveryDir, { recursive: true, force: true });
    await fsp.mkdir(this.recoveryDir, { recursive: true });
    if (this.port === 0) this.port = this.opts.port === 0 ? await freePort(this.host) : this.opts.port;
    const exports = await source();
    const text = this.render(exports);
    await this.writeConfig(text);
    this.log ??= fs.createWriteStream(this.logFile, { flags: 'a' });
    const t0 = performance.now();
    const child = spawn(binary, ['-F', '-L', 'STDOUT', '-f', this.confFile, '-p', this.pidFile, '-N', 'NIV_EVENT'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.readLines(child);
    const initialized = this.waitForLine(/NFS SERVER INITIALIZED/, 15_000);
    initialized.catch(() => undefined);
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) => reject(new GaneshaError(`nfs-ganesha exited at start-up (${signal ?? `status ${code}`}): ${this.lastLines()}`))),
    );
    exited.catch(() => undefined);
    const spawnFailed = new Promise<never>((_, reject) => child.once('error', (e) => reject(new GaneshaError(`cannot run ${binary}: ${e.message}`))));
    spawnFailed.catch(() => undefined);
    try {
      await Promise.race([initialized, exited, spawnFailed]);
      for (let i = 0; !(await canConnect(this.host, this.port)); i++) {
        if (i >= 200) throw new GaneshaError(`nfs-ganesha does not answer on ${this.host}:${this.port}: ${this.lastLines()}`);
        await Promise.race([new Promise((r) => setTimeout(r, 10)), exited]);
      }
    } catch (e) {
      child.kill('SIGKILL');
      this.child = null;
      for (const w of this.lineWaiters.splice(0)) w.reject(new GaneshaError('nfs-ganesha did not start'));
      throw e;
    }
    this.startMs = performance.now() - t0;
    this.ready = true;
    this.applied = text;
    this.forgetRemoved(exports);
    child.once('exit', (code, signal) => this.onExit(code, signal));
  }

  /** Re-reads the exports from `source` and, if they changed, has ganesha load them. One at a time. */
  apply(source: () => Promise<Export[]>): Promise<void> {
    this.lastSource = source;
    const run = async () => {
      if (!this.running) return;
      const exports = await source();
      const text = this.render(exports);
      if (text === this.applied) return;
      await this.writeConfig(text);
      const reread = this.waitForLine(/Reread exports complete/, 10_000);
      this.child!.kill('SIGHUP');
      await reread;
      this.applied = text;
      this.forgetRemoved(exports);
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Addresses of the NFSv4 clients ganesha holds a record of (until their lease expires), unique, sorted. */
  async clients(): Promise<string[]> {
    const out = new Set<string>();
    let nodes: string[];
    try {
      nodes = await fsp.readdir(path.join(this.recoveryDir, 'v4recov'));
    } catch {
      return [];
    }
    for (const node of nodes) {
      let names: string[];
      try {
        names = await fsp.readdir(path.join(this.recoveryDir, 'v4recov', node));
      } catch {
        continue;
      }
      for (const name of names) {
        // `<client address>-(<length>:<client's id string>)`
        const i = name.indexOf('-(');
        const a = i > 0 ? parseAddress(name.slice(0, i)) : null;
        if (a) out.add(formatAddress(unmapV4(a)));
      }
    }
    return [...out].sort();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.restarting;
    await this.queue;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    this.child = null;
    const log = this.log;
    this.log = null;
    if (log) await new Promise<void>((resolve) => log.end(() => resolve()));
  }

  /** The exports part of the configuration (what `apply` compares). */
  private render(exports: Export[]): string {
    const used = new Set(this.exportIds.values());
    const blocks: string[] = [];
    for (const e of exports) {
      let id = this.exportIds.get(e.fsId);
      if (id === undefined) {
        // The lowest id no export had when ganesha last loaded (ids of removed exports are freed
        // once ganesha has dropped them, so an id never changes its path within one reload).
        id = 1;
        while (used.has(id)) id++;
        if (id > 65535) throw new GaneshaError('more than 65535 NFS exports');
        used.add(id);
        this.exportIds.set(e.fsId, id);
      }
      const clients = e.clients.map(
        (c) => `  CLIENT { Clients = ${c.clients.join(', ')}; Access_Type = ${c.access}; Squash = ${c.squash}; Protocols = 4; }`,
      );
      blocks.push(
        [
          'EXPORT {',
          `  Export_Id = ${id};`,
          `  Path = ${quoted(e.path)};`,
          `  Pseudo = ${quoted(`/${e.fsId}`)};`,
          '  Access_Type = None;',
          '  Protocols = 4;',
          '  SecType = sys;',
          '  Squash = Root_Squash;',
          `  Anonymous_Uid = ${ANONYMOUS_ID};`,
          `  Anonymous_Gid = ${ANONYMOUS_ID};`,
          '  FSAL { Name = VFS; }',
          ...clients,
          '}',
        ].join('\n'),
      );
    }
    return blocks.join('\n');
  }

  private forgetRemoved(exports: Export[]): void {
    const keep = new Set(exports.map((e) => e.fsId));
    for (const fsId of [...this.exportIds.keys()]) if (!keep.has(fsId)) this.exportIds.delete(fsId);
  }

  private async writeConfig(exportsText: string): Promise<void> {
    const text = [
      '# Written by Stockade on every change of a mount target, access group or rule: do not edit.',
      'NFS_CORE_PARAM {',
      '  Protocols = 4;',
      `  NFS_Port = ${this.port};`,
      `  Bind_addr = ${this.host};`,
      '  Enable_NLM = false;',
      '  Enable_RQUOTA = false;',
      '  Enable_UDP = false;',
      '}',
      'NFS_KRB5 { Active_krb5 = false; }',
      'NFSV4 {',
      '  Graceless = true;',
      `  Lease_Lifetime = ${LEASE_SECONDS};`,
      `  RecoveryRoot = ${quoted(this.recoveryDir)};`,
      '}',
      exportsText,
      '',
    ].join('\n');
    const tmp = `${this.confFile}.tmp`;
    await fsp.writeFile(tmp, text, { mode: 0o600 });
    await fsp.rename(tmp, this.confFile);
  }

  private readLines(child: ChildProcess): void {
    for (const stream of [child.stdout, child.stderr]) {
      let buf = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        this.log?.write(chunk);
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          this.onLine(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      });
    }
  }

  private onLine(line: string): void {
    this.tail.push(line);
    if (this.tail.length > 20) this.tail.shift();
    if (/:CONFIG :(CRIT|MAJ)/.test(line)) this.opts.logger.warn({ nfs: line }, 'nfs-ganesha configuration problem');
    const due = this.lineWaiters.filter((w) => w.re.test(line));
    this.lineWaiters = this.lineWaiters.filter((w) => !due.includes(w));
    for (const w of due) w.resolve();
  }

  private waitForLine(re: RegExp, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.lineWaiters = this.lineWaiters.filter((w) => w !== waiter);
        reject(new GaneshaError(`nfs-ganesha did not log ${re.source} within ${timeoutMs} ms: ${this.lastLines()}`));
      }, timeoutMs);
      const waiter = {
        re,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.lineWaiters.push(waiter);
    });
  }

  private lastLines(): string {
    const interesting = this.tail.filter((l) => /CRIT|MAJ|FATAL|ERR/.test(l));
    return (interesting.length ? interesting : this.tail).slice(-3).join(' | ') || `(nothing logged; see ${this.logFile})`;
  }

  /** A ganesha left running by a server that crashed (same configuration file): stop it first. */
  private async killStale(): Promise<void> {
    let pid: number;
    try {
      pid = Number((await fsp.readFile(this.pidFile, 'utf8')).trim());
    } catch {
      return;
    }
    if (!Number.isInteger(pid) || pid <= 1) return;
    let cmdline = '';
    try {
      cmdline = (await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
    } catch {
      return;
    }
    if (!cmdline.includes('ganesha.nfsd') || !cmdline.includes(this.confFile)) return;
    this.opts.logger.warn({ pid }, 'stopping the nfs-ganesha an earlier run left behind');
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
    for (let i = 0; i < 500 && fs.existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 10));
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.child = null;
    this.ready = false;
    for (const w of this.lineWaiters.splice(0)) w.reject(new GaneshaError(`nfs-ganesha exited (${signal ?? `status ${code}`})`));
    if (this.stopping) return;
    this.opts.logger.error({ code, signal, log: this.logFile, last: this.lastLines() }, 'nfs-ganesha exited: restarting it in 2 s');
    this.restartIn(2000);
  }

  /** Starts ganesha again after `ms`; a failed start tries again, waiting twice as long (up to a minute). */
  private restartIn(ms: number): void {
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      const source = this.lastSource;
      if (this.stopping || !source) return;
      this.exportIds.clear();
      this.restarting = this.start(source)
        .catch((err: unknown) => {
          const next = Math.min(ms * 2, 60_000);
          this.opts.logger.error({ err, retryInMs: next }, 'nfs-ganesha did not restart');
          if (!this.stopping) this.restartIn(next);
        })
        .finally(() => (this.restarting = null));
    }, ms);
    this.restartTimer.unref();
  }
}
