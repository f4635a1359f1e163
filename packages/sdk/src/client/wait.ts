export interface WaitForOptions {
  /** Give up after this long (default 60 000 ms). */
  timeoutMs?: number;
  /** Pause between polls (default 1 000 ms). */
  intervalMs?: number;
  signal?: AbortSignal;
}

/** Thrown by `waitFor` when the predicate never held; `lastValue` is the final poll's result. */
export class WaitForTimeoutError extends Error {
  override readonly name = 'WaitForTimeoutError';
  constructor(
    readonly timeoutMs: number,
    readonly lastValue: unknown,
  ) {
    super(`condition not met within ${timeoutMs} ms`);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Polls `fn` until `predicate` holds for its result and returns that result. Errors thrown by
 * `fn` or `predicate` propagate. Throws `WaitForTimeoutError` once `timeoutMs` has elapsed.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  predicate: (value: T) => boolean | Promise<boolean>,
  options: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const intervalMs = options.intervalMs ?? 1_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (await predicate(value)) return value;
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new WaitForTimeoutError(timeoutMs, value);
    await sleep(Math.min(intervalMs, remaining), options.signal);
  }
}
