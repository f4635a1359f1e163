/**
 * Thrown by a handler for an error that retrying cannot fix (bad payload, resource gone): the task is
 * marked failed at once.
 */
export class PermanentTaskError extends Error {
  override name = 'PermanentTaskError';
}
