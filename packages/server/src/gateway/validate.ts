/**
 * Validation of path parameters, query strings and JSON bodies against the operation table's
 * TypeBox schemas. Checkers are compiled once per schema. Query values arrive as strings and are
 * converted to the declared types first; declared defaults are applied.
 */
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { Kind, type TSchema } from '@sinclair/typebox';
import { INVALID_AS, type DocumentedError } from '@stockade/sdk';
import type { ValidationInfo } from '../platform/errors.js';

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

function checker(schema: TSchema): TypeCheck<TSchema> {
  let c = compiled.get(schema);
  if (!c) {
    c = TypeCompiler.Compile(schema);
    compiled.set(schema, c);
  }
  return c;
}

export class ValidationFailure extends Error {
  constructor(
    message: string,
    /** Which field failed, and how, for protocols that name it (CFS `MissingParameter`). */
    readonly info?: ValidationInfo,
  ) {
    super(message);
  }
}

/** The first problem in a value, naming the field as a client would (`a.b[2]`). */
function firstError(check: TypeCheck<TSchema>, value: unknown, where: string): ValidationFailure {
  const e = check.Errors(value).First();
  if (!e) return new ValidationFailure(`invalid ${where}`);
  const field = e.path
    .split('/')
    .slice(1)
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
  const missing = e.value === undefined;
  const message = field ? (missing ? `${field} is required` : `${field}: ${e.message}`) : `${where}: ${e.message}`;
  const invalidAs = (e.schema as Record<string, unknown>)[INVALID_AS] as DocumentedError | undefined;
  return new ValidationFailure(message, field ? { field, missing, ...(invalidAs ? { invalidAs } : {}) } : undefined);
}

/**
 * The deepest nesting of arrays and objects in JSON text, read without recursion (strings
 * skipped). Validation walks a value recursively; a body nested thousands deep would exhaust the
 * stack there, so the gateway refuses one deeper than MAX_JSON_DEPTH first.
 */
export function jsonDepth(text: Uint8Array): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/**
 * The first field (`a.b[2]`, or a key's own path) of a validated input whose string value or
 * object key holds U+0000. No operation has a use for it and PostgreSQL cannot store it in text,
 * so the gateway refuses it on every database alike, naming the field.
 */
export function nulField(value: unknown, prefix = ''): string | undefined {
  const stack: Array<[unknown, string]> = [[value, prefix]];
  while (stack.length > 0) {
    const [v, at] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return at;
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${at}[${i}]`]);
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>).reverse();
      for (const [k, child] of entries) {
        const name = at ? `${at}.${k}` : k;
        if (k.includes('\u0000')) return name;
        stack.push([child, name]);
      }
    }
  }
  return undefined;
}

/** The deepest body a request may send: far beyond any operation's own shape (Data Flow job nodes carry free-form properties). */
export const MAX_JSON_DEPTH = 64;

/** Validate (and convert, and default) a value; returns the value to use or throws ValidationFailure. */
export function validate(schema: TSchema, value: unknown, where: string, opts: { convert?: boolean } = {}): unknown {
  const check = checker(schema);
  let v = value;
  if (opts.convert) {
    strictIntegers(schema, value);
    v = Value.Convert(schema, v);
  }
  v = Value.Default(schema, v);
  if (!check.Check(v)) throw firstError(check, v, where);
  return v;
}

/**
 * TypeBox's conversion truncates `"1.5"` to 1 for an integer; a client sending that meant
 * something else, so a query or path integer must be written as one.
 */
function strictIntegers(schema: TSchema, value: unknown): void {
  if (!value || typeof value !== 'object' || schema[Kind] !== 'Object') return;
  const props = (schema as TSchema & { properties: Record<string, TSchema> }).properties;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (props[k]?.type === 'integer' && typeof v === 'string' && !/^-?\d+$/.test(v.trim())) {
      throw new ValidationFailure(`${k}: Expected integer`, { field: k, missing: false });
    }
  }
}

/**
 * Removes the fields the schema does not declare, at any depth, from a validated value (in
 * place), and returns their names (`a.b[2].c`): a handler only ever sees declared fields.
 * Objects that allow additional properties (Data Flow job nodes) and records (string maps) are
 * kept whole. In a union, the branch that validates with the fewest undeclared fields counts.
 */
export function dropUndeclared(schema: TSchema, value: unknown, prefix = ''): string[] {
  return walkUndeclared(schema, value, prefix, true);
}

function walkUndeclared(schema: TSchema, value: unknown, prefix: string, drop: boolean): string[] {
  if (value === null || typeof value !== 'object') return [];
  if (schema[Kind] === 'Union') {
    let best: { branch: TSchema; extra: number } | undefined;
    for (const s of (schema as TSchema & { anyOf: TSchema[] }).anyOf) {
      if (!Value.Check(s, value)) continue;
      const extra = walkUndeclared(s, value, prefix, false).length;
      if (!best || extra < best.extra) best = { branch: s, extra };
    }
    return best ? walkUndeclared(best.branch, value, prefix, drop) : [];
  }
  if (Array.isArray(value)) {
    const items = (schema as TSchema & { items?: TSchema }).items;
    if (!items) return [];
    return value.flatMap((v, i) => walkUndeclared(items, v, `${prefix}[${i}]`, drop));
  }
  if (schema[Kind] !== 'Object' || schema.additionalProperties === true) return [];
  const props = (schema as TSchema & { properties: Record<string, TSchema> }).properties;
  const out: string[] = [];
  const record = value as Record<string, unknown>;
  for (const k of Object.keys(record)) {
    const name = prefix ? `${prefix}.${k}` : k;
    const p = Object.hasOwn(props, k) ? props[k] : undefined;
    if (!p) {
      out.push(name);
      if (drop) delete record[k];
    } else out.push(...walkUndeclared(p, record[k], name, drop));
  }
  return out;
}
