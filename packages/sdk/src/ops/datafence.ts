/**
 * NAVER Cloud Datafence: 37 operations (../shared/spec/datafence.md §3–§4).
 * Base path `/api/v1`; GET takes query parameters, POST/PATCH a JSON body, DELETE the query.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { op, IntOrString, MAX_ID, type DocumentedError } from './types.js';

const ncp = { service: 'datafence', auth: 'ncp-v2' } as const;

/** Error rows shared by every Datafence operation (§6). */
export const DATAFENCE_ERRORS = {
  invalidParameter: { status: 400, code: '10001', when: 'a parameter is missing, of the wrong type or out of range' },
  notOwner: {
    status: 400,
    code: '2600003',
    when: 'the caller is not the owner of the fence or box: a box-user key and a box or fence it is not bound to',
  },
  // Not in the readable part of the vendor table; chosen (issue 2) for an unknown fence, and for a
  // fence of another account, so that existence never leaks across accounts.
  fenceNotFound: { status: 400, code: '2600053', when: 'the fence does not exist in the caller\'s account' },
  externalNetworkUnchanged: {
    status: 400,
    code: '2600005',
    when: 'the requested external-network setting equals the current one',
  },
  serverRebooting: { status: 400, code: '2600010', when: 'a server in the box is rebooting' },
  boxLimitExceeded: { status: 400, code: '2600011', when: 'the box creation limit of the Datafence is exceeded' },
  // Not in the vendor table ([inferred] §1.2/§1.4): a change on a fence, box or export request whose
  // state does not allow it answers with the generic parameter error code.
  badState: { status: 400, code: '10001', when: 'the resource is not in a state that allows the change' },
  // The codes below are named by issue 8; the readable part of the vendor table does not say what
  // they mean ([inferred]). Each is used for one condition, listed in docs/datafence.md.
  boxNotInUse: { status: 400, code: '2600023', when: 'the box is not in USE (being created, changed or returned)' },
  fenceNotInUse: { status: 400, code: '2600024', when: 'the Datafence is not in USE (being changed)' },
  serverCountOutOfRange: {
    status: 400,
    code: '2600031',
    when: "the resulting number of servers of a product is outside the product's minimum and maximum",
  },
  noAnalysisServer: { status: 400, code: '2600033', when: 'the box would have neither a Linux nor a Windows server' },
  nasCountOutOfRange: { status: 400, code: '2600035', when: 'the resulting number of NAS is below 1 or above the maximum' },
  hadoopClusterLimit: { status: 400, code: '2600038', when: 'the box would have more than 2 Hadoop clusters' },
  serverNotFound: {
    status: 400,
    code: '2600040',
    when: 'no live server or Hadoop cluster of that kind has this instance number in the fence or box',
  },
  nasNotFound: { status: 400, code: '2600041', when: 'no live NAS has this instance number in the fence or box' },
  nasSizeBelowUsage: { status: 400, code: '2600047', when: 'the requested NAS size is below the data stored on it' },
  boxNotFound: { status: 400, code: '2600054', when: 'the box does not exist in the fence (or in the caller\'s account)' },
  unknownSpecCode: { status: 400, code: '2600072', when: 'the spec code is not in the product catalogue for that product' },
  unknownSoftwareCode: {
    status: 400,
    code: '2600073',
    when: 'the software code is not in the product catalogue for that product',
  },
  // Import, export and review (issue 9). The codes are named by the issue; the readable part of the
  // vendor table does not say what they mean ([inferred]). Each is used for one condition, listed
  // in docs/datafence.md.
  bucketNotFound: { status: 400, code: '2600029', when: "the bucket does not exist in the caller's account (import source, export target)" },
  nasNotInBox: { status: 400, code: '2610002', when: 'the NAS instance number is not a NAS in use of the box' },
  fileTooLarge: { status: 400, code: '2610004', when: 'an object or file is larger than 2 GB' },
  extensionNotAllowed: { status: 400, code: '2610006', when: "the file's extension is not allowed by the fence's export policy" },
  overPolicySize: { status: 400, code: '2610008', when: "the file is larger than the fence's export policy allows" },
  notReviewable: {
    status: 400,
    code: '2610010',
    when: 'the export request is not in a state that allows this: a vote outside UPLOADED, a cancel after a decision',
  },
  fileNotFound: { status: 400, code: '2610012', when: 'a source object (import) or NAS file (export) does not exist' },
  requestNotFound: { status: 400, code: '2610014', when: 'no import or export request has this fileId in the box' },
  ownRequest: { status: 400, code: '2610016', when: 'a reviewer votes on an export request they made themselves' },
  alreadyVoted: { status: 400, code: '2610018', when: 'the reviewer has already voted on this export request' },
  notImplemented: { status: 500, code: '10007', when: 'the operation is declared but not implemented by this server' },
} satisfies Record<string, DocumentedError>;
const E = DATAFENCE_ERRORS;

const FenceId = Type.Integer({ minimum: 1, maximum: MAX_ID, description: 'Datafence number' });
const BoxId = Type.Integer({ minimum: 1, maximum: MAX_ID, description: 'Box number' });
const Page = Type.Optional(Type.Integer({ minimum: 0, maximum: 100, default: 0, description: '0-based page' }));
const Size = Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10, description: 'page size' }));
const Message = Type.Object({ message: Type.String() });
const Status = Type.Union(['INITIALIZE', 'USE', 'ING', 'RETURN', 'TERMINATE'].map((s) => Type.Literal(s)));

