/**
 * Lifecycle policies: how an asynchronous resource kind (a box being provisioned, an export being
 * reviewed, an import being copied, …) progresses to its next state. Each transition is carried by a
 * durable task (see runner.ts); the policy only decides *when* that task becomes due:
 *
 * - `immediate`: due now (the runner picks it up on its next poll, typically within milliseconds);
 * - `delay`: due `ms` milliseconds after it was enqueued (by the injectable clock);
 * - `manual`: never due on its own. The task is created with `due_at = MANUAL_DUE_AT`, a sentinel far
 *   in the future, and runs only when a test control asks for it: `runner.runDue({ includeManual: true })`
 *   (behind `/_stockade/tasks/run`) claims manual tasks as well as due ones.
 *
 * Defaults per profile (`defaultTransition(profile)`):
 * - `dev`: `immediate` (fast feedback for tests and local development);
 * - `secure`: `delay:2000` (a self-hosted deployment behaves like the real service: resources spend a
 *   visible moment in their intermediate states, which exercises clients' waiters).
 *
 * Text form (CLI flags, environment, test-control bodies): `kind=transition` pairs separated by
 * commas, e.g. `box=delay:3000,export=immediate,import=manual`. A transition is `immediate`, `manual`,
 * `delay:<ms>` or `delay=<ms>` (`<ms>` a non-negative integer, optionally suffixed `ms` or `s`).
 * The kind `*` sets the default for kinds not listed.
 */
import fs from 'node:fs';

export type Transition = { mode: 'immediate' } | { mode: 'delay'; ms: number } | { mode: 'manual' };

export type Profile = 'dev' | 'secure';

/**
 * `due_at` of tasks whose transition is manual: far beyond any real clock (the year 275760, the
 * largest JavaScript Date), yet exactly representable as a double and in a 64-bit integer column.
 */
export const MANUAL_DUE_AT = 8.64e15;

/** The key that stands for "every kind not listed" in the text and JSON forms. */
export const DEFAULT_KEY = '*';

/** Longest accepted delay: one year. */
export const MAX_DELAY_MS = 365 * 24 * 60 * 60 * 1000;

const KIND = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;

export function isManualDueAt(dueAt: number): boolean {
  return dueAt >= MANUAL_DUE_AT;
}

export function defaultTransition(profile: Profile): Transition {
  return profile === 'dev' ? { mode: 'immediate' } : { mode: 'delay', ms: 2000 };
}

/** Parses one transition: `immediate`, `manual`, `delay:3000`, `delay=3000`, `delay:3s`. */
export function parseTransition(text: string): Transition {
  const s = text.trim();
  if (s === 'immediate') return { mode: 'immediate' };
  if (s === 'manual') return { mode: 'manual' };
  const m = /^delay\s*[:=]\s*(\d+)\s*(ms|s)?$/.exec(s);
  if (m) {
    const ms = Number(m[1]) * (m[2] === 's' ? 1000 : 1);
    if (!Number.isSafeInteger(ms) || ms > MAX_DELAY_MS) {
      throw new Error(`invalid transition ${JSON.stringify(text)}: delay must be at most ${MAX_DELAY_MS} ms`);
    }
    return { mode: 'delay', ms };
  }
  throw new Error(
    `invalid transition ${JSON.stringify(text)}: expected "immediate", "manual" or "delay:<ms>" (e.g. "delay:3000")`,
  );
}

export function formatTransition(t: Transition): string {
  return t.mode === 'delay' ? `delay:${t.ms}` : t.mode;
}

function checkKind(kind: string, context: string): void {
  if (kind !== DEFAULT_KEY && !KIND.test(kind)) {
    throw new Error(
      `invalid resource kind ${JSON.stringify(kind)} in ${context}: expected a name such as "box" (letters, digits, _ . : -) or "*"`,
    );
  }
}

/** Validates a transition given as an object (e.g. parsed JSON). */
function checkTransitionObject(value: unknown, context: string): Transition {
  if (typeof value === 'string') {
    try {
      return parseTransition(value);
    } catch (err) {
      throw new Error(`${context}: ${(err as Error).message}`);
    }
  }
  if (typeof value === 'object' && value !== null) {
    const v = value as { mode?: unknown; ms?: unknown };
    if (v.mode === 'immediate' || v.mode === 'manual') return { mode: v.mode };
    if (v.mode === 'delay') {
      if (typeof v.ms === 'number' && Number.isSafeInteger(v.ms) && v.ms >= 0 && v.ms <= MAX_DELAY_MS) {
        return { mode: 'delay', ms: v.ms };
      }
      throw new Error(`invalid transition in ${context}: "ms" must be an integer between 0 and ${MAX_DELAY_MS}`);
    }
  }
  throw new Error(
    `invalid transition ${JSON.stringify(value)} in ${context}: expected "immediate", "manual", "delay:<ms>" or {"mode":"delay","ms":<ms>}`,
  );
}

