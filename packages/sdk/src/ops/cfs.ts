/**
 * Baidu Cloud File Storage: 19 operations + GetFsQuota (../shared/spec/cfs.md §3).
 * Errors are `{requestId, code, message}` with `x-bce-request-id` (§1.5, §4).
 *
 * Unknown body fields are ignored, never rejected (§1.2), and empty-string `type`, `protocol` and
 * `accessGroupName` mean "not set" (the Go SDK always sends them).
 */
import { Type, type TLiteral, type TUnion } from '@sinclair/typebox';
import { op, invalidAs, MAX_INT32, type DocumentedError } from './types.js';

const bce = { service: 'cfs', auth: 'bce-v1' } as const;

export const CFS_ERRORS = {
  inappropriateJson: { status: 400, code: 'InappropriateJSON', when: 'the input is not appropriate for the operation and no one parameter is to blame (a body that is not an object)' },
  malformedJson: { status: 400, code: 'MalformedJSON', when: 'the body is not well-formed JSON' },
  // BCE's parameter codes; the message names the parameter (inferred: CFS's table does not list them).
  missingParameter: { status: 400, code: 'MissingParameter', when: 'a required parameter is missing (the message names it)' },
  invalidParameter: { status: 400, code: 'InvalidParameter', when: 'a parameter has the wrong type or value (the message names it)' },
  invalidClientToken: { status: 400, code: 'InvalidClientToken', when: '`clientToken` is not 1–64 printable ASCII characters (status inferred)' },
  instanceNotFound: { status: 404, code: 'InstanceNotFound', when: 'no file system with that id in the account' },
  mountTargetNotFound: { status: 404, code: 'MountTargetNotFound', when: 'no such mount target under the file system' },
  idempotentMismatch: { status: 403, code: 'IdempotentParameterMismatch', when: 'the clientToken was used before with other parameters' },
  multiRequestConflict: { status: 409, code: 'MultiRequestConflict', when: 'a request with the same clientToken is still in flight' },
  notImplemented: { status: 501, code: 'NotImplemented', when: 'the operation is declared but not implemented by this server' },
  // CFS-specific codes (§4.2). Statuses not marked [doc] there follow BCE conventions (inferred).
  invalidFsName: {
    status: 400,
    code: 'InvalidFSName',
    when: 'the file system name does not meet the rules (status documented; code name inferred, the vendor row was not captured)',
  },
  invalidFsType: { status: 400, code: 'InvalidFSType', when: '`type` is not `cap`/`ssd` (status inferred)' },
  invalidFsProtocol: {
    status: 400,
    code: 'InvalidFSProtocol',
    when: 'The FS PROTOCOL is invalid: protocol not `nfs`/`smb`, or `smb`, which this server does not serve',
  },
  availabilityZoneNotFound: { status: 400, code: 'AvailabilityZoneNotFound', when: 'The specified availability zone does not exist.' },
  alreadyMounted: { status: 409, code: 'AlreadyMounted', when: 'the file system already has a mount target in that subnet (status inferred)' },
  dropMountedFs: { status: 409, code: 'DropMountedFS', when: 'dropping a file system that still has mount targets (status inferred)' },
  rateLimit: { status: 429, code: 'RateLimit', when: 'request rate exceeded (status inferred)' },
  // Not in the vendor tables; named after BCE conventions (inferred).
  fsNumQuotaExceeded: {
    status: 400,
    code: 'FsNumQuotaExceeded',
    when: 'the account already has as many file systems as GetFsQuota allows (status inferred)',
  },
  invalidVpcId: { status: 400, code: 'InvalidVpcId', when: 'no such VPC, or not the VPC of the file system (status inferred)' },
  invalidSubnetId: { status: 400, code: 'InvalidSubnetId', when: 'no such subnet in the VPC (status inferred)' },
  accessGroupNotFound: { status: 404, code: 'AccessGroupNotFound', when: 'no access group with that name in the account (code and status inferred)' },
  accessGroupAlreadyExists: { status: 409, code: 'AccessGroupAlreadyExists', when: 'an access group with that name already exists (code and status inferred)' },
  accessGroupInUse: {
    status: 409,
    code: 'AccessGroupInUse',
    when: 'deleting the default group or a group still bound to a mount target (code and status inferred)',
  },
  accessRuleNotFound: { status: 404, code: 'AccessRuleNotFound', when: 'no rule with that id in the access group (code and status inferred)' },
} satisfies Record<string, DocumentedError>;
const E = CFS_ERRORS;

