#!/usr/bin/env node
/**
 * The `stockade` command: serve, keys, accounts, fences, box, audit, coverage, and the Object Storage
 * commands cp, ls, mb, rb (cli/s3.ts).
 * Errors in the command line print one clear line and exit non-zero.
 */
import type { ParseArgsConfig } from 'node:util';
import { parseCommandLine, UsageError } from './args.js';
import { ROLES, type Role } from '@stockade/sdk';
import { defaultConfig, parseList, type Config } from '../config.js';
import { coverageMarkdown, coverageText } from '../coverage.js';


const USAGE = `usage: stockade <command> [options]

commands:
  serve      run the server (default)
               --port N (4580) --host H (127.0.0.1) --data DIR (./.stockade)
               --database postgres://… (or DATABASE_URL; SQLite in DIR otherwise)
               --profile dev|secure (dev) --strict --transitions box=delay:3000,…
               --transitions-file F --log-level info
               --allowed-hosts a,b (host names besides loopback for the test controls)
               --box-limit N (10: live boxes per Datafence)
               --export-approvals N (1: distinct reviewers who must approve a Datafence export)
               --export-policy FILE (per-fence export policy: allowed extensions, maximum size)
               --import-scan-command CMD (import security check: CMD FILE, exit 0 admits)
               --import-blocked-extensions .exe,.dll,… (built-in import check, without a scan command)
               --s3-region R[,R2…] (us-east-1: regions the S3 API serves)
               --blob-backend local|s3 (local) --blob-s3-endpoint URL --blob-s3-bucket NAME
               --blob-s3-region R --blob-s3-prefix P
               --blob-s3-access-key-id ID --blob-s3-secret-access-key KEY
               --nfs none|ganesha (none: ganesha serves CFS file systems over NFSv4; needs root)
               --nfs-host H (127.0.0.1) --nfs-port N (2049; 0 = a free port)
               --cfs-config FILE (CFS zones, VPCs, subnets, file systems per account; see README)
               --missed-firings once|skip (once: a Data Flow trigger firing missed while the
                 server was down runs once, late, for all the due times missed; skip: not at all)
  keys       create --role owner|fence-admin|box-user [--account ID] [--user NAME]
                    [--box ID …]   (box-user: the key sees only these boxes)
             list [--account ID]
             revoke ACCESS_KEY_ID
  accounts   create NAME | list
  fences     create NAME [--account ID] [--description TEXT] | list [--account ID]
  connections create --type postgresql|mysql --url URL [--account ID] | list [--account ID]
             database connections for Data Flow's CDB nodes (the password is sealed)
  catalog    add --db DB --table T --fields NAME:TYPE,… [--account ID] | list [--account ID]
             Data Flow's built-in Data Catalog: each add is the table's next schema version
  box        exec --box ID -- CMD [ARG…]   run a command inside the box (bubblewrap sandbox over its
                                         NAS; no network while the box's external network is blocked)
             shell --box ID                an interactive shell inside the box
  audit      verify [--json]   walk the audit hash chain: exit 0 when intact, else 1 and one line per problem
             list [--json] [--account ID] [--resource PREFIX] [--fence ID] [--action A]
                  [--since TIME] [--until TIME] [--limit N]   (--limit: the N newest)
  coverage   [--markdown]   every operation of the four services and its state

Object Storage (S3) client, against --endpoint URL (STOCKADE_ENDPOINT, http://127.0.0.1:4580):
  cp         LOCAL s3://BUCKET/KEY | s3://BUCKET/KEY LOCAL   (- for stdin/stdout) [--no-progress]
  ls         [s3://BUCKET[/PREFIX]] [--recursive]
  mb         s3://BUCKET
  rb         s3://BUCKET [--force]   (--force deletes the bucket's objects first)
             credentials: --credentials FILE, else STOCKADE_ACCESS_KEY_ID/STOCKADE_SECRET_ACCESS_KEY,
             else <--data DIR>/credentials.json; --region R (us-east-1)

keys, accounts, fences, box and audit act on the database given by --data / --database
(audit verify needs the server's master key: STOCKADE_MASTER_KEY or <data>/master.key).`;