/**
 * Parses `box=delay:3000,export=immediate,import=manual` into a record. Whitespace around items is
 * ignored and an empty string gives `{}`. Throws an Error naming the offending item for a missing
 * `=`, an empty or malformed kind, an unknown transition or a kind listed twice.
 */
export function parseTransitions(spec: string): Record<string, Transition> {
  const out: Record<string, Transition> = {};
  if (spec.trim() === '') return out;
  for (const raw of spec.split(',')) {
    const item = raw.trim();
    if (item === '') throw new Error(`invalid transitions ${JSON.stringify(spec)}: empty item (stray comma?)`);
    const eq = item.indexOf('=');
    if (eq < 0) {
      throw new Error(`invalid transitions item ${JSON.stringify(item)}: expected kind=transition, e.g. box=delay:3000`);
    }
    const kind = item.slice(0, eq).trim();
    checkKind(kind, `transitions item ${JSON.stringify(item)}`);
    if (Object.hasOwn(out, kind)) throw new Error(`invalid transitions: kind ${JSON.stringify(kind)} is listed twice`);
    out[kind] = parseTransition(item.slice(eq + 1));
  }
  return out;
}

/**
 * Parses a transitions record given as JSON: values are text forms (`"delay:3000"`) or objects
 * (`{"mode":"delay","ms":3000}`).
 */
export function transitionsFromJSON(value: unknown, context = 'transitions'): Record<string, Transition> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`invalid ${context}: expected an object such as {"box":"delay:3000"}`);
  }
  const out: Record<string, Transition> = {};
  for (const [kind, t] of Object.entries(value)) {
    checkKind(kind, context);
    out[kind] = checkTransitionObject(t, `${context}.${kind}`);
  }
  return out;
}

/** Reads `{ "transitions": { "box": "delay:3000", "export": "immediate" } }` from a JSON file. */
export function loadTransitionsFile(file: string): Record<string, Transition> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read transitions file ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`invalid JSON in transitions file ${file}: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || !('transitions' in doc)) {
    throw new Error(`invalid transitions file ${file}: expected {"transitions": {"<kind>": "<transition>", …}}`);
  }
  return transitionsFromJSON((doc).transitions, `${file}: transitions`);
}

export interface LifecyclePoliciesOptions {
  /** Transition of kinds without their own; default `defaultTransition('dev')` (`immediate`). */
  default?: Transition;
  /** Per-kind transitions (the key `*` replaces the default). */
  transitions?: Record<string, Transition>;
}

/** The current transition of each resource kind; mutable at run time through test controls. */
export class LifecyclePolicies {
  #default: Transition;
  readonly #initialDefault: Transition;
  readonly #byKind = new Map<string, Transition>();
  readonly #initial: Record<string, Transition>;

  constructor(opts: LifecyclePoliciesOptions = {}) {
    this.#default = opts.default ?? defaultTransition('dev');
    this.#initial = { ...(opts.transitions ?? {}) };
    this.setAll(this.#initial);
    this.#initialDefault = this.#default;
  }

  static forProfile(profile: Profile, transitions: Record<string, Transition> = {}): LifecyclePolicies {
    return new LifecyclePolicies({ default: defaultTransition(profile), transitions });
  }

  get default(): Transition {
    return this.#default;
  }

  get(kind: string): Transition {
    return this.#byKind.get(kind) ?? this.#default;
  }

  /** Sets one kind's transition; `*` sets the default. */
  set(kind: string, t: Transition): void {
    checkKind(kind, 'LifecyclePolicies.set');
    const checked = checkTransitionObject(t, `transition of ${kind}`);
    if (kind === DEFAULT_KEY) this.#default = checked;
    else this.#byKind.set(kind, checked);
  }

  /** Sets several kinds at once (kinds not listed keep their transition); validates all first. */
  setAll(record: Record<string, Transition>): void {
    const checked = Object.entries(record).map(([kind, t]) => {
      checkKind(kind, 'transitions');
      return [kind, checkTransitionObject(t, `transition of ${kind}`)] as const;
    });
    for (const [kind, t] of checked) this.set(kind, t);
  }

  /** Back to the transitions given to the constructor (test-control reset). */
  reset(): void {
    this.#byKind.clear();
    this.#default = this.#initialDefault;
    this.setAll(this.#initial);
  }

  /** `{ "*": "immediate", "box": "delay:3000", … }`: accepted back by `transitionsFromJSON`. */
  toJSON(): Record<string, string> {
    const out: Record<string, string> = { [DEFAULT_KEY]: formatTransition(this.#default) };
    for (const [kind, t] of [...this.#byKind].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      out[kind] = formatTransition(t);
    }
    return out;
  }

  /**
   * `due_at` for the task that carries `kind`'s next transition, enqueued at `now`: `now` (immediate),
   * `now + ms` (delay) or `MANUAL_DUE_AT` (manual: runs only through `runDue({ includeManual: true })`).
   */
  dueAt(kind: string, now: number): number {
    const t = this.get(kind);
    switch (t.mode) {
      case 'immediate':
        return now;
      case 'delay':
        return now + t.ms;
      case 'manual':
        return MANUAL_DUE_AT;
    }
  }
}
