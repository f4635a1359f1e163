/** Server configuration: command-line flags over environment variables over defaults. */
import { resolve } from 'node:path';

export type Profile = 'dev' | 'secure';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** PostgreSQL URL; SQLite in `dataDir` when absent. */
  databaseUrl?: string;
  /** PostgreSQL schema to use (tests give each file its own). */
  databaseSchema?: string;
  profile: Profile;
  /**
   * Host names (besides loopback) under which the test controls (`/_stockade/…`) answer, and
   * whose origins may call them: a guard against DNS rebinding. Lower case, without port.
   */
  allowedHosts: string[];
  /** Regions the S3 API serves: a SigV4 credential scope must name one; the first is named in errors. */
  s3Regions: string[];
  /**
   * The web console's built files (`packages/console/dist`), served at `/console/`. Absent: found
   * beside this program on the first request (gateway/console.ts).
   */
  consoleDir?: string;
  /** Reject unknown request body fields instead of ignoring them. */
  strict: boolean;
  /** `box=delay:3000,export=immediate` */
  transitions?: string;
  /** JSON file `{ "transitions": { "box": "delay:3000" } }` */
  transitionsFile?: string;
  logLevel: string;
  /** Datafence: live boxes a fence may hold (create-box answers 2600011 beyond). */
  boxLimit: number;
  /** Datafence: distinct reviewers who must approve an export before it is released (`--export-approvals`). */
  exportApprovals: number;
  /**
   * Datafence: JSON file of per-fence export policies (`--export-policy`):
   * `{ "default": { "allowedExtensions": [".csv"], "maxSizeBytes": 1048576 }, "fences": { "3": { … } } }`.
   */
  exportPolicyFile?: string;
  /** Export policies given directly (tests), over those of the file; same shape. */
  exportPolicy?: Record<string, unknown>;
  /**
   * Datafence: the import security check (`--import-scan-command`): run with the path of the file
   * as its last argument before the file lands on the box NAS; exit status 0 admits it, any
   * other refuses it (ERROR_SECURITY). When absent, the built-in check refuses the EICAR test
   * signature and the extensions of `importBlockedExtensions`.
   */
  importScanCommand?: string;
  /** Datafence: file extensions the built-in import check refuses (`--import-blocked-extensions`). */
  importBlockedExtensions: string[];
  /** Largest JSON request body, bytes. */
  bodyLimit: number;
  taskLeaseMs: number;
  taskPollMs: number;
  /**
   * Tests: every error a handler raises must be one its operation declares, and every success body
   * must match its response schema; a violation answers 500 and is recorded (gateway/contract.ts).
   */
  contractChecks: boolean;
  /**
   * Where volumes (CFS file systems, box NAS) live; default `<dataDir>/volumes`. With several
   * processes on one database, every process must name the same shared directory.
   */
  volumesDir?: string;
  /**
   * NFS server for CFS file systems: `none`, or `ganesha` (nfs-ganesha as a child process, NFSv4
   * only; needs root). Each mount target's file system is exported at `/{fsId}`.
   */
  nfs: NfsServer;
  /** Address nfs-ganesha listens on (default 127.0.0.1: loopback only). */
  nfsHost: string;
  /** Port nfs-ganesha listens on (2049); 0 = a free port chosen at start-up. */
  nfsPort: number;
  /** CFS settings (JSON file): zones, VPCs and subnets, file systems per account, usage interval. See README. */
  cfsConfigFile?: string;
  /** CFS settings given directly (tests), over those of the file. */
  cfsSettings?: Record<string, unknown>;
  /** Data Flow engine settings (memory per worker, threads, timeout unit); see services/dataflow/service.ts. */
  dataflowSettings?: Record<string, unknown>;
  /** Data Flow: what a trigger firing that ran late does: `once` (default, one catch-up run) or `skip`. */
  missedFirings?: 'once' | 'skip';
  /** Where object content goes: `local` (`<dataDir>/blobs`) or an external S3-compatible bucket. Volumes stay local. */
  blobBackend: BlobBackend;
  /** `s3` backend: endpoint URL (path-style addressing is used). */
  blobS3Endpoint?: string;
  blobS3Bucket?: string;
  /** `s3` backend: signing region (`us-east-1`). */
  blobS3Region?: string;
  /** `s3` backend: key prefix inside the bucket (a `/` is appended when missing). */
  blobS3Prefix?: string;
  /** `s3` backend credentials; the AWS SDK's default chain (AWS_* variables, ~/.aws) when absent. */
  blobS3AccessKeyId?: string;
  blobS3SecretAccessKey?: string;
}

export type BlobBackend = 'local' | 's3';
export type NfsServer = 'none' | 'ganesha';
/** The standard NFS port. */
export const DEFAULT_NFS_PORT = 2049;

