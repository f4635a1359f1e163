/**
 * CFS's errors: factories from the operation table's catalogue. Messages are BCE's English texts
 * (CFS is not localised); where BCE documents none, ours.
 */
import { CFS_ERRORS } from '@stockade/sdk';
import { defineErrors } from '../../platform/errors.js';

export const errors = defineErrors(CFS_ERRORS, {
  inappropriateJson: 'The JSON you provided was well-formed and valid, but not appropriate for this operation. {detail}',
  malformedJson: 'The JSON you provided was not well-formed.',
  instanceNotFound: 'The file system {fsId} does not exist.',
  mountTargetNotFound: 'The mount target {mountId} does not exist.',
  idempotentMismatch: 'The request uses the same client token as a previous, but non-identical request.',
  multiRequestConflict: 'A request with the same client token is still in progress.',
  notImplemented: 'The operation is not implemented by this server.',
});