/** A closed string set as a union of literals. */
const Enum = <T extends string>(values: readonly T[], opts: { description?: string } = {}): TUnion<TLiteral<T>[]> =>
  Type.Union(values.map((v) => Type.Literal(v)), opts);

export const FS_TYPES = ['cap', 'ssd'] as const;
export const FS_PROTOCOLS = ['nfs', 'smb'] as const;
export const FS_STATUSES = ['available', 'updating', 'paused', 'unavailable'] as const;
export const WRITE_ACCESS = ['read_only', 'read_write'] as const;
export const USER_ACCESS = ['no_squash', 'root_squash', 'all_squash'] as const;
/** The access group every account has; it cannot be deleted (§2.3). */
export const DEFAULT_ACCESS_GROUP_NAME = 'DEFAULT_ACCESS_GROUP_NAME';

const Marker = Type.Optional(Type.String({ maxLength: 256, description: 'opaque; the previous page\'s nextMarker' }));
const MaxKeys = Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 1000 }));
/** Idempotency token (§1.3), accepted on every create-type POST: printable ASCII, at most 64 characters. */
const ClientToken = Type.Optional(
  Type.String({ maxLength: 64, pattern: '^[!-~]*$', description: 'idempotency token, valid 24 h', ...invalidAs(E.invalidClientToken) }),
);
/** Paging fields of every list response (§1.4); `marker` absent on an empty list, `nextMarker` only when truncated. */
export const Paging = {
  marker: Type.Optional(Type.String()),
  isTruncated: Type.Boolean(),
  nextMarker: Type.Optional(Type.String()),
  maxKeys: Type.Integer(),
};

const FsId = Type.String({ minLength: 1, maxLength: 64, description: '`cfs-` + 10 alphanumerics' });
const MountId = Type.String({ minLength: 1, maxLength: 128 });
/** 1–65 bytes, starts with a letter; letters, digits, `-` `_` `/` `.` (§2.1). */
const FsName = Type.String({ minLength: 1, maxLength: 65, pattern: '^[A-Za-z][A-Za-z0-9_./-]{0,64}$', ...invalidAs(E.invalidFsName) });
const AG_NAME_PATTERN = '[A-Za-z][A-Za-z0-9_.-]{0,64}';
/** Access group name: 1–65 bytes, starts with a letter; letters, digits, `-` `_` `.` (§3.6, §3.11). */
const AgName = Type.String({ minLength: 1, maxLength: 65, pattern: `^${AG_NAME_PATTERN}$` });
/** The same, where `""` means "use the default group" (CreateMountTarget). */
const AgNameOrEmpty = Type.String({ maxLength: 65, pattern: `^(${AG_NAME_PATTERN})?$` });
/** Bytes; `0` = no hard limit, otherwise 1 GB … 10 PB (bounds accept both decimal and binary units). */
const CapacityQuota = Type.Union([Type.Literal(0), Type.Integer({ minimum: 1_000_000_000, maximum: 10 * 2 ** 50 })], {
  description: 'bytes; 0 = no hard limit, else 1 GB … 10 PB',
});
const FsTypeOrEmpty = Type.Union([...FS_TYPES.map((t) => Type.Literal(t)), Type.Literal('')], {
  description: '`cap` (default) | `ssd`; "" = not set',
  ...invalidAs(E.invalidFsType),
});
const FsProtocolOrEmpty = Type.Union([...FS_PROTOCOLS.map((p) => Type.Literal(p)), Type.Literal('')], {
  description: '`nfs` (default) | `smb`; "" = not set',
  ...invalidAs(E.invalidFsProtocol),
});