export const DEFAULT_PORT = 4580;
/** Live boxes per Datafence unless `--box-limit` says otherwise. */
export const DEFAULT_BOX_LIMIT = 10;
/** Extensions the built-in import check refuses unless `--import-blocked-extensions` says otherwise: executables and scripts. */
export const DEFAULT_IMPORT_BLOCKED_EXTENSIONS = ['.exe', '.dll', '.com', '.scr', '.bat', '.cmd', '.msi', '.ps1', '.vbs', '.jar'];
/** The region the S3 API serves unless told otherwise (the AWS SDKs' usual default). */
export const DEFAULT_S3_REGION = 'us-east-1';

/** `a, b,,c` → `['a', 'b', 'c']`. */
export function parseList(s: string): string[] {
  return s.split(',').map((x) => x.trim()).filter((x) => x !== '');
}

export function defaultConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: env.STOCKADE_PORT ? Number(env.STOCKADE_PORT) : DEFAULT_PORT,
    host: env.STOCKADE_HOST ?? '127.0.0.1',
    dataDir: resolve(env.STOCKADE_DATA ?? '.stockade'),
    databaseUrl: env.DATABASE_URL || undefined,
    databaseSchema: env.STOCKADE_DATABASE_SCHEMA || undefined,
    profile: env.STOCKADE_PROFILE === 'secure' ? 'secure' : 'dev',
    allowedHosts: parseList(env.STOCKADE_ALLOWED_HOSTS ?? '').map((h) => h.toLowerCase()),
    s3Regions: env.STOCKADE_S3_REGION ? parseList(env.STOCKADE_S3_REGION) : [DEFAULT_S3_REGION],
    consoleDir: env.STOCKADE_CONSOLE_DIR ? resolve(env.STOCKADE_CONSOLE_DIR) : undefined,
    strict: env.STOCKADE_STRICT === '1' || env.STOCKADE_STRICT === 'true',
    transitions: env.STOCKADE_TRANSITIONS,
    logLevel: env.STOCKADE_LOG_LEVEL ?? 'info',
    boxLimit: env.STOCKADE_BOX_LIMIT ? Number(env.STOCKADE_BOX_LIMIT) : DEFAULT_BOX_LIMIT,
    exportApprovals: env.STOCKADE_EXPORT_APPROVALS ? Number(env.STOCKADE_EXPORT_APPROVALS) : 1,
    exportPolicyFile: env.STOCKADE_EXPORT_POLICY ? resolve(env.STOCKADE_EXPORT_POLICY) : undefined,
    importScanCommand: env.STOCKADE_IMPORT_SCAN_COMMAND || undefined,
    importBlockedExtensions: env.STOCKADE_IMPORT_BLOCKED_EXTENSIONS
      ? parseList(env.STOCKADE_IMPORT_BLOCKED_EXTENSIONS).map((x) => x.toLowerCase())
      : [...DEFAULT_IMPORT_BLOCKED_EXTENSIONS],
    bodyLimit: 10 * 1024 * 1024,
    missedFirings: env.STOCKADE_MISSED_FIRINGS === 'skip' ? 'skip' : 'once',
    taskLeaseMs: env.STOCKADE_TASK_LEASE_MS ? Number(env.STOCKADE_TASK_LEASE_MS) : 30_000,
    taskPollMs: 250,
    contractChecks: env.STOCKADE_CONTRACT_CHECKS === '1',
    volumesDir: env.STOCKADE_VOLUMES_DIR ? resolve(env.STOCKADE_VOLUMES_DIR) : undefined,
    nfs: env.STOCKADE_NFS === 'ganesha' ? 'ganesha' : 'none',
    nfsHost: env.STOCKADE_NFS_HOST || '127.0.0.1',
    nfsPort: env.STOCKADE_NFS_PORT ? Number(env.STOCKADE_NFS_PORT) : DEFAULT_NFS_PORT,
    cfsConfigFile: env.STOCKADE_CFS_CONFIG ? resolve(env.STOCKADE_CFS_CONFIG) : undefined,
    blobBackend: env.STOCKADE_BLOB_BACKEND === 's3' ? 's3' : 'local',
    blobS3Endpoint: env.STOCKADE_BLOB_S3_ENDPOINT || undefined,
    blobS3Bucket: env.STOCKADE_BLOB_S3_BUCKET || undefined,
    blobS3Region: env.STOCKADE_BLOB_S3_REGION || undefined,
    blobS3Prefix: env.STOCKADE_BLOB_S3_PREFIX || undefined,
    blobS3AccessKeyId: env.STOCKADE_BLOB_S3_ACCESS_KEY_ID || undefined,
    blobS3SecretAccessKey: env.STOCKADE_BLOB_S3_SECRET_ACCESS_KEY || undefined,
  };
}
