/**
 * CFS's errors: factories from the operation table's catalogue. Messages are BCE's English texts
 * (CFS is not localised); where BCE documents none, ours.
 */
import { CFS_ERRORS } from '@stockade/sdk';
import { defineErrors } from '../../platform/errors.js';

export const errors = defineErrors(CFS_ERRORS, {
  inappropriateJson: 'The JSON you provided was well-formed and valid, but not appropriate for this operation. {detail}',
  malformedJson: 'The JSON you provided was not well-formed.',
  missingParameter: 'The parameter {field} is required.',
  invalidParameter: 'The parameter {field} is invalid: {detail}',
  invalidClientToken: 'The clientToken is invalid: 1 to 64 printable ASCII characters.',
  instanceNotFound: 'The file system {fsId} does not exist.',
  mountTargetNotFound: 'The mount target {mountId} does not exist in file system {fsId}.',
  idempotentMismatch: 'The request uses the same client token as a previous, but non-identical request.',
  multiRequestConflict: 'A request with the same client token is still in progress.',
  notImplemented: 'The operation is not implemented by this server.',
  invalidFsName: 'The file system name is invalid: 1 to 65 characters, starting with a letter; letters, digits, "-", "_", "/" and ".".',
  invalidFsType: 'The FS TYPE is invalid: cap or ssd.',
  invalidFsProtocol: 'The FS PROTOCOL is invalid. {detail}',
  availabilityZoneNotFound: 'The specified availability zone {zone} does not exist.',
  alreadyMounted: 'The file system {fsId} already has a mount target in subnet {subnetId}.',
  dropMountedFs: 'The file system {fsId} still has mount targets: drop them first.',
  fsNumQuotaExceeded: 'The account already has {total} file systems, as many as its quota allows.',
  invalidVpcId: 'The VPC {vpcId} is invalid: {detail}',
  invalidSubnetId: 'The subnet {subnetId} is invalid: {detail}',
  accessGroupNotFound: 'The access group {name} does not exist.',
  accessGroupAlreadyExists: 'The access group {name} already exists.',
  accessGroupInUse: 'The access group {name} cannot be deleted: {detail}',
  accessRuleNotFound: 'The access rule {id} does not exist in access group {name}.',
});
