/**
 * Boxes an analyst can work in: `stockade box exec --box ID -- CMD…` and `stockade box shell --box
 * ID` run a command, or a shell, inside the box, a bubblewrap sandbox (`bwrap`, Debian package
 * `bubblewrap`):
 *
 * - in its own user namespace as an unprivileged uid (1000) with every capability dropped: never
 *   `bwrap` as root without a user namespace, which keeps every capability and may remount `/`;
 * - its own pid, ipc, uts, cgroup and network namespaces: no network at all while the box's
 *   external network is blocked (the default; the host's loopback is unreachable too), the host's
 *   network once change-box-block-external-network allowed it;
 * - the host's system read-only (/usr, /bin, /sbin, /lib*, /etc), where whatever the host's other
 *   users may not read stays unreadable (a sandbox of a server running as root maps its uid to
 *   root's, so root-only files such as /etc/shadow are masked explicitly);
 * - the host's home directories, the data directory (database, master key, content) and the
 *   volumes of other boxes are not there: the root is an empty tmpfs, /home and /tmp are fresh;
 * - the box's NAS read-write at their mount paths (`/mnt/{instanceName}`), bound from directory
 *   descriptors opened here (a path swapped for a symlink meanwhile cannot redirect the bind).
 *
 * Each session's start and end are audit events (`box.session.start`, `box.session.end` with the
 * exit status). The sandbox's exit status is the command's.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SYSTEM_ACTOR_KEY } from '../../store/audit.js';
import { VOLUME_TMP_DIR } from '../../store/volumes.js';
import type { DatafenceService } from './service.js';

export interface SessionOptions {
  boxId: number;
  /** The command and its arguments; empty for an interactive shell. */
  command: string[];
  /** A shell on the caller's terminal (`box shell`) rather than one command (`box exec`). */
  interactive?: boolean;
  /** The `bwrap` executable; default: `$STOCKADE_BWRAP`, else `bwrap` on PATH. */
  bwrap?: string;
  /** Who runs the session, for the audit log; default the operating-system user. */
  who?: string;
}

export interface SessionResult {
  sessionId: string;
  exitCode: number;
  signal: string | null;
  durationMs: number;
}

/** A session that cannot start: printed as one line by the CLI. */
export class SessionError extends Error {
  override name = 'SessionError';
}

/** The analyst's uid and gid inside the sandbox. */
export const SANDBOX_UID = 1000;
const SANDBOX_HOME = '/home/analyst';
const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** The host's system, read-only (a merged-/usr system has symlinks for most of these). */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc'];
/** Trees walked for entries the host's other users may not read (masked inside). */
const MASKED_TREES = ['/etc'];
/** The first descriptor of the NAS directories in the child (0–2 are stdio). */
const FIRST_NAS_FD = 3;

/** `bwrap` on PATH, or undefined. */
export function findBwrap(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.STOCKADE_BWRAP) return fs.existsSync(env.STOCKADE_BWRAP) ? env.STOCKADE_BWRAP : undefined;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'bwrap');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** Entries under `root` the host's other users may not read: files without o+r, directories without o+rx. */
export async function unreadableEntries(root: string): Promise<Array<{ path: string; dir: boolean }>> {
  const out: Array<{ path: string; dir: boolean }> = [];
  const walk = async (dir: string): Promise<void> => {
    let entries: fs.Dirent[];
    try {
      entries = await fsp.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      let st: fs.Stats;
      try {
        st = await fsp.lstat(p);
      } catch {
        continue;
      }
      if (st.isSymbolicLink()) continue;
      if (st.isDirectory()) {
        if ((st.mode & 0o005) !== 0o005) out.push({ path: p, dir: true });
        else await walk(p);
      } else if ((st.mode & 0o004) === 0) {
        out.push({ path: p, dir: false });
      }
    }
  };
  await walk(root);
  return out;
}

export interface SandboxPlan {
  boxId: number;
  /** External network allowed (`--share-net`). */
  network: boolean;
  interactive: boolean;
  /** NAS mount points, in the order of their descriptors (fd 3, 4, …). */
  nas: Array<{ mountPath: string }>;
  /** System paths as found on the host: directories are bound read-only, symlinks recreated. */
  system: Array<{ path: string; symlink?: string }>;
  /** Unreadable host entries inside the bound system. */
  masks: Array<{ path: string; dir: boolean }>;
  /** Host directories that must not be visible, masked if they fall inside a bound tree. */
  hidden: string[];
  env: Record<string, string>;
  command: string[];
}

const inside = (p: string, tree: string): boolean => p === tree || p.startsWith(tree.endsWith('/') ? tree : tree + '/');

