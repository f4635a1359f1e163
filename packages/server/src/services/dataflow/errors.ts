/**
 * Data Flow's errors: factories from the operation table's catalogue. Data Flow answers in English
 * only (its problem-details `detail` is not localised by the real service).
 */
import { DATAFLOW_ERRORS } from '@stockade/sdk';
import { defineErrors } from '../../platform/errors.js';

export const errors = defineErrors(DATAFLOW_ERRORS, {
  badParameter: '{detail}',
  badState: '{detail}',
  jobNotFound: 'Job not found: {jobId}',
  triggerNotFound: 'Trigger not found: {triggerId}',
  workflowNotFound: 'Workflow not found: {workflowId}',
  executionNotFound: 'Job execution not found: {executionId}',
  notImplemented: 'The operation is not implemented by this server.',
});
