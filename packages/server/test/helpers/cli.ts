/**
 * The built `stockade` command as a user runs it: one-shot commands (`runCli`) and `serve` processes
 * (`startServe`) whose stdout is read line by line. Children get a clean environment: none of the
 * parent's STOCKADE_* / DATABASE_URL variables leak in, only what the test passes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from packages/server/dist/test/helpers/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));
/** The compiled CLI entry point. */
export const CLI = fileURLToPath(new URL('../../stockade.mjs', import.meta.url));

export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('STOCKADE_') || k === 'DATABASE_URL' || k.startsWith('NODE_TEST')) continue;
    env[k] = v;
  }
  // Served answers are held to the operation table, as in the in-process test servers.
  env.STOCKADE_CONTRACT_CHECKS = '1';
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunResult extends Exit {
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

/** Collects a child's output until it exits; SIGKILLs it and rejects after `timeoutMs`. */
export function untilExit(child: ChildProcess, what: string, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what}: no exit within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs `stockade …args` to completion. */
export function runCli(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: opts.env ?? cliEnv(),
    cwd: opts.cwd ?? REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return untilExit(child, `stockade ${args.join(' ')}`, opts.timeoutMs ?? 20_000);
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` every `everyMs` until it returns a value other than undefined/false. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  opts: { timeoutMs: number; everyMs?: number },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 100));
  }
}

export interface Banner {
  url: string;
  /** `profile`, `data`, `database`, `account`, `access key`, `secret key`, `credentials`. */
  fields: Record<string, string>;
}

/** A running `stockade serve` child. */
export class ServeProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Every stdout line so far. */
  readonly lines: string[] = [];
  stderr = '';
  /** Set once the process has exited and its pipes closed. */
  exit: Exit | undefined;
  readonly exited: Promise<Exit>;
  #waiters: (() => void)[] = [];

  constructor(args: string[], opts: RunOptions = {}) {
    this.child = spawn(process.execPath, [CLI, 'serve', ...args], {
      // A server that fails to start prints the stack as well as the message.
      env: { STOCKADE_DEBUG: '1', ...(opts.env ?? cliEnv()) },
      cwd: opts.cwd ?? REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (this.child.pid === undefined) throw new Error('could not spawn stockade serve');
    this.pid = this.child.pid;
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      this.#notify();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.exit = { code, signal };
        this.#notify();
        resolve(this.exit);
      });
    });
  }

  #notify(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Resolves with the first stdout line matching `pred`; rejects if the process exits first. */
  async waitForLine(pred: (line: string) => boolean, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit !== undefined) return hit;
      if (this.exit) throw new Error(`stockade serve exited (${JSON.stringify(this.exit)}) first\n${this.output()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`stockade serve: expected line not printed within ${timeoutMs} ms\n${this.output()}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for the start-up banner (ends with the `credentials:` line) and parses it. */
  async banner(timeoutMs = 20_000): Promise<Banner> {
    await this.waitForLine((l) => /^\s+credentials:/.test(l), timeoutMs);
    const start = this.lines.findIndex((l) => l.startsWith('Stockade listening on '));
    if (start < 0) throw new Error(`no "Stockade listening on" line\n${this.output()}`);
    const url = this.lines[start]!.slice('Stockade listening on '.length).trim();
    const fields: Record<string, string> = {};
    for (const line of this.lines.slice(start + 1)) {
      const m = /^\s+([a-z ]+):\s+(.*)$/.exec(line);
      if (!m) break;
      fields[m[1]!] = m[2]!;
      if (m[1] === 'credentials') break;
    }
    return { url, fields };
  }

  output(): string {
    return `--- stdout ---\n${this.lines.join('\n')}\n--- stderr ---\n${this.stderr}`;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  /** Asks politely (SIGTERM), then SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<Exit> {
    if (!this.running) return this.exit!;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(t);
    }
  }
}
