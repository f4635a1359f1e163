/**
 * Thrown by a handler for an error that retrying cannot fix (bad payload, resource gone): the task is
 * marked failed at once.
 */
export class PermanentTaskError extends Error {
  override name = 'PermanentTaskError';
}

/** This runner no longer holds the task's lease: nothing the handler writes is recorded. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
  constructor(readonly taskId: number) {
    super(`task ${taskId}: lease lost (another runner owns the task now, or it ended)`);
  }
}

/** The reason of a handler's aborted signal when the task was canceled. */
export class TaskCanceledError extends Error {
  override name = 'TaskCanceledError';
  constructor(readonly taskId: number) {
    super(`task ${taskId} was canceled`);
  }
}

/** The reason of a handler's aborted signal when the task ran past its kind's timeout. */
export class TaskTimeoutError extends Error {
  override name = 'TaskTimeoutError';
  constructor(
    readonly taskId: number,
    readonly timeoutMs: number,
  ) {
    super(`task ${taskId} timed out after ${timeoutMs} ms`);
  }
}