const common = {
  data: { type: 'string' },
  database: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  return parseCommandLine(args, common, options);
}

function configFrom(values: Record<string, unknown>): Config {
  const config = defaultConfig();
  if (typeof values.data === 'string') config.dataDir = values.data;
  if (typeof values.database === 'string') config.databaseUrl = values.database;
  if (config.databaseUrl && !/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    throw new UsageError(`--database must be a postgres:// URL, got ${JSON.stringify(config.databaseUrl)}`);
  }
  return config;
}

async function serve(args: string[]): Promise<void> {
  const { values } = parse(args, {
    port: { type: 'string' },
    host: { type: 'string' },
    profile: { type: 'string' },
    strict: { type: 'boolean' },
    transitions: { type: 'string' },
    'transitions-file': { type: 'string' },
    'log-level': { type: 'string' },
    'allowed-hosts': { type: 'string' },
    'box-limit': { type: 'string' },
    'export-approvals': { type: 'string' },
    'export-policy': { type: 'string' },
    'import-scan-command': { type: 'string' },
    'import-blocked-extensions': { type: 'string' },
    's3-region': { type: 'string' },
    'blob-backend': { type: 'string' },
    'blob-s3-endpoint': { type: 'string' },
    'blob-s3-bucket': { type: 'string' },
    'blob-s3-region': { type: 'string' },
    'blob-s3-prefix': { type: 'string' },
    'blob-s3-access-key-id': { type: 'string' },
    'blob-s3-secret-access-key': { type: 'string' },
    nfs: { type: 'string' },
    'nfs-host': { type: 'string' },
    'nfs-port': { type: 'string' },
    'cfs-config': { type: 'string' },
    'missed-firings': { type: 'string' },
  });
  const config = configFrom(values);
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0..65535, got ${values.port}`);
    config.port = port;
  }
  if (values.host) config.host = values.host;
  if (values.profile !== undefined) {
    if (values.profile !== 'dev' && values.profile !== 'secure') throw new UsageError(`--profile must be dev or secure, got ${values.profile}`);
    config.profile = values.profile;
  }
  if (values.strict) config.strict = true;
  if (values.transitions) config.transitions = values.transitions;
  if (values['transitions-file']) config.transitionsFile = values['transitions-file'];
  if (values['log-level']) config.logLevel = values['log-level'];
  if (values['allowed-hosts'] !== undefined) config.allowedHosts = parseList(values['allowed-hosts']).map((h) => h.toLowerCase());
  for (const h of config.allowedHosts) {
    if (!/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/.test(h)) throw new UsageError(`--allowed-hosts takes host names without ports, got ${JSON.stringify(h)}`);
  }
  if (values['missed-firings'] !== undefined) {
    const m = values['missed-firings'];
    if (m !== 'once' && m !== 'skip') throw new UsageError(`--missed-firings must be once or skip, got ${m}`);
    config.missedFirings = m;
  }
  if (values['box-limit'] !== undefined) config.boxLimit = positiveInt('box-limit', values['box-limit']);
  if (!Number.isSafeInteger(config.boxLimit) || config.boxLimit < 1) throw new UsageError(`--box-limit must be a positive integer, got ${config.boxLimit}`);
  if (values['export-approvals'] !== undefined) config.exportApprovals = positiveInt('export-approvals', values['export-approvals']);
  if (!Number.isSafeInteger(config.exportApprovals) || config.exportApprovals < 1) {
    throw new UsageError(`--export-approvals must be a positive integer, got ${config.exportApprovals}`);
  }
  if (values['export-policy'] !== undefined) config.exportPolicyFile = values['export-policy'];
  if (values['import-scan-command'] !== undefined) config.importScanCommand = values['import-scan-command'];
  if (values['import-blocked-extensions'] !== undefined) {
    config.importBlockedExtensions = parseList(values['import-blocked-extensions']).map((x) => x.toLowerCase());
  }
  if (values['s3-region'] !== undefined) config.s3Regions = parseList(values['s3-region']);
  if (config.s3Regions.length === 0) throw new UsageError('--s3-region needs at least one region');
  for (const r of config.s3Regions) {
    if (!/^[a-z0-9-]{1,64}$/.test(r)) throw new UsageError(`--s3-region takes region names such as us-east-1, got ${JSON.stringify(r)}`);
  }
  blobBackendFrom(values, config);
  nfsFrom(values, config);
  // Validate transitions before touching the database, so a typo is one clear line.
  const { parseTransitions, loadTransitionsFile } = await import('../tasks/lifecycle.js');
  try {
    if (config.transitions) parseTransitions(config.transitions);
    if (config.transitionsFile) loadTransitionsFile(config.transitionsFile);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (config.exportPolicyFile) {
    const { loadPolicyFile, parsePolicies } = await import('../services/datafence/airlock.js');
    try {
      parsePolicies(loadPolicyFile(config.exportPolicyFile), config.exportPolicyFile);
    } catch (e) {
      throw new UsageError(`--export-policy: ${(e as Error).message}`);
    }
  }

  const { startApp } = await import('../app.js');
  const app = await startApp(config);
  // Handlers before the banner: whoever reads the banner may signal at once, and a SIGTERM that
  // finds no handler kills the process without closing it.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting now\n`);
      process.exit(130);
    }
    stopping = true;
    app.ctx.logger.info({ signal }, 'shutting down: finishing in-flight requests');
    app.close().then(
      () => process.exit(0),
      (e: unknown) => {
        app.ctx.logger.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  const c = app.boot.credentials;
  const lines = [
    `Stockade listening on ${app.url}`,
    `  profile:      ${config.profile}${config.strict ? ' (strict)' : ''}`,
    `  console:      ${app.url}/console/  (sign in with the access key below)`,
    `  data:         ${config.dataDir}`,
    ...(config.blobBackend === 's3'
      ? [`  content:      s3 ${config.blobS3Endpoint} bucket ${config.blobS3Bucket}${config.blobS3Prefix ? ` prefix ${config.blobS3Prefix}` : ''}`]
      : []),
    `  database:     ${config.databaseUrl ? config.databaseUrl.replace(/\/\/[^@/]*@/, '//***@') : 'sqlite ' + config.dataDir + '/stockade.db'}`,
    ...app.platform.services.flatMap((s) => s.instance.banner?.() ?? []),
    c
      ? `  account:      ${c.accountId}\n  access key:   ${c.accessKeyId}\n  secret key:   ${c.secretAccessKey}\n  credentials:  ${app.boot.credentialsFile}`
      : `  credentials:  (see ${app.boot.credentialsFile} or use \`stockade keys create\`)`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

/** `--nfs`, `--nfs-host`, `--nfs-port`, `--cfs-config` over their STOCKADE_* variables. */
function nfsFrom(values: Record<string, unknown>, config: Config): void {
  const str = (flag: string): string | undefined => (typeof values[flag] === 'string' ? values[flag] : undefined);
  const nfs = str('nfs') ?? process.env.STOCKADE_NFS ?? 'none';
  if (nfs !== 'none' && nfs !== 'ganesha') throw new UsageError(`--nfs must be none or ganesha, got ${nfs}`);
  config.nfs = nfs;
  const host = str('nfs-host');
  if (host !== undefined) {
    if (!/^[0-9a-fA-F:.]+$/.test(host)) throw new UsageError(`--nfs-host takes an IP address, got ${JSON.stringify(host)}`);
    config.nfsHost = host;
  }
  const port = str('nfs-port');
  if (port !== undefined) config.nfsPort = Number(port);
  if (!Number.isInteger(config.nfsPort) || config.nfsPort < 0 || config.nfsPort > 65535) {
    throw new UsageError(`--nfs-port must be 0..65535, got ${port ?? process.env.STOCKADE_NFS_PORT}`);
  }
  const file = str('cfs-config');
  if (file !== undefined) config.cfsConfigFile = file;
}

/** `--blob-*` flags over `STOCKADE_BLOB_*` variables; an s3 backend needs an endpoint and a bucket. */
function blobBackendFrom(values: Record<string, unknown>, config: Config): void {
  const str = (flag: string): string | undefined => (typeof values[flag] === 'string' ? values[flag] : undefined);
  const backend = str('blob-backend') ?? process.env.STOCKADE_BLOB_BACKEND ?? 'local';
  if (backend !== 'local' && backend !== 's3') throw new UsageError(`--blob-backend must be local or s3, got ${backend}`);
  config.blobBackend = backend;
  config.blobS3Endpoint = str('blob-s3-endpoint') ?? config.blobS3Endpoint;
  config.blobS3Bucket = str('blob-s3-bucket') ?? config.blobS3Bucket;
  config.blobS3Region = str('blob-s3-region') ?? config.blobS3Region;
  config.blobS3Prefix = str('blob-s3-prefix') ?? config.blobS3Prefix;
  config.blobS3AccessKeyId = str('blob-s3-access-key-id') ?? config.blobS3AccessKeyId;
  config.blobS3SecretAccessKey = str('blob-s3-secret-access-key') ?? config.blobS3SecretAccessKey;
  if (backend !== 's3') return;
  if (!config.blobS3Endpoint) throw new UsageError('--blob-backend s3 needs --blob-s3-endpoint URL (or STOCKADE_BLOB_S3_ENDPOINT)');
  if (!config.blobS3Bucket) throw new UsageError('--blob-backend s3 needs --blob-s3-bucket NAME (or STOCKADE_BLOB_S3_BUCKET)');
  let url: URL;
  try {
    url = new URL(config.blobS3Endpoint);
  } catch {
    throw new UsageError(`--blob-s3-endpoint must be an http(s) URL, got ${JSON.stringify(config.blobS3Endpoint)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--blob-s3-endpoint must be an http(s) URL, got ${JSON.stringify(config.blobS3Endpoint)}`);
  }
  if (Boolean(config.blobS3AccessKeyId) !== Boolean(config.blobS3SecretAccessKey)) {
    throw new UsageError('--blob-s3-access-key-id and --blob-s3-secret-access-key go together');
  }
}

/** Open the database for a management command, run `fn`, close. */
async function withStore<T>(values: Record<string, unknown>, fn: (ctx: import('../admin.js').AdminContext) => Promise<T>): Promise<T> {
  const { openAdmin } = await import('../admin.js');
  const admin = await openAdmin(configFrom(values));
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${flag} must be a positive integer, got ${v}`);
  return n;
}

function needRole(v: unknown): Role {
  if (typeof v !== 'string' || !ROLES.includes(v as Role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
  return v as Role;
}

async function keys(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, {
    role: { type: 'string' },
    account: { type: 'string' },
    user: { type: 'string' },
    box: { type: 'string', multiple: true },
  });
  if (sub !== 'create' && sub !== 'list' && sub !== 'revoke') throw new UsageError('usage: stockade keys create|list|revoke');
  // Check the command line before touching the database.
  const role = sub === 'create' ? needRole(values.role) : undefined;
  const boxes = (values.box ?? []).map((b) => positiveInt('box', b));
  if (boxes.length > 0 && role !== 'box-user') throw new UsageError('--box binds box-user keys: use it with --role box-user');
  await withStore(values, async (a) => {
    if (role) {
      const k = await a.createKey({ role, accountId: values.account, userName: values.user, boxes });
      process.stdout.write(JSON.stringify(k, null, 2) + '\n');
    } else if (sub === 'list') {
      for (const k of await a.iam.listKeys(values.account)) {
        process.stdout.write(`${k.accessKeyId}  account=${k.accountId}  user=${k.userName}  role=${k.role}  ${k.status}\n`);
      }
    } else if (sub === 'revoke') {
      const id = positionals[0];
      if (!id) throw new UsageError('usage: stockade keys revoke ACCESS_KEY_ID');
      if (!(await a.iam.revokeKey(id))) throw new UsageError(`no active access key ${id}`);
      process.stdout.write(`revoked ${id}\n`);
    }
  });
}

async function accounts(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, {});
  await withStore(values, async (a) => {
    if (sub === 'create') {
      const name = positionals[0];
      if (!name) throw new UsageError('usage: stockade accounts create NAME');
      process.stdout.write(JSON.stringify(await a.createAccount(name), null, 2) + '\n');
    } else if (sub === 'list') {
      for (const acc of await a.iam.listAccounts()) process.stdout.write(`${acc.id}  ${acc.name}\n`);
    } else throw new UsageError('usage: stockade accounts create NAME | list');
  });
}

async function fences(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, { account: { type: 'string' }, description: { type: 'string' } });
  await withStore(values, async (a) => {
    if (sub === 'create') {
      const name = positionals[0];
      if (!name) throw new UsageError('usage: stockade fences create NAME [--account ID]');
      const f = await a.createFence(name, values.account, values.description);
      process.stdout.write(JSON.stringify({ fenceId: f.id, fenceName: f.name, accountId: f.account_id }, null, 2) + '\n');
    } else if (sub === 'list') {
      for (const f of await a.listFences(values.account)) process.stdout.write(`${f.id}  ${f.name}  account=${f.account_id}\n`);
    } else throw new UsageError('usage: stockade fences create NAME | list');
  });
}

/** `connections create|list`: database connections Data Flow's SOURCE_/TARGET_CDB_* nodes name. */
async function connections(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values } = parse(rest, { account: { type: 'string' }, type: { type: 'string' }, url: { type: 'string' } });
  await withStore(values, async (a) => {
    const account = values.account ?? (await a.iam.listAccounts())[0]?.id;
    if (!account) throw new UsageError('no account yet: start the server once, or run `stockade accounts create NAME`');
    if (values.account && !(await a.iam.getAccount(values.account))) throw new UsageError(`no account ${values.account}`);
    const api = a.platform.ctx.api('dataflow');
    if (sub === 'create') {
      if (!values.type || !values.url) throw new UsageError('usage: stockade connections create --type postgresql|mysql --url URL [--account ID]');
      const c = await api.createConnection(account, { type: values.type, url: values.url });
      process.stdout.write(JSON.stringify(c, null, 2) + '\n');
    } else if (sub === 'list') {
      for (const c of await api.listConnections(account)) process.stdout.write(`${c.connectionId}  ${c.type}  ${c.url}\n`);
    } else throw new UsageError('usage: stockade connections create --type postgresql|mysql --url URL | list');
  });
}

/** `catalog add|list`: schema versions of Data Flow's built-in Data Catalog tables. */
async function catalog(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values } = parse(rest, { account: { type: 'string' }, db: { type: 'string' }, table: { type: 'string' }, fields: { type: 'string' } });
  await withStore(values, async (a) => {
    const account = values.account ?? (await a.iam.listAccounts())[0]?.id;
    if (!account) throw new UsageError('no account yet: start the server once, or run `stockade accounts create NAME`');
    if (values.account && !(await a.iam.getAccount(values.account))) throw new UsageError(`no account ${values.account}`);
    const api = a.platform.ctx.api('dataflow');
    if (sub === 'add') {
      // `--db`: `--database` is the server's database URL.
      if (!values.db || !values.table || !values.fields) {
        throw new UsageError('usage: stockade catalog add --db DB --table T --fields NAME:TYPE,… [--account ID]');
      }
      const fieldList = values.fields.split(',').map((f) => {
        const [name, type, ...more] = f.split(':');
        if (!name || !type || more.length) throw new UsageError(`--fields: NAME:TYPE pairs separated by commas, got ${JSON.stringify(f)}`);
        return { name, type };
      });
      const v = await api.addCatalogVersion(account, { database: values.db, table: values.table, fieldList });
      process.stdout.write(JSON.stringify(v, null, 2) + '\n');
    } else if (sub === 'list') {
      for (const v of await api.listCatalog(account)) {
        process.stdout.write(`${v.database}.${v.table}  version ${v.schemaVersion}  ${v.fieldList.map((f) => `${f.name}:${f.type}`).join(',')}  ${v.location}\n`);
      }
    } else throw new UsageError('usage: stockade catalog add --db DB --table T --fields NAME:TYPE,… | list');
  });
}

/** `box exec --box ID -- CMD…` and `box shell --box ID`: sessions inside a box (services/datafence/sandbox.ts). */
async function box(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'exec' && sub !== 'shell') throw new UsageError('usage: stockade box exec --box ID -- CMD [ARG…] | box shell --box ID');
  const { values, positionals } = parse(rest, { box: { type: 'string' } });
  if (values.box === undefined) throw new UsageError(`usage: stockade box ${sub} --box ID${sub === 'exec' ? ' -- CMD [ARG…]' : ''}`);
  const boxId = positiveInt('box', values.box);
  if (sub === 'exec' && positionals.length === 0) throw new UsageError('usage: stockade box exec --box ID -- CMD [ARG…]');
  if (sub === 'shell' && positionals.length > 0) throw new UsageError('usage: stockade box shell --box ID (no command: use box exec)');
  // A session that cannot start (no bubblewrap, no such box, box not in USE) is one `stockade:` line, exit 1.
  const r = await withStore(values, (a) =>
    a.platform.ctx.api('datafence').runBoxSession({ boxId, command: positionals, interactive: sub === 'shell' }),
  );
  process.exitCode = r.exitCode;
}

/** Writes to stdout, waiting when the pipe is full (long listings). */
async function out(text: string): Promise<void> {
  if (!process.stdout.write(text)) await new Promise<void>((resolve) => process.stdout.once('drain', () => resolve()));
}

function nonNegativeInt(flag: string, v: string | undefined, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`--${flag} must be an integer of at least ${min}, got ${v}`);
  return n;
}

function timeFlag(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isSafeInteger(n)) throw new UsageError(`--${flag} must be an ISO 8601 time or milliseconds since the epoch, got ${v}`);
  return n;
}

function auditLine(e: import('../store/audit.js').AuditEntry): string {
  const parts = [
    String(e.seq),
    new Date(e.at).toISOString(),
    e.action,
    e.resource,
    `account=${e.accountId ?? '-'}`,
    `user=${e.userName ?? '-'}${e.userId ? `(${e.userId})` : ''}`,
    `key=${e.accessKeyId}`,
    `from=${e.clientAddress ?? '-'}`,
  ];
  if (e.fenceId !== null) parts.push(`fence=${e.fenceId}`);
  if (e.requestId !== null) parts.push(`request=${e.requestId}`);
  if (e.detail !== null) parts.push(`detail=${JSON.stringify(e.detail)}`);
  return parts.join('  ');
}

async function audit(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { openAudit } = await import('../admin.js');
  if (sub === 'verify') {
    const { values, positionals } = parse(rest, { json: { type: 'boolean' } });
    if (positionals.length > 0) throw new UsageError('usage: stockade audit verify [--json]');
    const a = await openAudit(configFrom(values), { verify: true });
    let report: import('../store/audit.js').AuditReport;
    try {
      report = await a.log!.verify(a.store.db);
    } finally {
      await a.close();
    }
    if (values.json) await out(JSON.stringify(report, null, 2) + '\n');
    else if (report.ok) {
      const h = report.head;
      await out(`audit chain intact: ${report.count} events; head ${h ? `seq ${h.seq} hash ${h.hash}` : 'none'}\n`);
    } else {
      for (const p of report.problems) await out(p.message + '\n');
    }
    if (!report.ok) {
      process.stderr.write(`stockade: audit chain broken: ${report.problems.length} problem(s) in ${report.count} events\n`);
      if (report.count > 0 && report.authentic === 0) {
        process.stderr.write('stockade: no event verifies under this master key: is it the server\'s (STOCKADE_MASTER_KEY, <data>/master.key)?\n');
      }
      process.exitCode = 1;
    }
    return;
  }
  if (sub !== 'list') throw new UsageError('usage: stockade audit verify | list');
  const { values, positionals } = parse(rest, {
    json: { type: 'boolean' },
    account: { type: 'string' },
    resource: { type: 'string' },
    fence: { type: 'string' },
    action: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    limit: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const filter = {
    accountId: values.account,
    resource: values.resource,
    fenceId: nonNegativeInt('fence', values.fence),
    action: values.action,
    since: timeFlag('since', values.since),
    until: timeFlag('until', values.until),
  };
  const limit = nonNegativeInt('limit', values.limit, 1);
  const a = await openAudit(configFrom(values), { verify: false });
  try {
    const { listAuditEvents, MAX_LIST_LIMIT } = await import('../store/audit.js');
    let first = true;
    const emit = async (e: import('../store/audit.js').AuditEntry) => {
      if (values.json) {
        await out(`${first ? '[\n' : ',\n'}${JSON.stringify(e)}`);
      } else {
        await out(auditLine(e) + '\n');
      }
      first = false;
    };
    if (limit !== undefined) {
      // The newest `limit` events, printed oldest first.
      const newest: import('../store/audit.js').AuditEntry[] = [];
      let before: number | undefined;
      while (newest.length < limit) {
        const page = await listAuditEvents(a.store.db, { ...filter, order: 'desc', before, limit: Math.min(MAX_LIST_LIMIT, limit - newest.length) });
        newest.push(...page);
        if (page.length === 0) break;
        before = page[page.length - 1]!.seq;
      }
      for (const e of newest.reverse()) await emit(e);
    } else {
      let after: number | undefined;
      for (;;) {
        const page = await listAuditEvents(a.store.db, { ...filter, after, limit: MAX_LIST_LIMIT });
        for (const e of page) await emit(e);
        if (page.length < MAX_LIST_LIMIT) break;
        after = page[page.length - 1]!.seq;
      }
    }
    if (values.json) await out(first ? '[]\n' : '\n]\n');
  } finally {
    await a.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const [cmd = 'serve', ...rest] = argv;
  // Flags after `--` belong to the command `box exec` runs.
  const own = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  if (cmd === '-h' || cmd === '--help' || cmd === 'help' || own.includes('--help') || own.includes('-h')) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  switch (cmd) {
    case 'serve':
      return serve(rest);
    case 'keys':
      return keys(rest);
    case 'accounts':
      return accounts(rest);
    case 'fences':
      return fences(rest);
    case 'box':
      return box(rest);
    case 'connections':
      return connections(rest);
    case 'catalog':
      return catalog(rest);
    case 'audit':
      return audit(rest);
    case 'cp':
    case 'ls':
    case 'mb':
    case 'rb': {
      // Loaded on use: `serve` never pays for the AWS SDK.
      const { s3Command } = await import('./s3.js');
      return s3Command(cmd, rest);
    }
    case 'coverage': {
      const { values } = parse(rest, { markdown: { type: 'boolean' } });
      process.stdout.write(values.markdown ? coverageMarkdown() : coverageText());
      return;
    }
    default:
      if (cmd.startsWith('-')) return serve(argv);
      throw new UsageError(`unknown command ${JSON.stringify(cmd)}; try \`stockade --help\``);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`stockade: ${msg.split('\n')[0]}\n`);
  // STOCKADE_DEBUG=1: where it came from too (the test suite sets it for the servers it starts).
  if (process.env.STOCKADE_DEBUG === '1' && e instanceof Error && !(e instanceof UsageError)) process.stderr.write(`${e.stack ?? ''}\n`);
  process.exit(e instanceof UsageError ? 2 : 1);
});