export const PRODUCT_CODES = [
  'FENCE_UBUNTU', 'FENCE_NAS', 'CON', 'HD_EDGE', 'HD_MASTER', 'HD_WORKER', 'BOX', 'BOX_NAS',
  'SVR_LNX_UBUNTU', 'SVR_WIN', 'TF_CPU', 'TF_GPU',
] as const;
export const BOX_IMAGE_PRODUCT_CODES = ['CON', 'TF_CPU', 'TF_GPU', 'SVR_LNX_UBUNTU', 'SVR_WIN'] as const;

const CustomImageList = Type.Object({
  content: Type.Array(
    Type.Object({
      imageNo: Type.Integer(),
      imageName: Type.String(),
      productCode: Type.String(),
      baseServerName: Type.String(),
    }),
  ),
});

const FileId = Type.Integer({ minimum: 1, maximum: MAX_ID, description: 'Import or export request number' });
const InstanceNo = Type.Integer({ minimum: 1, maximum: MAX_ID, description: 'Instance number' });
/**
 * NAS volumes created by one action: at most the FENCE_NAS / BOX_NAS `maxQuantity` that
 * get-product-spec announces (10); Hadoop worker nodes: HD_WORKER's (8).
 */
const MAX_NAS_COUNT = 10;
const MAX_WORKER_NODES = 8;
/** File Import Status Code (§1.3). */
export const IMPORT_STATUS_CODES = [
  'INITIALIZED', 'UPLOADING', 'IMPORTED', 'ERROR_FILE', 'ERROR_SECURITY', 'ERROR_SYSTEM',
] as const;
/** File Export Status Code (§1.4), shared by the requester and the reviewer views. */
export const EXPORT_STATUS_CODES = [
  'INITIALIZED', 'UPLOADING', 'UPLOADED', 'APPROVED', 'EXPORTING', 'EXPORTED', 'REJECTED', 'ERROR_FILE', 'ERROR_SYSTEM',
] as const;
const ImportStatus = Type.Union(IMPORT_STATUS_CODES.map((s) => Type.Literal(s)));
const ExportStatus = Type.Union(EXPORT_STATUS_CODES.map((s) => Type.Literal(s)));
/** `from` / `to` filters: `yyyyMMddHHmmss` (§1.7). */
const DateFilter = Type.Optional(Type.String({ pattern: '^[0-9]{14}$', description: 'yyyyMMddHHmmss' }));

/**
 * Server and cluster passwords (§1.7): 8–14 characters with at least one upper-case letter, one
 * lower-case letter, one digit and one special character; `'` `"` `` ` `` `₩` `/` `&` `$` and
 * white space are forbidden.
 */
export const PASSWORD_PATTERN = '^(?=.*[A-Z])(?=.*[a-z])(?=.*[0-9])(?=.*[^A-Za-z0-9])[^\'"`₩/&$\\s]{8,14}$';
const Password = Type.String({ minLength: 8, maxLength: 14, pattern: PASSWORD_PATTERN });

/** Sizes in GB (§1.7). */
const GB = (minimum: number, maximum: number, multipleOf: number, description: string) =>
  Type.Integer({ minimum, maximum, multipleOf, description: `${description} (GB)` });
const NasSize = GB(500, 10000, 100, 'NAS size');
const BlockStorageSize = GB(10, 2000, 10, 'block storage');
const TensorFlowStorageSize = GB(100, 2000, 10, 'block storage');
const HadoopStorageSize = GB(100, 2000, 10, 'node storage');
/** change-box-infra also accepts 4000 and 6000 GB for Hadoop node storage. */
const HadoopStorageChangeSize = Type.Union([HadoopStorageSize, Type.Literal(4000), Type.Literal(6000)]);

const ActionType = Type.Union([Type.Literal('CREATE'), Type.Literal('UPDATE'), Type.Literal('DELETE')]);
const NasActionType = Type.Union([Type.Literal('CREATE'), Type.Literal('DELETE')]);
/** Instance numbers documented as Strings in some requests and Integers in others (§2.3). */
const InstanceRef = (description: string) => Type.Optional(IntOrString({ description }));

/** `{ totalCount, content[] }`, the envelope of every paged list. */
const Paged = <T extends TSchema>(item: T) => Type.Object({ totalCount: Type.Integer(), content: Type.Array(item) });

const InfraHistoryItem = <T extends TSchema>(infraType: T) =>
  Type.Object({
    infraType,
    instanceNo: Type.Integer(),
    instanceName: Type.String(),
    statusCode: Status,
    statusName: Type.String(),
    createDate: Type.String(),
    endDate: Type.String({ description: 'set once terminated, "" before' }),
  });

const BoxRow = {
  boxId: Type.Integer(),
  boxName: Type.String(),
  description: Type.String(),
  statusCode: Status,
  statusName: Type.String(),
  createDate: Type.String(),
};

const Storage = Type.Object({ name: Type.String(), storagePath: Type.String() });
const Connection = Type.Object({ applicationName: Type.String(), connectionUrl: Type.String() });
const StorageInfo = Type.Object({ storageList: Type.Array(Storage) });
const BoxNasList = Type.Object({
  content: Type.Array(
    Type.Object({ boxStorageId: Type.Integer(), instanceNo: Type.Integer(), instanceName: Type.String() }),
  ),
});

// Request pieces of create-box / change-box-infra / change-datafence-infra.
const ServerCreate = <T extends TSchema>(storageSize: T) =>
  Type.Object({ specCode: Type.String(), softwareCode: Type.String(), storageSize, userPassword: Password });