/** The `bwrap` command line of a sandbox (pure: the tests read it). */
export function bwrapArgs(plan: SandboxPlan): string[] {
  const a: string[] = ['--unshare-all'];
  if (plan.network) a.push('--share-net');
  a.push('--unshare-user', '--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_UID), '--cap-drop', 'ALL', '--die-with-parent');
  // A command gets a session of its own (no terminal to inject keystrokes into); a shell keeps the caller's.
  if (!plan.interactive) a.push('--new-session');
  a.push('--hostname', `box-${plan.boxId}`);
  const bound: string[] = [];
  for (const s of plan.system) {
    if (s.symlink !== undefined) a.push('--symlink', s.symlink, s.path);
    else {
      a.push('--ro-bind', s.path, s.path);
      bound.push(s.path);
    }
  }
  for (const m of plan.masks) {
    if (m.dir) a.push('--tmpfs', m.path, '--remount-ro', m.path);
    else a.push('--ro-bind', '/dev/null', m.path);
  }
  for (const h of plan.hidden) {
    if (bound.some((t) => inside(h, t))) a.push('--tmpfs', h, '--remount-ro', h);
  }
  a.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--dir', '/var', '--tmpfs', '/var/tmp', '--tmpfs', '/run');
  a.push('--tmpfs', '/home', '--dir', SANDBOX_HOME, '--tmpfs', '/root', '--remount-ro', '/root', '--tmpfs', '/mnt');
  plan.nas.forEach((n, i) => {
    a.push('--bind-fd', String(FIRST_NAS_FD + i), n.mountPath);
    // Stockade's own staging area of the volume (writes in flight) is not the analyst's.
    const staging = `${n.mountPath}/${VOLUME_TMP_DIR}`;
    a.push('--tmpfs', staging, '--remount-ro', staging);
  });
  a.push('--chdir', plan.nas[0]?.mountPath ?? SANDBOX_HOME);
  a.push('--clearenv');
  for (const [k, v] of Object.entries(plan.env)) a.push('--setenv', k, v);
  a.push('--', ...plan.command);
  return a;
}

/** The operating-system user running the session (its uid when it has no name). */
function osUser(): string {
  try {
    return `os:${os.userInfo().username}`;
  } catch {
    return `os:uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

/** The system paths to bind, as they are on this host. */
function systemPaths(): SandboxPlan['system'] {
  const out: SandboxPlan['system'] = [];
  for (const p of SYSTEM_DIRS) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) out.push({ path: p, symlink: fs.readlinkSync(p) });
    else if (st.isDirectory()) out.push({ path: p });
  }
  return out;
}

/** Runs one session in the box; see the module comment. */
export async function runBoxSession(svc: DatafenceService, opts: SessionOptions): Promise<SessionResult> {
  const { app } = svc;
  const bwrap = opts.bwrap ?? findBwrap();
  if (!bwrap) {
    throw new SessionError('bubblewrap is not installed (`bwrap` is not on PATH): install the Debian package bubblewrap to run commands in boxes');
  }
  const box = await svc.repo.getBox(app.store.db, opts.boxId);
  if (!box) throw new SessionError(`no box ${opts.boxId}`);
  if (box.status !== 'USE' && box.status !== 'ING') {
    throw new SessionError(`box ${box.id} is ${box.status}: commands run in a box in USE`);
  }
  const interactive = opts.interactive ?? false;
  const command = opts.command.length > 0 ? opts.command : [fs.existsSync('/bin/bash') ? '/bin/bash' : '/bin/sh', '-i'];
  if (!interactive && opts.command.length === 0) throw new SessionError('no command to run (box exec --box ID -- CMD…)');

  const nas = await svc.boxNas(box.id);
  const fds: number[] = [];
  try {
    for (const n of nas) {
      const v = await app.volumes.open(n.volumeId);
      await fsp.mkdir(path.join(v.root, VOLUME_TMP_DIR), { recursive: true });
      fds.push(fs.openSync(v.root, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY));
    }
    const masks = (await Promise.all(MASKED_TREES.map((t) => unreadableEntries(t)))).flat();
    const hidden = [app.config.dataDir, app.volumes.root, os.homedir()].map((p) => path.resolve(p));
    const env: Record<string, string> = {
      HOME: SANDBOX_HOME,
      USER: 'analyst',
      LOGNAME: 'analyst',
      PATH: SANDBOX_PATH,
      LANG: 'C.UTF-8',
      BOX_ID: String(box.id),
      ...(interactive && process.env.TERM ? { TERM: process.env.TERM } : {}),
    };
    const args = bwrapArgs({
      boxId: box.id,
      network: box.web_block === 0,
      interactive,
      nas: nas.map((n) => ({ mountPath: n.linuxMountPath })),
      system: systemPaths(),
      masks,
      hidden,
      env,
      command,
    });

    const sessionId = randomUUID();
    const resource = `fence/${box.fence_id}/box/${box.id}`;
    const who = opts.who ?? osUser();
    const record = (action: string, detail: unknown) =>
      app.store.tx((trx) =>
        app.audit.record(trx, {
          accountId: box.account_id,
          userId: null,
          userName: who,
          accessKeyId: SYSTEM_ACTOR_KEY,
          action,
          resource,
          detail,
          clientAddress: null,
          requestId: sessionId,
        }),
      );
    await record('box.session.start', {
      sessionId,
      interactive,
      command: command.map((c) => (c.length > 200 ? c.slice(0, 200) + '…' : c)).slice(0, 64),
      network: box.web_block === 0 ? 'allowed' : 'blocked',
      nas: nas.map((n) => n.linuxMountPath),
      uid: SANDBOX_UID,
    });
    const started = Date.now();
    const child = spawn(bwrap, args, { stdio: ['inherit', 'inherit', 'inherit', ...fds], env: {} });
    // The terminal's Ctrl-C belongs to the shell; a command is stopped with the session.
    const onSignal = (sig: NodeJS.Signals) => {
      if (!interactive) child.kill(sig);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let end: { code: number | null; signal: NodeJS.Signals | null };
    try {
      end = await new Promise((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (code, signal) => resolve({ code, signal }));
      });
    } catch (err) {
      await record('box.session.end', { sessionId, error: (err as Error).message, durationMs: Date.now() - started });
      throw new SessionError(`cannot start ${bwrap}: ${(err as Error).message}`);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    const exitCode = end.code ?? 128 + (end.signal ? (os.constants.signals[end.signal] ?? 0) : 0);
    const durationMs = Date.now() - started;
    await record('box.session.end', { sessionId, exitCode, signal: end.signal, durationMs });
    return { sessionId, exitCode, signal: end.signal, durationMs };
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
}