export const Tag = Type.Object({
  tagKey: Type.String({ minLength: 1, maxLength: 65 }),
  tagValue: Type.String({ maxLength: 65 }),
});

export const MountTarget = Type.Object({
  mountId: Type.String(),
  domain: Type.String({ description: 'the NFS server a client mounts: `mount -t nfs4 -o port=<nfs port> <domain>:/<fsId> /mnt`' }),
  subnetId: Type.String(),
  accessGroupName: Type.String(),
  ovip: Type.String({ description: "the mount target's address in its subnet (from the configured catalogue)" }),
});

export const FileSystem = Type.Object({
  fsId: Type.String(),
  fsName: Type.String(),
  type: Enum(FS_TYPES),
  protocol: Enum(FS_PROTOCOLS),
  status: Enum(FS_STATUSES),
  vpcId: Type.String(),
  zone: Type.String(),
  fsUsage: Type.String({ description: 'bytes stored, as a decimal string (unit inferred); measured in the background' }),
  capacityQuota: Type.Integer(),
  tags: Type.Array(Tag),
  mountTargetList: Type.Array(MountTarget),
});

/**
 * A mounted client (§2.6): `zone`, `vpcId` and `mountId` are documented; `clientIp` is inferred
 * (the doc example is cut off after `mountId`).
 */
export const ClientInfo = Type.Object({
  zone: Type.String(),
  vpcId: Type.String(),
  mountId: Type.String(),
  clientIp: Type.Optional(Type.String({ description: "the client's address (always sent by this server)" })),
});

/** Access rule fields as sent in CreateAccessRule / UpdateAccessRule bodies (§2.4). */
const AccessRuleFields = {
  ip: Type.String({
    maxLength: 64,
    pattern: '^([0-9]{1,3}(\\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$',
    description: 'IPv4 or IPv6 address or network address',
  }),
  mask: Type.Integer({ minimum: 0, maximum: 128, description: 'prefix length; 32 = one IPv4 host, 128 = one IPv6 host' }),
  writeAccess: Enum(WRITE_ACCESS),
  userAccess: Enum(USER_ACCESS),
  priority: Type.Integer({ minimum: 1, maximum: 100, description: '1 = highest' }),
};
const AccessRuleInput = Type.Object(AccessRuleFields);

export const AccessRule = Type.Object({ accessRuleId: Type.Integer(), ...AccessRuleFields });

export const AccessGroup = Type.Object({
  accessGroupName: Type.String(),
  description: Type.Optional(Type.String({ description: 'always sent by this server ("" when none)' })),
  accessRules: Type.Array(AccessRule),
});

/** Per-rule result of rule creation; item fields are not documented (inferred: the new rule's id). */
export const CreateAccessRuleResult = Type.Object({ accessRuleId: Type.Integer() });

const fsParams = Type.Object({ fsId: FsId });
const mountParams = Type.Object({ fsId: FsId, mountId: MountId });
const agParams = Type.Object({ agName: AgName });
const ruleParams = Type.Object({ agName: AgName, arId: Type.Integer({ minimum: 0, maximum: MAX_INT32 }) });
const Description = Type.String({ maxLength: 1024 });

/** Errors every operation with a body can answer. */
const BODY = [E.missingParameter, E.invalidParameter, E.inappropriateJson, E.malformedJson];
/** Errors of an operation with a clientToken. */
const TOKEN = [E.invalidClientToken, E.idempotentMismatch, E.multiRequestConflict];