const ServerChange = <T extends TSchema>(storageSize: T) =>
  Type.Object({
    actionType: ActionType,
    serverInstanceNo: InstanceRef('required for UPDATE and DELETE'),
    blockStorageInstanceNo: InstanceRef('required for UPDATE and DELETE'),
    specCode: Type.Optional(Type.String({ description: 'required for CREATE and UPDATE' })),
    softwareCode: Type.Optional(Type.String({ description: 'required for CREATE and UPDATE' })),
    storageSize: Type.Optional(storageSize),
    userPassword: Type.Optional(Password),
  });
const NasCreate = Type.Object({ nasSize: NasSize, count: Type.Integer({ minimum: 1, maximum: MAX_NAS_COUNT }) });
/** A NAS action of change-datafence-infra (`fenceNasList`) and change-box-infra (`boxNasList`). */
const NasChange = Type.Object({
  actionType: NasActionType,
  nasInstanceNo: InstanceRef('required for DELETE'),
  nasSize: Type.Optional(NasSize),
  count: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_NAS_COUNT, description: 'required for CREATE' })),
});
/** Hadoop edge-node spec: create-box documents `EdgeNodeSpecCode`, change-box-infra `edgeNodeSpecCode` (§2.3). */
const EdgeNodeSpecCodes = {
  EdgeNodeSpecCode: Type.Optional(Type.String()),
  edgeNodeSpecCode: Type.Optional(Type.String()),
};

const ImportRecord = Type.Object({
  fileId: Type.Integer(),
  fenceId: Type.Integer(),
  boxId: Type.Integer(),
  boxName: Type.String(),
  sourceBucketName: Type.String(),
  sourceFilePath: Type.String(),
  targetNasName: Type.String(),
  description: Type.String(),
  statusCode: ImportStatus,
  statusName: Type.String(),
  createDate: Type.String(),
  completeDate: Type.String({ description: 'set once completed, "" before' }),
});

const ExportRecord = Type.Object({
  fileId: Type.Integer(),
  fenceId: Type.Integer(),
  boxId: Type.Integer(),
  boxName: Type.String(),
  requesterId: Type.String(),
  sourceNasName: Type.String(),
  sourceFilePath: Type.String(),
  targetBucketName: Type.String(),
  statusCode: ExportStatus,
  statusName: Type.String(),
  rejectReason: Type.String({ description: 'set when rejected, "" otherwise' }),
  description: Type.String(),
  createDate: Type.String(),
  resultDate: Type.String({ description: 'review time, "" before review' }),
});

const ExportReview = Type.Object({
  fenceId: Type.Integer(),
  fenceName: Type.String(),
  boxId: Type.Integer(),
  boxName: Type.String(),
  boxStatus: Status,
  fileId: Type.Integer(),
  requesterId: Type.String(),
  screenFilePath: Type.String({ description: '{ISO 8601 request time}_{fileId}_{sourceFilePath}' }),
  statusCode: ExportStatus,
  statusName: Type.String(),
  description: Type.String(),
  fileDescription: Type.String(),
  exportPurpose: Type.String(),
  rejectReason: Type.String({ description: 'set when rejected, "" otherwise' }),
  fileSize: Type.Integer({ description: 'MB' }),
  createDate: Type.String(),
  completeDate: Type.String({ description: 'review time, "" before review' }),
  resultDate: Type.String({ description: 'review time, "" before review' }),
  // Stockade's governance (issue 9), beyond the vendor's fields.
  approvalsRequired: Type.Integer({ description: 'distinct approvals needed before release (--export-approvals)' }),
  sha256: Type.String({ description: 'SHA-256 of the file pinned when it was copied for review, "" before' }),
  voteList: Type.Array(
    Type.Object({
      reviewerId: Type.String(),
      vote: Type.Union([Type.Literal('APPROVE'), Type.Literal('REJECT')]),
      reason: Type.String(),
      voteDate: Type.String(),
    }),
    { description: 'every vote cast, oldest first' },
  ),
});

const FileList = Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 10 });
const FenceQuery = { fenceId: FenceId };
const BoxQuery = { fenceId: FenceId, boxId: BoxId };
const FileQuery = { fenceId: FenceId, boxId: BoxId, fileId: FileId };
const FencePagedQuery = Type.Object({ ...FenceQuery, page: Page, size: Size });
const BoxPagedQuery = Type.Object({ ...BoxQuery, page: Page, size: Size });
/** Query of the import / export / review lists: a status filter, a request-time window, paging. */
const FilteredListQuery = <T extends TSchema>(status: T) =>
  Type.Object({ ...BoxQuery, status: Type.Optional(status), from: DateFilter, to: DateFilter, page: Page, size: Size });

/** Fixed `message` of every mutating operation, by vendor operation name (§5.3). */
export const DATAFENCE_MESSAGES = {
  'change-datafence-infra': 'Fence infra update requested.',
  'change-fence-nas-volume': 'Fence volume update requested.',
  'create-box': 'Box creation requested.',
  'change-box-block-external-network': 'Box network setting modification requested.',
  'change-box-infra': 'Box infra update requested.',
  'change-box-nas-volume': 'Box volume update requested.',
  'return-box': 'Box return requested.',
  'create-file-import': 'File import requested.',
  'create-file-export': 'File export requested.',
  'cancel-file-export': 'File export cancel requested.',
  'export-file-approve': 'File export approved.',
  'export-file-reject': 'File export rejected.',
} as const;

