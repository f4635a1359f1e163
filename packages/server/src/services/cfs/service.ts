/**
 * CFS's instance: its repository, the network catalogue, the NFS server (when `--nfs ganesha`),
 * and the hooks the platform calls.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_ACCESS_GROUP_NAME } from '@stockade/sdk';
import type { AppContext } from '../../context.js';
import type { ServiceHooks } from '../../platform/service.js';
import type { Executor } from '../../store/schema.js';
import { Ganesha, type Export } from './ganesha.js';
import { ganeshaClients } from './net.js';
import { CfsRepository } from './repository.js';
import { loadSettings, type Catalogue } from './settings.js';
import { MEASURE_KIND, measureKey } from './tasks.js';

/** How often the process serving NFS re-reads the exports (changes made through other processes). */
const RECONCILE_MS = 5000;

export class CfsService implements ServiceHooks {
  readonly repo: CfsRepository;
  readonly catalogue: Catalogue;
  readonly nfs: Ganesha | null;
  private reconcileTimer: NodeJS.Timeout | null = null;

  constructor(readonly app: AppContext) {
    this.repo = new CfsRepository(app.store);
    this.catalogue = loadSettings(app.config.cfsConfigFile, app.config.cfsSettings);
    this.nfs =
      app.config.nfs === 'ganesha'
        ? new Ganesha({ dir: path.join(app.config.dataDir, 'nfs'), host: app.config.nfsHost, port: app.config.nfsPort, logger: app.logger })
        : null;
  }

  get usageIntervalMs(): number {
    return this.catalogue.settings.usageIntervalSeconds * 1000;
  }

  /** What a client mounts: the NFS server's address (the host name when it listens on every address). */
  get domain(): string {
    const h = this.app.config.nfsHost;
    return h === '0.0.0.0' || h === '::' ? os.hostname() : h;
  }

  /** Every account has the default access group, whose one rule lets every address read and write. */
  async onAccountCreated(trx: Executor, account: { id: string }): Promise<void> {
    const now = this.app.clock.now();
    const created = await this.repo.insertGroup(trx, {
      account_id: account.id,
      name: DEFAULT_ACCESS_GROUP_NAME,
      description: '',
      next_rule_id: 2,
      created_at: now,
    });
    if (!created) return;
    await this.repo.insertRules(trx, [
      {
        account_id: account.id,
        group_name: DEFAULT_ACCESS_GROUP_NAME,
        id: 1,
        ip: '0.0.0.0',
        mask: 0,
        write_access: 'read_write',
        user_access: 'no_squash',
        priority: 100,
        created_at: now,
      },
    ]);
  }

  async afterReset(): Promise<void> {
    await this.exportsChanged();
  }

  async start(): Promise<void> {
    // Usage is measured in the background: one task per interval, however many processes run.
    const slot = Math.floor(this.app.clock.now() / this.usageIntervalMs);
    await this.app.runner.enqueue(MEASURE_KIND, { slot }, { dueAt: slot * this.usageIntervalMs, dedupeKey: measureKey(this.usageIntervalMs, slot) });
    this.app.runner.wake();
    if (!this.nfs) return;
    await this.nfs.start(() => this.exports());
    await this.exportsChanged(); // what changed while it started
    this.app.logger.info({ host: this.nfs.host, port: this.nfs.port, ms: Math.round(this.nfs.startMs) }, 'nfs-ganesha serves CFS file systems');
    this.reconcileTimer = setInterval(() => void this.exportsChanged(), RECONCILE_MS);
    this.reconcileTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    this.reconcileTimer = null;
    await this.nfs?.stop();
  }

  banner(): string[] {
    if (!this.nfs) return ['  nfs:          not served (--nfs ganesha serves CFS file systems over NFSv4)'];
    const where = `${this.nfs.host.includes(':') ? `[${this.nfs.host}]` : this.nfs.host}:${this.nfs.port}`;
    return [
      `  nfs:          NFSv4 on ${where} (nfs-ganesha, started in ${Math.round(this.nfs.startMs)} ms): ` +
        `mount -t nfs4 -o port=${this.nfs.port} ${this.domain}:/<fsId> <dir>`,
    ];
  }

  /**
   * Has the NFS server load the exports as the database has them now (no-op without NFS in this
   * process). A failure is logged: the change itself is committed, and the next change or the
   * periodic reconcile tries again.
   */
  async exportsChanged(): Promise<void> {
    if (!this.nfs?.running) return;
    try {
      await this.nfs.apply(() => this.exports());
    } catch (err) {
      this.app.logger.error({ err }, 'nfs-ganesha did not take the new exports');
    }
  }

  /**
   * One export per file system with a mount target: its mount targets' rules in order. A file
   * system holding as many bytes as its quota allows is exported read-only to everyone until it
   * holds fewer (NFS writes bypass Stockade, so this is how its quota holds).
   */
  async exports(): Promise<Export[]> {
    const out: Export[] = [];
    for (const s of await this.repo.exportSources()) {
      const full = s.quotaBytes > 0 && s.usedBytes >= s.quotaBytes;
      const dir = await this.ensureRoot(s.volumeId);
      out.push({
        fsId: s.fsId,
        path: dir,
        clients: s.mountTargets.flatMap((m) =>
          m.rules.map((r) => ({
            clients: ganeshaClients(r.ip, r.mask),
            access: full || r.write_access === 'read_only' ? ('RO' as const) : ('RW' as const),
            squash: r.user_access === 'all_squash' ? ('All_Squash' as const) : r.user_access === 'root_squash' ? ('Root_Squash' as const) : ('No_Root_Squash' as const),
          })),
        ),
      });
    }
    return out;
  }

  /**
   * A file system's root directory: made writable by every user (as on a fresh NAS), squashed ones
   * included, when it is made; once it exists its mode is its owner's business (a client may chmod it).
   */
  async ensureRoot(volumeId: string): Promise<string> {
    const dir = this.app.volumes.dirOf(volumeId);
    if ((await fsp.mkdir(dir, { recursive: true })) !== undefined) await fsp.chmod(dir, 0o777);
    return dir;
  }

  /** NFS clients ganesha knows (address), for QueryMountedClients; none without NFS in this process. */
  async nfsClients(): Promise<string[]> {
    return this.nfs?.running ? this.nfs.clients() : [];
  }

  /** Walks every file system's volume and records its usage; re-exports when a quota's state changed. */
  async measureAll(signal?: AbortSignal): Promise<number> {
    const ids = await this.repo.allVolumeIds();
    for (const id of ids) {
      if (signal?.aborted) break;
      // Everything counts: CFS writes no file through Stockade, so `.stockade-tmp` is a client's too.
      await this.app.volumes.measure(id, { countTemp: true });
    }
    return ids.length;
  }
}