export const cfsOps = {
  // ---- File systems (§3.1–3.5, §3.20) ----
  createFileSystem: op({
    ...bce,
    name: 'CreateFileSystem',
    method: 'POST',
    path: '/v1/cfs',
    summary: 'Create a file system (postpaid)',
    role: 'owner',
    query: Type.Object({ clientToken: ClientToken }),
    idempotencyToken: 'clientToken',
    body: Type.Object({
      fsName: FsName,
      zone: Type.String({ minLength: 1, maxLength: 64, description: 'availability zone, e.g. zoneB' }),
      type: Type.Optional(FsTypeOrEmpty),
      protocol: Type.Optional(FsProtocolOrEmpty),
      /** The Java SDK's spelling of `protocol`. */
      protocal: Type.Optional(FsProtocolOrEmpty),
      tags: Type.Optional(Type.Array(Tag, { maxItems: 100 })),
      capacityQuota: Type.Optional(CapacityQuota),
      vpcId: Type.Optional(Type.String({ maxLength: 64 })),
    }),
    response: Type.Object({ fsId: Type.String() }),
    errors: [
      ...BODY,
      E.invalidFsName,
      E.invalidFsType,
      E.invalidFsProtocol,
      E.availabilityZoneNotFound,
      E.invalidVpcId,
      E.fsNumQuotaExceeded,
      ...TOKEN,
    ],
  }),

  queryFileSystem: op({
    ...bce,
    name: 'QueryFileSystem',
    method: 'GET',
    path: '/v1/cfs',
    summary: "List the account's file systems",
    role: 'owner',
    query: Type.Object({
      userId: Type.Optional(Type.String({ description: 'documented as required; defaults to the caller' })),
      fsId: Type.Optional(
        Type.String({ pattern: '^[^,]*(,[^,]*){0,99}$', description: 'one id or a comma list, at most 100' }),
      ),
      marker: Marker,
      maxKeys: MaxKeys,
      filterTag: Type.Optional(Type.String({ description: '{key}:{value}; {key}:@@@ matches any value' })),
    }),
    response: Type.Object({ fileSystemList: Type.Array(FileSystem), ...Paging }),
    errors: [E.invalidParameter, E.inappropriateJson],
  }),

  updateFileSystem: op({
    ...bce,
    name: 'UpdateFileSystem',
    method: 'PUT',
    path: '/v1/cfs/{fsId}',
    summary: 'Rename a file system or change its capacity quota',
    role: 'owner',
    params: fsParams,
    body: Type.Object({
      fsName: Type.Optional(FsName),
      capacityQuota: Type.Optional(CapacityQuota),
    }),
    errors: [...BODY, E.invalidFsName, E.instanceNotFound],
  }),

  dropFileSystem: op({
    ...bce,
    name: 'DropFileSystem',
    method: 'DELETE',
    path: '/v1/cfs/{fsId}',
    summary: 'Release a file system and its files (all mount targets must be dropped first)',
    role: 'owner',
    params: fsParams,
    errors: [E.invalidParameter, E.inappropriateJson, E.instanceNotFound, E.dropMountedFs],
  }),

  updateFileSystemTags: op({
    ...bce,
    name: 'UpdateFileSystemTags',
    method: 'POST',
    path: '/v1/cfs',
    queryFlag: 'tag',
    summary: "Replace one file system's tags, or add tags to several",
    role: 'owner',
    body: Type.Object({
      fsId: Type.Array(FsId, { minItems: 1, maxItems: 10 }),
      tags: Type.Optional(Type.Array(Tag, { maxItems: 100 })),
    }),
    errors: [...BODY, E.instanceNotFound],
  }),

  getFsQuota: op({
    ...bce,
    name: 'GetFsQuota',
    method: 'GET',
    path: '/v1/cfs/quota',
    summary: 'Number of file systems allowed and already created (Java SDK only)',
    role: 'owner',
    response: Type.Object({ total: Type.Integer(), created: Type.Integer() }),
    errors: [],
  }),

  // ---- Mount targets (§3.6–3.10) ----
  createMountTarget: op({
    ...bce,
    name: 'CreateMountTarget',
    method: 'POST',
    path: '/v1/cfs/{fsId}',
    summary: 'Create a mount target (an NFS export of the file system) and return its domain (postpaid)',
    role: 'owner',
    params: fsParams,
    query: Type.Object({ clientToken: ClientToken }),
    idempotencyToken: 'clientToken',
    body: Type.Object({
      subnetId: Type.String({ minLength: 1, maxLength: 64 }),
      vpcId: Type.String({ minLength: 1, maxLength: 64 }),
      accessGroupName: Type.Optional(AgNameOrEmpty),
      address: Type.Optional(Type.String({ maxLength: 64, description: 'requested IP address in the subnet' })),
    }),
    response: Type.Object({ mountId: Type.String(), domain: Type.String() }),
    errors: [
      ...BODY,
      E.instanceNotFound,
      E.alreadyMounted,
      E.invalidVpcId,
      E.invalidSubnetId,
      E.accessGroupNotFound,
      ...TOKEN,
    ],
  }),

  queryMountTarget: op({
    ...bce,
    name: 'QueryMountTarget',
    method: 'GET',
    path: '/v1/cfs/{fsId}',
    summary: "List a file system's mount targets",
    role: 'owner',
    params: fsParams,
    query: Type.Object({
      mountId: Type.Optional(Type.String({ maxLength: 128 })),
      marker: Marker,
      maxKeys: MaxKeys,
    }),
    response: Type.Object({ mountTargetList: Type.Array(MountTarget), ...Paging }),
    errors: [E.invalidParameter, E.inappropriateJson, E.instanceNotFound],
  }),

  modifyMountTargetAccessGroup: op({
    ...bce,
    name: 'ModifyMountTargetAccessGroup',
    method: 'PUT',
    path: '/v1/cfs/{fsId}/{mountId}',
    summary: 'Bind a mount target to another access group',
    role: 'owner',
    params: mountParams,
    body: Type.Object({ accessGroupName: AgName }),
    errors: [...BODY, E.instanceNotFound, E.mountTargetNotFound, E.accessGroupNotFound],
  }),

  dropMountTarget: op({
    ...bce,
    name: 'DropMountTarget',
    method: 'DELETE',
    path: '/v1/cfs/{fsId}/{mountId}',
    summary: 'Delete a mount target (its NFS export goes with it)',
    role: 'owner',
    params: mountParams,
    errors: [E.invalidParameter, E.inappropriateJson, E.instanceNotFound, E.mountTargetNotFound],
  }),

  queryMountedClients: op({
    ...bce,
    name: 'QueryMountedClients',
    method: 'GET',
    path: '/v1/cfs/clients',
    summary: 'List the NFS clients of a file system, as far as the NFS server reports them',
    role: 'owner',
    query: Type.Object({ fsId: FsId, marker: Marker, maxKeys: MaxKeys }),
    response: Type.Object({ clientInfoList: Type.Array(ClientInfo), ...Paging }),
    errors: [E.missingParameter, E.invalidParameter, E.inappropriateJson, E.instanceNotFound],
  }),

  // ---- Access groups (§3.11–3.14) ----
  createAccessGroup: op({
    ...bce,
    name: 'CreateAccessGroup',
    method: 'POST',
    path: '/v1/accessGroup',
    summary: 'Create a permission (access) group',
    role: 'owner',
    query: Type.Object({ clientToken: ClientToken }),
    idempotencyToken: 'clientToken',
    body: Type.Object({ accessGroupName: AgName, description: Type.Optional(Description) }),
    errors: [...BODY, E.accessGroupAlreadyExists, ...TOKEN],
  }),

  queryAccessGroups: op({
    ...bce,
    name: 'QueryAccessGroups',
    method: 'GET',
    path: '/v1/accessGroup',
    summary: 'List access groups with their rules (all, or one by name)',
    role: 'owner',
    query: Type.Object({
      accessGroupName: Type.Optional(Type.String({ maxLength: 65, description: 'name filter (doc request line spelling)' })),
      agName: Type.Optional(Type.String({ maxLength: 65, description: 'name filter (doc table / metadata spelling)' })),
      marker: Marker,
      maxKeys: MaxKeys,
    }),
    response: Type.Object({ accessGroups: Type.Array(AccessGroup), ...Paging }),
    errors: [E.invalidParameter, E.inappropriateJson],
  }),

  updateAccessGroup: op({
    ...bce,
    name: 'UpdateAccessGroup',
    method: 'PUT',
    path: '/v1/accessGroup/{agName}',
    summary: "Change an access group's description",
    role: 'owner',
    params: agParams,
    body: Type.Object({ description: Type.Optional(Description) }),
    errors: [...BODY, E.accessGroupNotFound],
  }),

  deleteAccessGroup: op({
    ...bce,
    name: 'DeleteAccessGroup',
    method: 'DELETE',
    path: '/v1/accessGroup/{agName}',
    summary: 'Delete an access group (not the default one, nor one bound to a mount target)',
    role: 'owner',
    params: agParams,
    errors: [E.invalidParameter, E.inappropriateJson, E.accessGroupNotFound, E.accessGroupInUse],
  }),

  // ---- Access rules (§3.15–3.19) ----
  createAccessRule: op({
    ...bce,
    name: 'CreateAccessRule',
    method: 'POST',
    path: '/v1/accessGroup/{agName}',
    summary: 'Add a rule to an access group',
    role: 'owner',
    params: agParams,
    query: Type.Object({ clientToken: ClientToken }),
    idempotencyToken: 'clientToken',
    body: AccessRuleInput,
    /** Not documented; inferred from the batch call's per-rule result. */
    response: CreateAccessRuleResult,
    errors: [...BODY, E.accessGroupNotFound, ...TOKEN],
  }),

  batchCreateAccessRules: op({
    ...bce,
    name: 'BatchCreateAccessRules',
    method: 'POST',
    path: '/v1/accessGroup/batchCreateAccessRule',
    summary: 'Add up to 100 rules to an access group (snake_case body)',
    role: 'owner',
    query: Type.Object({ clientToken: ClientToken }),
    idempotencyToken: 'clientToken',
    body: Type.Object({
      ag_name: AgName,
      access_rules: Type.Array(
        Type.Object({
          ip: AccessRuleFields.ip,
          mask: AccessRuleFields.mask,
          write_access: AccessRuleFields.writeAccess,
          user_access: AccessRuleFields.userAccess,
          priority: AccessRuleFields.priority,
        }),
        { minItems: 1, maxItems: 100 },
      ),
    }),
    response: Type.Object({ responses: Type.Array(CreateAccessRuleResult) }),
    errors: [...BODY, E.accessGroupNotFound, ...TOKEN],
  }),

  queryAccessRules: op({
    ...bce,
    name: 'QueryAccessRules',
    method: 'GET',
    path: '/v1/accessGroup/{agName}',
    summary: "List an access group's rules",
    role: 'owner',
    params: agParams,
    query: Type.Object({
      accessRuleId: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_INT32, description: 'rule id filter (doc request line spelling)' })),
      arId: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_INT32, description: 'rule id filter (doc table / metadata spelling)' })),
      marker: Marker,
      maxKeys: MaxKeys,
    }),
    response: Type.Object({ accessRules: Type.Array(AccessRule), ...Paging }),
    errors: [E.invalidParameter, E.inappropriateJson, E.accessGroupNotFound],
  }),

  updateAccessRule: op({
    ...bce,
    name: 'UpdateAccessRule',
    method: 'PUT',
    path: '/v1/accessGroup/{agName}/{arId}',
    summary: 'Replace an access rule',
    role: 'owner',
    params: ruleParams,
    body: AccessRuleInput,
    errors: [...BODY, E.accessGroupNotFound, E.accessRuleNotFound],
  }),

  deleteAccessRule: op({
    ...bce,
    name: 'DeleteAccessRule',
    method: 'DELETE',
    path: '/v1/accessGroup/{agName}/{arId}',
    summary: 'Delete an access rule',
    role: 'owner',
    params: ruleParams,
    errors: [E.invalidParameter, E.inappropriateJson, E.accessGroupNotFound, E.accessRuleNotFound],
  }),
};

export const CfsSchemas = { Marker, MaxKeys, ClientToken, FsId, MountId, FsName, AgName, AgNameOrEmpty, CapacityQuota };