export const datafenceOps = {
  getDatafence: op({
    ...ncp,
    name: 'get-datafence',
    method: 'GET',
    path: '/api/v1/fence/get-datafence',
    aliasPaths: ['/api/v1/fence/get-data-fence'],
    summary: "Read the account's Datafences (a bare JSON array)",
    role: 'box-user',
    response: Type.Array(
      Type.Object({
        fenceId: Type.Integer(),
        fenceName: Type.String(),
        boxCount: Type.Integer(),
        createDate: Type.String(),
        statusCode: Status,
        statusName: Type.String(),
        description: Type.String(),
        exportScreenBucketName: Type.String(),
        sslVpnName: Type.String(),
      }),
    ),
    errors: [],
  }),

  getDatafenceInfraList: op({
    ...ncp,
    name: 'get-datafence-infra-list',
    method: 'GET',
    path: '/api/v1/fence/get-datafence-infra-list',
    summary: 'List management servers and NAS of a Datafence',
    role: 'box-user',
    query: FencePagedQuery,
    response: Paged(
      Type.Object({
        infraType: Type.Union([Type.Literal('FENCE_UBUNTU'), Type.Literal('FENCE_NAS')]),
        // [inferred] instanceNo, statusCode and statusName: change-fence-nas-volume needs the NAS number.
        instanceNo: Type.Integer(),
        instanceName: Type.String(),
        privateIp: Type.String({ description: 'FENCE_UBUNTU only, "" for NAS' }),
        publicIp: Type.String({ description: 'FENCE_UBUNTU only, "" for NAS' }),
        osName: Type.String({ description: 'FENCE_UBUNTU only, "" for NAS' }),
        specName: Type.String({ description: 'server spec name, or NAS capacity' }),
        userName: Type.String({ description: 'server login account, or NAS mount path' }),
        statusCode: Status,
        statusName: Type.String(),
        createDate: Type.String(),
      }),
    ),
    errors: [E.invalidParameter, E.fenceNotFound, E.notOwner],
  }),

  getDatafenceInfraHistory: op({
    ...ncp,
    name: 'get-datafence-infra-history',
    method: 'GET',
    path: '/api/v1/fence/get-datafence-infra-history',
    summary: 'Infra history of a Datafence',
    role: 'box-user',
    query: FencePagedQuery,
    response: Paged(InfraHistoryItem(Type.Union([Type.Literal('Server'), Type.Literal('NAS')]))),
    errors: [E.invalidParameter, E.fenceNotFound, E.notOwner],
  }),

  getFenceCustomImage: op({
    ...ncp,
    name: 'get-fence-custom-image',
    method: 'GET',
    path: '/api/v1/fence/get-fence-custom-image',
    summary: 'Custom images usable for Datafence servers',
    role: 'box-user',
    query: Type.Object({ ...FenceQuery, productCode: Type.Literal('FENCE_UBUNTU') }),
    response: CustomImageList,
    errors: [E.invalidParameter, E.fenceNotFound, E.notOwner],
  }),

  changeDatafenceInfra: op({
    ...ncp,
    name: 'change-datafence-infra',
    method: 'POST',
    path: '/api/v1/fence/change-datafence-infra',
    aliasPaths: ['/api/v1/fence/change-data-fence-infra'],
    summary: 'Add/modify/return Datafence servers and NAS (async)',
    role: 'fence-admin',
    body: Type.Object({
      ...FenceQuery,
      description: Type.Optional(Type.String()),
      updateFence: Type.Object({
        fenceServerList: Type.Optional(
          Type.Array(
            Type.Object({
              actionType: ActionType,
              serverInstanceNo: InstanceRef('required for UPDATE and DELETE'),
              specCode: Type.Optional(Type.String({ description: 'required for CREATE and UPDATE' })),
              softwareCode: Type.Optional(Type.String({ description: 'required for CREATE and UPDATE' })),
              userPassword: Type.Optional(Password),
              serverImageNo: InstanceRef('custom image (get-fence-custom-image); required for CREATE'),
            }),
            { description: 'resulting server count must be 1–4' },
          ),
        ),
        fenceNasList: Type.Optional(Type.Array(NasChange, { description: 'at least one NAS must remain' })),
      }),
    }),
    response: Message,
    errors: [
      E.invalidParameter,
      E.fenceNotFound,
      E.fenceNotInUse,
      E.serverCountOutOfRange,
      E.nasCountOutOfRange,
      E.serverNotFound,
      E.nasNotFound,
      E.unknownSpecCode,
      E.unknownSoftwareCode,
    ],
  }),

  changeFenceNasVolume: op({
    ...ncp,
    name: 'change-fence-nas-volume',
    method: 'POST',
    path: '/api/v1/fence/change-fence-nas-volume',
    summary: 'Resize a Datafence NAS (async)',
    role: 'fence-admin',
    body: Type.Object({
      ...FenceQuery,
      instanceNo: IntOrString({ description: 'Datafence NAS instance number (get-datafence-infra-list)' }),
      volumeSize: NasSize,
    }),
    response: Message,
    errors: [E.invalidParameter, E.fenceNotFound, E.fenceNotInUse, E.nasNotFound],
  }),

  getBucketList: op({
    ...ncp,
    name: 'get-bucket-list',
    method: 'GET',
    path: '/api/v1/object-storage/get-bucket-list',
    summary: 'Buckets usable for import/export (a bare JSON array)',
    role: 'box-user',
    response: Type.Array(Type.Object({ name: Type.String(), enableable: Type.Boolean() })),
    errors: [],
  }),

  getProductSpec: op({
    ...ncp,
    name: 'get-product-spec',
    method: 'GET',
    path: '/api/v1/product/get-product-spec',
    summary: 'Product, spec and software codes (a bare JSON array)',
    role: 'box-user',
    response: Type.Array(
      Type.Object({
        productCode: Type.String(),
        defaultQuantity: Type.Integer(),
        minQuantity: Type.Integer(),
        maxQuantity: Type.Integer(),
        specCodeList: Type.Array(
          Type.Object({ specCode: Type.String(), specName: Type.String(), hypervisorTypeCode: Type.String() }),
        ),
        softwareCodeList: Type.Array(Type.Object({ softwareCode: Type.String(), softwareName: Type.String() })),
      }),
    ),
    errors: [],
  }),

  createBox: op({
    ...ncp,
    name: 'create-box',
    method: 'POST',
    path: '/api/v1/box/create-box',
    summary: 'Create a box (async)',
    role: 'fence-admin',
    body: Type.Object({
      ...FenceQuery,
      description: Type.Optional(Type.String()),
      createBoxInfo: Type.Object({
        connectServerList: Type.Array(
          Type.Object({
            specCode: Type.String(),
            softwareCode: Type.Optional(Type.String()),
            storageSize: BlockStorageSize,
            userPassword1: Type.Optional(Password),
            userPassword2: Type.Optional(Password),
          }),
          { minItems: 1, maxItems: 4 },
        ),
        // Documented as required, but may be absent or empty when Windows servers are given.
        linuxServerList: Type.Optional(Type.Array(ServerCreate(BlockStorageSize), { maxItems: 4 })),
        windowsServerList: Type.Optional(Type.Array(ServerCreate(BlockStorageSize), { maxItems: 4 })),
        nasList: Type.Array(NasCreate, { minItems: 1 }),
        hadoopList: Type.Optional(
          Type.Array(
            Type.Object({
              ...EdgeNodeSpecCodes,
              masterNodeSpecCode: Type.String(),
              masterNodeStorageSize: HadoopStorageSize,
              workerNodeSpecCode: Type.String(),
              workerNodeCount: Type.Integer({ minimum: 1, maximum: MAX_WORKER_NODES }),
              workerNodeStorageSize: HadoopStorageSize,
              userPassword: Password,
            }),
            { maxItems: 2 },
          ),
        ),
        tensorFlowCpuServerList: Type.Optional(Type.Array(ServerCreate(TensorFlowStorageSize), { maxItems: 4 })),
        tensorFlowGpuServerList: Type.Optional(Type.Array(ServerCreate(TensorFlowStorageSize), { maxItems: 2 })),
      }),
    }),
    response: Message,
    errors: [
      E.invalidParameter,
      E.fenceNotFound,
      E.fenceNotInUse,
      E.boxLimitExceeded,
      E.serverCountOutOfRange,
      E.noAnalysisServer,
      E.nasCountOutOfRange,
      E.unknownSpecCode,
      E.unknownSoftwareCode,
    ],
  }),

  getBoxCustomImage: op({
    ...ncp,
    name: 'get-box-custom-image',
    method: 'GET',
    path: '/api/v1/box/get-box-custom-image',
    summary: 'Custom images per box server type',
    role: 'box-user',
    query: Type.Object({
      fenceId: FenceId,
      productCode: Type.Union(BOX_IMAGE_PRODUCT_CODES.map((c) => Type.Literal(c))),
    }),
    response: CustomImageList,
    errors: [E.invalidParameter, E.fenceNotFound, E.notOwner],
  }),

  getBoxHistory: op({
    ...ncp,
    name: 'get-box-history',
    method: 'GET',
    path: '/api/v1/box/get-box-history',
    summary: 'Box creation/return history of a Datafence',
    role: 'box-user',
    query: FencePagedQuery,
    response: Paged(Type.Object({ ...BoxRow, endDate: Type.String({ description: 'return time, "" before' }) })),
    errors: [E.invalidParameter, E.fenceNotFound, E.notOwner],
  }),

  getBoxInfraHistory: op({
    ...ncp,
    name: 'get-box-infra-history',
    method: 'GET',
    path: '/api/v1/box/get-box-infra-history',
    summary: 'Infra history of a box',
    role: 'box-user',
    query: BoxPagedQuery,
    response: Paged(InfraHistoryItem(Type.String({ description: 'display name, e.g. "Connect Server"' }))),
    errors: [E.invalidParameter, E.fenceNotFound, E.boxNotFound, E.notOwner],
  }),

  getBoxInfraList: op({
    ...ncp,
    name: 'get-box-infra-list',
    method: 'GET',
    path: '/api/v1/box/get-box-infra-list',
    summary: 'Infra items of a box',
    role: 'box-user',
    query: BoxPagedQuery,
    response: Paged(
      Type.Object({
        infraType: Type.String({ description: 'CON, SVR_LNX_UBUNTU, SVR_WIN, TF_CPU, TF_GPU, BOX_NAS or HD' }),
        instanceNo: Type.Integer({ description: 'for HD, the hadoopClusterNo' }),
        instanceName: Type.String(),
        blockStorageInstanceNo: Type.Integer(),
        blockStorageSize: Type.Integer({ description: 'GB' }),
        privateIp: Type.String(),
        specName: Type.String({ description: 'server spec name, or NAS capacity (GB)' }),
        userName1: Type.String({ description: 'first login account, or NAS mount path' }),
        userName2: Type.String({ description: 'second login account (connect server)' }),
        statusCode: Status,
        statusName: Type.String(),
        createDate: Type.String(),
      }),
    ),
    errors: [E.invalidParameter, E.fenceNotFound, E.boxNotFound, E.notOwner],
  }),

  getBoxList: op({
    ...ncp,
    name: 'get-box-list',
    method: 'GET',
    path: '/api/v1/box/get-box-list',
    summary: 'Boxes of a Datafence',
    role: 'box-user',
    query: FencePagedQuery,
    response: Paged(Type.Object(BoxRow)),
    errors: [E.invalidParameter, E.fenceNotFound, E.notOwner],
  }),

  getBoxSummaryInfo: op({
    ...ncp,
    name: 'get-box-summary-info',
    method: 'GET',
    path: '/api/v1/box/get-box-summary-info',
    summary: 'Box summary (NAS totals, export count, network block)',
    role: 'box-user',
    query: Type.Object(BoxQuery),
    response: Type.Object({
      boxId: Type.Integer(),
      boxName: Type.String(),
      description: Type.String(),
      mountCount: Type.Integer({ description: 'shared-data mount count' }),
      nasCount: Type.Integer(),
      nasTotalSize: Type.Integer({ description: 'GB' }),
      nasInstanceNoList: Type.Array(Type.Integer()),
      nasTotalUseSize: Type.Integer({ description: 'GB' }),
      exportApplyCount: Type.Integer(),
      webBlockStatus: Type.Boolean({ description: 'true when the external network is blocked' }),
      statusCode: Status,
      statusName: Type.String(),
      createDate: Type.String(),
    }),
    errors: [E.invalidParameter, E.fenceNotFound, E.boxNotFound, E.notOwner],
  }),

  getConnectInfo: op({
    ...ncp,
    name: 'get-connect-info',
    method: 'GET',
    path: '/api/v1/box/get-connect-info',
    summary: 'Storage mounts of a connect server',
    role: 'box-user',
    query: Type.Object({ ...BoxQuery, instanceNo: InstanceNo }),
    response: StorageInfo,
    errors: [E.invalidParameter, E.fenceNotFound, E.boxNotFound, E.notOwner, E.serverNotFound],
  }),

  getHadoopClusterInfo: op({
    ...ncp,
    name: 'get-hadoop-cluster-info',
    method: 'GET',
    path: '/api/v1/box/get-hadoop-cluster-info',
    summary: 'Apps, nodes and storage of a Hadoop cluster',
    role: 'box-user',
    query: Type.Object({ ...BoxQuery, hadoopClusterNo: InstanceNo }),
    response: Type.Object({
      connectionList: Type.Array(Connection),
      nodeSpecList: Type.Array(Type.Object({ name: Type.String(), spec: Type.String(), nodeCount: Type.Integer() })),
      storageList: Type.Array(Storage),
    }),
    errors: [E.invalidParameter, E.fenceNotFound, E.boxNotFound, E.notOwner, E.serverNotFound],
  }),

  getLinuxInfo: op({
    ...ncp,
    name: 'get-linux-info',
    method: 'GET',
    path: '/api/v1/box/get-linux-info',
    summary: 'Storage mounts of a Linux server',
    role: 'box-user',
    query: Type.Object({ ...BoxQuery, instanceNo: InstanceNo }),
    response: StorageInfo,
    errors: [E.invalidParameter, E.fenceNotFound, E.boxNotFound, E.notOwner, E.serverNotFound],
  }),

  getWindowsInfo: op({
    ...ncp,
    name: 'get-windows-info',
    method: 'GET',
    path: '/api/v1/box/get-windows-info',
    summary: 'Storage mounts of a Windows server',
    role: 'box-user',
    query: Type.Object({ ...BoxQuery, instanceNo: InstanceNo }),
    response: StorageInfo,
    errors: [E.invalidParameter, E.fenceNotFound, E.boxNotFound, E.notOwner, E.serverNotFound],
  }),

  getTensorflowInfo: op({
    ...ncp,
    name: 'get-tensorflow-info',
    method: 'GET',
    path: '/api/v1/box/get-tensorflow-info',
    summary: 'Apps and storage of a TensorFlow server',
    role: 'box-user',
    query: Type.Object({ ...BoxQuery, instanceNo: InstanceNo }),
    response: Type.Object({ connectionList: Type.Array(Connection), storageList: Type.Array(Storage) }),
    errors: [E.invalidParameter, E.fenceNotFound, E.boxNotFound, E.notOwner, E.serverNotFound],
  }),

  changeBoxBlockExternalNetwork: op({
    ...ncp,
    name: 'change-box-block-external-network',
    method: 'POST',
    path: '/api/v1/box/change-box-block-external-network',
    summary: 'Block/allow external network (async)',
    role: 'fence-admin',
    body: Type.Object({ ...BoxQuery, isBlock: Type.Boolean({ description: 'true blocks, false allows' }) }),
    response: Message,
    errors: [
      E.invalidParameter,
      E.fenceNotFound,
      E.boxNotFound,
      E.externalNetworkUnchanged,
      E.serverRebooting,
      E.boxNotInUse,
    ],
  }),

  changeBoxInfra: op({
    ...ncp,
    name: 'change-box-infra',
    method: 'POST',
    path: '/api/v1/box/change-box-infra',
    summary: 'Add/modify/return box servers, NAS, clusters (async)',
    role: 'fence-admin',
    body: Type.Object({
      ...FenceQuery,
      updateBoxInfo: Type.Object({
        boxId: BoxId,
        description: Type.Optional(Type.String()),
        connectServerList: Type.Optional(
          Type.Array(
            Type.Object({
              actionType: ActionType,
              serverInstanceNo: InstanceRef('required for UPDATE and DELETE'),
              blockStorageInstanceNo: InstanceRef('required for UPDATE and DELETE'),
              specCode: Type.Optional(Type.String({ description: 'required for CREATE and UPDATE' })),
              storageSize: Type.Optional(BlockStorageSize),
              userPassword1: Type.Optional(Password),
              userPassword2: Type.Optional(Password),
            }),
            { description: 'resulting count 1–4' },
          ),
        ),
        linuxServerList: Type.Optional(
          Type.Array(ServerChange(BlockStorageSize), { description: 'resulting count 1–4' }),
        ),
        windowsServerList: Type.Optional(
          Type.Array(ServerChange(BlockStorageSize), { description: 'resulting count 0–4' }),
        ),
        boxNasList: Type.Optional(Type.Array(NasChange, { description: 'at least one NAS must remain' })),
        hadoopList: Type.Optional(
          Type.Array(
            Type.Object({
              actionType: ActionType,
              hadoopClusterNo: InstanceRef('required for UPDATE and DELETE (instanceNo of the HD infra row)'),
              ...EdgeNodeSpecCodes,
              masterNodeSpecCode: Type.Optional(Type.String()),
              masterNodeStorageSize: Type.Optional(HadoopStorageChangeSize),
              workerNodeSpecCode: Type.Optional(Type.String()),
              workerNodeStorageSize: Type.Optional(HadoopStorageChangeSize),
              workerNodeCount: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_WORKER_NODES })),
              userPassword: Type.Optional(Password),
            }),
            { description: 'at most 2 clusters per box' },
          ),
        ),
        tensorFlowCpuServerList: Type.Optional(
          Type.Array(ServerChange(TensorFlowStorageSize), { description: 'resulting count at most 4' }),
        ),
        tensorFlowGpuServerList: Type.Optional(
          Type.Array(ServerChange(TensorFlowStorageSize), { description: 'resulting count at most 2' }),
        ),
      }),
    }),
    response: Message,
    errors: [
      E.invalidParameter,
      E.fenceNotFound,
      E.boxNotFound,
      E.serverRebooting,
      E.boxNotInUse,
      E.serverCountOutOfRange,
      E.noAnalysisServer,
      E.nasCountOutOfRange,
      E.hadoopClusterLimit,
      E.serverNotFound,
      E.nasNotFound,
      E.unknownSpecCode,
      E.unknownSoftwareCode,
    ],
  }),

  changeBoxNasVolume: op({
    ...ncp,
    name: 'change-box-nas-volume',
    method: 'POST',
    path: '/api/v1/box/change-box-nas-volume',
    summary: 'Resize a box NAS (async)',
    role: 'fence-admin',
    body: Type.Object({
      ...BoxQuery,
      instanceNo: IntOrString({ description: 'box NAS instance number (get-box-infra-list)' }),
      volumeSize: NasSize,
    }),
    response: Message,
    errors: [
      E.invalidParameter,
      E.fenceNotFound,
      E.boxNotFound,
      E.serverRebooting,
      E.boxNotInUse,
      E.nasNotFound,
      E.nasSizeBelowUsage,
    ],
  }),

  returnBox: op({
    ...ncp,
    name: 'return-box',
    method: 'POST',
    path: '/api/v1/box/return-box',
    summary: 'Return (delete) a box (async)',
    role: 'fence-admin',
    body: Type.Object(BoxQuery),
    response: Message,
    errors: [E.invalidParameter, E.fenceNotFound, E.boxNotFound, E.serverRebooting, E.boxNotInUse],
  }),

  createFileImport: op({
    ...ncp,
    name: 'create-file-import',
    method: 'POST',
    path: '/api/v1/import/create-file-import',
    summary: 'Request import bucket → box NAS',
    role: 'box-user',
    body: Type.Object({
      ...BoxQuery,
      sourceBucketName: Type.String({ minLength: 1 }),
      sourceFilePathList: FileList,
      targetNasInstanceNo: IntOrString({ description: 'target box NAS instance number (get-target-nas-list)' }),
      description: Type.String({ minLength: 1, maxLength: 50 }),
    }),
    response: Message,
    errors: [E.invalidParameter, E.fenceNotFound, E.boxNotFound, E.notOwner, E.bucketNotFound, E.nasNotInBox, E.fileNotFound, E.fileTooLarge],
  }),

  getImportDetail: op({
    ...ncp,
    name: 'get-import-detail',
    method: 'GET',
    path: '/api/v1/import/get-import-detail',
    summary: 'One import request',
    role: 'box-user',
    query: Type.Object(FileQuery),
    response: ImportRecord,
    errors: [E.invalidParameter, E.fenceNotFound, E.boxNotFound, E.notOwner, E.requestNotFound],
  }),

  getImportList: op({
    ...ncp,
    name: 'get-import-list',
    method: 'GET',
    path: '/api/v1/import/get-import-list',
    summary: 'Import requests of a box',
    role: 'box-user',
    query: FilteredListQuery(ImportStatus),
    response: Paged(ImportRecord),
    errors: [E.invalidParameter, E.fenceNotFound, E.boxNotFound, E.notOwner],
  }),

  getTargetNasList: op({
    ...ncp,
    name: 'get-target-nas-list',
    method: 'GET',
    path: '/api/v1/import/get-target-nas-list',
    summary: 'NAS that can receive imports',
    role: 'box-user',
    query: Type.Object(BoxQuery),
    response: BoxNasList,
    errors: [E.invalidParameter, E.fenceNotFound, E.boxNotFound, E.notOwner],
  }),

  createFileExport: op({
    ...ncp,
    name: 'create-file-export',
    method: 'POST',
    path: '/api/v1/export/create-file-export',
    summary: 'Request export box NAS → bucket (goes to review)',
    role: 'box-user',
    body: Type.Object({
      ...BoxQuery,
      sourceNasInstanceNo: IntOrString({ description: 'source box NAS instance number (get-source-nas-list)' }),
      sourceFilePathList: FileList,
      targetBucketName: Type.String({ minLength: 1 }),
      fileDescription: Type.String({ minLength: 1, maxLength: 1000 }),
      exportPurpose: Type.String({ minLength: 1, maxLength: 1000 }),
      description: Type.String({ maxLength: 50 }),
    }),
    response: Message,
    errors: [E.invalidParameter, E.fenceNotFound, E.boxNotFound, E.notOwner, E.bucketNotFound, E.nasNotInBox, E.fileNotFound, E.fileTooLarge, E.extensionNotAllowed, E.overPolicySize],
  }),

  getExportDetail: op({
    ...ncp,
    name: 'get-export-detail',
    method: 'GET',
    path: '/api/v1/export/get-export-detail',
    summary: 'One export request (requester view)',
    role: 'box-user',
    query: Type.Object(FileQuery),
    response: ExportRecord,
    errors: [E.invalidParameter, E.fenceNotFound, E.boxNotFound, E.notOwner, E.requestNotFound],
  }),

  getExportList: op({
    ...ncp,
    name: 'get-export-list',
    method: 'GET',
    path: '/api/v1/export/get-export-list',
    summary: 'Export requests of a box (requester view)',
    role: 'box-user',
    // Free text, not the enum: the vendor's own example filters by an import code (§4.5 #31);
    // an unknown code matches nothing.
    query: FilteredListQuery(Type.String({ description: 'export status code (§1.4)' })),
    response: Paged(ExportRecord),
    errors: [E.invalidParameter, E.fenceNotFound, E.boxNotFound, E.notOwner],
  }),

  getSourceNasList: op({
    ...ncp,
    name: 'get-source-nas-list',
    method: 'GET',
    path: '/api/v1/export/get-source-nas-list',
    summary: 'NAS that can be exported from',
    role: 'box-user',
    query: Type.Object(BoxQuery),
    response: BoxNasList,
    errors: [E.invalidParameter, E.fenceNotFound, E.boxNotFound, E.notOwner],
  }),

  cancelFileExport: op({
    ...ncp,
    name: 'cancel-file-export',
    method: 'DELETE',
    path: '/api/v1/export/cancel-file-export',
    summary: 'Cancel an export request',
    role: 'box-user',
    query: Type.Object(FileQuery),
    response: Message,
    errors: [E.invalidParameter, E.fenceNotFound, E.boxNotFound, E.notOwner, E.requestNotFound, E.notReviewable],
  }),

  getExportFileApproveDetail: op({
    ...ncp,
    name: 'get-export-file-approve-detail',
    method: 'GET',
    path: '/api/v1/export-approval/get-export-file-approve-detail',
    summary: 'One export review (approver view)',
    role: 'fence-admin',
    query: Type.Object(FileQuery),
    response: ExportReview,
    errors: [E.invalidParameter, E.fenceNotFound, E.boxNotFound, E.notOwner, E.requestNotFound],
  }),

  getExportFileApproveList: op({
    ...ncp,
    name: 'get-export-file-approve-list',
    method: 'GET',
    path: '/api/v1/export-approval/get-export-file-approve-list',
    summary: 'Export reviews of a box + review bucket name',
    role: 'fence-admin',
    query: FilteredListQuery(ExportStatus),
    response: Type.Object({
      totalCount: Type.Integer(),
      reviewBucketName: Type.String({ description: "the Datafence's export-review bucket" }),
      content: Type.Array(ExportReview),
    }),
    errors: [E.invalidParameter, E.fenceNotFound, E.boxNotFound, E.notOwner],
  }),

  exportFileApprove: op({
    ...ncp,
    name: 'export-file-approve',
    method: 'PATCH',
    path: '/api/v1/export-approval/export-file-approve',
    summary: 'Approve an export request',
    role: 'fence-admin',
    body: Type.Object(FileQuery),
    response: Message,
    errors: [E.invalidParameter, E.fenceNotFound, E.boxNotFound, E.notOwner, E.requestNotFound, E.notReviewable, E.ownRequest, E.alreadyVoted],
  }),

  exportFileReject: op({
    ...ncp,
    name: 'export-file-reject',
    method: 'PATCH',
    path: '/api/v1/export-approval/export-file-reject',
    summary: 'Reject an export request',
    role: 'fence-admin',
    body: Type.Object({ ...FileQuery, rejectReason: Type.String({ minLength: 1, maxLength: 1000 }) }),
    response: Message,
    errors: [E.invalidParameter, E.fenceNotFound, E.boxNotFound, E.notOwner, E.requestNotFound, E.notReviewable, E.ownRequest, E.alreadyVoted],
  }),
};

// Re-exported building blocks (handlers, fixtures and tests).
export const DatafenceSchemas = {
  FenceId,
  BoxId,
  FileId,
  Page,
  Size,
  Message,
  Status,
  ImportStatus,
  ExportStatus,
  Password,
  NasSize,
  CustomImageList,
};
