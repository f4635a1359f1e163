/** Command-line parsing shared by every `stockade` command. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A bad command line: printed as one `stockade:` line, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parse `args` against `base` plus `extra` options (strict, positionals allowed); errors are UsageErrors. */
export function parseCommandLine<B extends Options, E extends Options>(
  args: string[],
  base: B,
  extra: E,
): ReturnType<typeof parseArgs<{ args: string[]; options: B & E; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args, options: { ...base, ...extra }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
