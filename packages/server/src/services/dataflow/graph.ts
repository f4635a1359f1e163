/**
 * A job's node graph (dataflow.md §1.3): the rules of §1.3.5, the schema of every node propagated
 * from its sources' `fieldList`s, and each node compiled to DuckDB SQL.
 *
 * One function, `planNode`, does all three for one node given its parents' schemas, so what
 * createJob/updateJob/verifyJob accept is exactly what the engine can compile:
 *
 * - on a request (`validateGraph`) the schemas come from the sources' `fieldList`s through each
 *   transform; after a `TRANSFORM_SQL` the schema is unknown (its SQL is not parsed here), and the
 *   column checks of the nodes below it are left to the run (DuckDB's binder names the column);
 * - in the engine's child process (`engine-child.ts`) the same function runs with the real schema of
 *   every parent (DuckDB's `DESCRIBE` of the parent's view), and its SQL is executed.
 *
 * A rule that fails is a `GraphError` naming the node and the field; the handlers answer it as
 * `400 bad-parameter` with that text as the detail.
 */

/** A column of a node's output: its name and DuckDB type. */
export interface Column {
  name: string;
  duck: string;
}
/** A node's output schema; null when it is known only at run time (below a TRANSFORM_SQL). */
export type Schema = Column[] | null;

export interface FieldDoc {
  name: string;
  type: string;
  properties?: FieldDoc[];
}

export interface NodeDoc {
  id: number;
  name: string;
  type: string;
  parentNodeIds: number[];
  [prop: string]: unknown;
}

export class GraphError extends Error {
  constructor(
    readonly node: NodeDoc | null,
    readonly field: string | null,
    message: string,
  ) {
    const where = node ? `node ${node.id} (${node.type})` : 'nodes';
    super(`${where}${field ? `, field ${field}` : ''}: ${message}`);
  }
}

export const SOURCE_TYPES = ['SOURCE_OBS', 'SOURCE_CATALOG', 'SOURCE_CDB_MYSQL', 'SOURCE_CDB_POSTGRESQL'] as const;
export const TARGET_TYPES = ['TARGET_OBS', 'TARGET_CATALOG', 'TARGET_CDB_MYSQL', 'TARGET_CDB_POSTGRESQL'] as const;
export const TRANSFORM_TYPES = [
  'TRANSFORM_DEFINE',
  'TRANSFORM_SELECT',
  'TRANSFORM_RENAME',
  'TRANSFORM_FILTER',
  'TRANSFORM_JOIN',
  'TRANSFORM_UNION',
  'TRANSFORM_AGGREGATE',
  'TRANSFORM_DROP_DUPLICATION',
  'TRANSFORM_FILL_MISSING_VALUES',
  'TRANSFORM_SQL',
  'TRANSFORM_DROP_NULL',
  'TRANSFORM_SPLIT_FIELD',
] as const;
const ALL_TYPES: readonly string[] = [...SOURCE_TYPES, ...TRANSFORM_TYPES, ...TARGET_TYPES];

export const isSource = (t: string): boolean => (SOURCE_TYPES as readonly string[]).includes(t);
export const isTarget = (t: string): boolean => (TARGET_TYPES as readonly string[]).includes(t);

/** SQL identifier and string literal quoting. */
export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;
export const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;
/** The view a node's output is registered as in the engine. */
export const viewOf = (id: number): string => ident(`n_${id}`);

// ── field types ──────────────────────────────────────────────────────────────────────────

/**
 * The 21 types of §1.3.2 as DuckDB types (docs/dataflow.md lists them). Choices where Hive/Spark
 * and DuckDB differ: `Void` → VARCHAR (always NULL); `Decimal` → DECIMAL(38,10) (no precision
 * field exists); `Datetime` and `Timestamp` → TIMESTAMP; `TimestampWithTimeZone` → TIMESTAMPTZ;
 * `Array` → the list of its first member's type (VARCHAR[] without members); `Map` → MAP of its
 * two members' types (key, value; VARCHAR → VARCHAR without members); `Struct` → STRUCT of its
 * members; `Uniontype` → UNION of its members.
 */
const SCALARS: Record<string, string> = {
  void: 'VARCHAR',
  boolean: 'BOOLEAN',
  tinyint: 'TINYINT',
  smallint: 'SMALLINT',
  int: 'INTEGER',
  bigint: 'BIGINT',
  float: 'FLOAT',
  double: 'DOUBLE',
  string: 'VARCHAR',
  char: 'VARCHAR',
  varchar: 'VARCHAR',
  date: 'DATE',
  datetime: 'TIMESTAMP',
  timestamp: 'TIMESTAMP',
  decimal: 'DECIMAL(38,10)',
  binary: 'BLOB',
  timestampwithtimezone: 'TIMESTAMPTZ',
};
export const FIELD_TYPES = [
  'Void', 'Boolean', 'Tinyint', 'Smallint', 'Int', 'Bigint', 'Float', 'Double', 'String', 'Char', 'Varchar', 'Date',
  'Datetime', 'Timestamp', 'Decimal', 'Binary', 'TimestampWithTimeZone', 'Array', 'Map', 'Struct', 'Uniontype',
];

/** The DuckDB type of a field (types are matched case-insensitively, §1.3.2). */
export function duckType(f: FieldDoc, node: NodeDoc | null, where: string): string {
  if (typeof f.type !== 'string') throw new GraphError(node, where, 'type is required');
  const t = f.type.toLowerCase();
  const scalar = SCALARS[t];
  if (scalar) return scalar;
  const members = Array.isArray(f.properties) ? f.properties : [];
  const member = (m: FieldDoc, i: number) => {
    if (!m || typeof m !== 'object') throw new GraphError(node, `${where}.properties[${i}]`, 'must be a field object');
    return duckType(m, node, `${where}.properties[${i}]`);
  };
  switch (t) {
    case 'array':
      return `${members[0] ? member(members[0], 0) : 'VARCHAR'}[]`;
    case 'map':
      return members.length >= 2 ? `MAP(${member(members[0]!, 0)}, ${member(members[1]!, 1)})` : 'MAP(VARCHAR, VARCHAR)';
    case 'struct':
    case 'uniontype': {
      if (members.length === 0) throw new GraphError(node, `${where}.properties`, `a ${f.type} needs its members`);
      const parts = members.map((m, i) => {
        if (!m || typeof m.name !== 'string' || m.name === '') throw new GraphError(node, `${where}.properties[${i}].name`, 'is required');
        return `${ident(m.name)} ${member(m, i)}`;
      });
      return `${t === 'struct' ? 'STRUCT' : 'UNION'}(${parts.join(', ')})`;
    }
    default:
      throw new GraphError(node, `${where}.type`, `unknown type ${JSON.stringify(f.type)} (one of ${FIELD_TYPES.join(', ')})`);
  }
}

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*)$/;
const INTEGRAL = /^(TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/;

// ── property readers ─────────────────────────────────────────────────────────────────────

function str(node: NodeDoc, key: string, opts: { optional?: boolean; allowEmpty?: boolean } = {}): string | undefined {
  const v = node[key];
  if (v === undefined || v === null) {
    if (opts.optional) return undefined;
    throw new GraphError(node, key, 'is required');
  }
  if (typeof v !== 'string') throw new GraphError(node, key, 'must be a string');
  if (!opts.allowEmpty && v === '') throw new GraphError(node, key, 'must not be empty');
  return v;
}
const reqStr = (node: NodeDoc, key: string, allowEmpty = false): string => str(node, key, { allowEmpty })!;

function oneOf<T extends string>(node: NodeDoc, key: string, values: readonly T[], dflt?: T): T {
  const v = node[key];
  if ((v === undefined || v === null) && dflt !== undefined) return dflt;
  if (typeof v !== 'string' || !values.includes(v as T)) {
    throw new GraphError(node, key, `${v === undefined ? 'is required' : `${JSON.stringify(v)} is not valid`}: one of ${values.join(', ')}`);
  }
  return v as T;
}

function list(node: NodeDoc, key: string, opts: { minItems?: number; optional?: boolean } = {}): unknown[] {
  const v = node[key];
  if ((v === undefined || v === null) && opts.optional) return [];
  if (!Array.isArray(v)) throw new GraphError(node, key, v === undefined ? 'is required' : 'must be an array');
  if (v.length < (opts.minItems ?? 0)) throw new GraphError(node, key, `needs at least ${opts.minItems} item(s)`);
  return v;
}

function objects(node: NodeDoc, key: string, opts: { minItems?: number; optional?: boolean } = {}): Array<Record<string, unknown>> {
  return list(node, key, opts).map((item, i) => {
    if (!item || typeof item !== 'object' || Array.isArray(item)) throw new GraphError(node, `${key}[${i}]`, 'must be an object');
    return item as Record<string, unknown>;
  });
}

function itemStr(node: NodeDoc, item: Record<string, unknown>, where: string, key: string, allowEmpty = false): string {
  const v = item[key];
  if (typeof v !== 'string' || (!allowEmpty && v === '')) {
    throw new GraphError(node, `${where}.${key}`, v === undefined ? 'is required' : 'must be a non-empty string');
  }
  return v;
}

function fieldList(node: NodeDoc, key = 'fieldList', minItems = 1): Array<{ name: string; duck: string }> {
  const seen = new Set<string>();
  return objects(node, key, { minItems }).map((f, i) => {
    const name = itemStr(node, f, `${key}[${i}]`, 'name');
    if (seen.has(name)) throw new GraphError(node, `${key}[${i}].name`, `column ${name} is listed twice`);
    seen.add(name);
    return { name, duck: duckType(f as unknown as FieldDoc, node, `${key}[${i}]`) };
  });
}

/** The column `name` of a schema (null schema: unknown until the run, anything goes). */
function column(node: NodeDoc, schema: Schema, name: string, where: string): Column | null {
  if (schema === null) return null;
  const c = schema.find((x) => x.name === name);
  if (!c) throw new GraphError(node, where, `column ${name} does not exist in the input (columns: ${schema.map((x) => x.name).join(', ') || 'none'})`);
  return c;
}

function stringList(node: NodeDoc, key: string, opts: { minItems?: number; optional?: boolean } = {}): string[] {
  return list(node, key, opts).map((v, i) => {
    if (typeof v !== 'string' || v === '') throw new GraphError(node, `${key}[${i}]`, 'must be a column name');
    return v;
  });
}

// ── one node ─────────────────────────────────────────────────────────────────────────────

export interface PlannedNode {
  /** Output schema (null: known only at run time). */
  schema: Schema;
  /**
   * For a transform: the SELECT computing its output from its parents' views. Empty when a
   * parent's schema is unknown (requests only: the engine always knows them).
   */
  select: string;
}

const OPS: Record<string, string> = { EQ: '=', NE: '<>', GT: '>', LT: '<', GTE: '>=', LTE: '<=' };
const OPERATORS = Object.keys(OPS);
const JOINS: Record<string, string> = { INNER: 'INNER JOIN', LEFT_OUTER: 'LEFT JOIN', RIGHT_OUTER: 'RIGHT JOIN', FULL_OUTER: 'FULL JOIN' };
export const UPDATE_TYPES = ['OVERWRITE', 'APPEND', 'IGNORE'] as const;

/** A string value cast to a column's type (an unknown column type: left to DuckDB's implicit cast). */
const valueAs = (value: string, c: Column | null): string => (c ? `CAST(${literal(value)} AS ${c.duck})` : literal(value));

/**
 * Validates `node` against its parents' schemas and compiles it. `parents` are in the order of
 * `parentNodeIds`.
 */
export function planNode(node: NodeDoc, parents: Array<{ id: number; schema: Schema }>): PlannedNode {
  const one = parents[0];
  const input = one?.schema ?? null;
  const known = parents.every((p) => p.schema !== null);
  const from = one ? viewOf(one.id) : '';
  switch (node.type) {
    case 'SOURCE_OBS': {
      reqStr(node, 'regionNo');
      reqStr(node, 'bucketName');
      reqStr(node, 'prefix', true);
      oneOf(node, 'dataType', ['JSON', 'CSV', 'PARQUET', 'NDJSON'] as const);
      return { schema: fieldList(node), select: '' };
    }
    case 'SOURCE_CATALOG':
      reqStr(node, 'database');
      reqStr(node, 'table');
      reqStr(node, 'schemaVersion');
      return { schema: fieldList(node), select: '' };
    case 'SOURCE_CDB_MYSQL':
    case 'SOURCE_CDB_POSTGRESQL':
      reqStr(node, 'connectionId');
      reqStr(node, 'table');
      return { schema: fieldList(node), select: '' };

    case 'TARGET_OBS':
    case 'TARGET_CATALOG':
    case 'TARGET_CDB_MYSQL':
    case 'TARGET_CDB_POSTGRESQL': {
      if (node.type === 'TARGET_OBS') {
        reqStr(node, 'regionNo');
        reqStr(node, 'bucketName');
        reqStr(node, 'prefix', true);
        oneOf(node, 'dataType', ['JSON', 'CSV', 'PARQUET'] as const);
      } else if (node.type === 'TARGET_CATALOG') {
        reqStr(node, 'database');
        reqStr(node, 'table');
        reqStr(node, 'schemaVersion');
      } else {
        reqStr(node, 'connectionId');
        reqStr(node, 'table');
      }
      if (node.updateType !== undefined && node.updateType !== null) oneOf(node, 'updateType', UPDATE_TYPES);
      if (node.coalesce !== undefined && node.coalesce !== null) {
        if (!Number.isInteger(node.coalesce) || (node.coalesce as number) < 1 || (node.coalesce as number) > 1000) {
          throw new GraphError(node, 'coalesce', 'must be an integer from 1 to 1000');
        }
      }
      const fields = fieldList(node);
      const cols = fields.map((f, i) => {
        column(node, input, f.name, `fieldList[${i}].name`);
        return `CAST(${ident(f.name)} AS ${f.duck}) AS ${ident(f.name)}`;
      });
      return { schema: fields, select: known ? `SELECT ${cols.join(', ')} FROM ${from}` : '' };
    }

    case 'TRANSFORM_SELECT': {
      const fields = objects(node, 'fieldList', { minItems: 1 }).map((f, i) => ({ name: itemStr(node, f, `fieldList[${i}]`, 'name') }));
      const cols = fields.map((f, i) => column(node, input, f.name, `fieldList[${i}].name`));
      const schema = input === null ? null : cols.map((c) => c!);
      return { schema, select: known ? `SELECT ${fields.map((f) => ident(f.name)).join(', ')} FROM ${from}` : '' };
    }

    case 'TRANSFORM_RENAME':
    case 'TRANSFORM_DEFINE': {
      const define = node.type === 'TRANSFORM_DEFINE';
      const key = define ? 'defineFieldList' : 'renameFieldList';
      const items = objects(node, key, { minItems: 1 }).map((item, i) => {
        const name = itemStr(node, item, `${key}[${i}]`, 'name');
        const newName = itemStr(node, item, `${key}[${i}]`, 'newName');
        const duck = define ? duckType({ name, type: item.newType as string }, node, `${key}[${i}].newType`) : null;
        column(node, input, name, `${key}[${i}].name`);
        return { name, newName, duck };
      });
      if (input === null) return { schema: null, select: '' };
      const byName = new Map(items.map((i) => [i.name, i]));
      const schema: Column[] = [];
      const cols: string[] = [];
      for (const c of input) {
        const change = byName.get(c.name);
        if (!change) {
          schema.push(c);
          cols.push(ident(c.name));
          continue;
        }
        const duck = change.duck ?? c.duck;
        schema.push({ name: change.newName, duck });
        cols.push(`${change.duck ? `CAST(${ident(c.name)} AS ${duck})` : ident(c.name)} AS ${ident(change.newName)}`);
      }
      const dup = schema.find((c, i) => schema.findIndex((d) => d.name === c.name) !== i);
      if (dup) throw new GraphError(node, key, `two columns would be named ${dup.name}`);
      return { schema, select: `SELECT ${cols.join(', ')} FROM ${from}` };
    }

    case 'TRANSFORM_FILTER': {
      // filterType OR is inferred (§1.3.3); AND is the default when it is omitted (inferred).
      const joiner = oneOf(node, 'filterType', ['AND', 'OR'] as const, 'AND');
      const conds = objects(node, 'filterConditionList').map((item, i) => {
        const where = `filterConditionList[${i}]`;
        const name = itemStr(node, item, where, 'name');
        const op = item.operator;
        if (typeof op !== 'string' || !OPERATORS.includes(op)) throw new GraphError(node, `${where}.operator`, `one of ${OPERATORS.join(', ')}`);
        const value = item.value;
        if (typeof value !== 'string') throw new GraphError(node, `${where}.value`, 'must be a string');
        const c = column(node, input, name, `${where}.name`);
        return `${ident(name)} ${OPS[op]} ${valueAs(value, c)}`;
      });
      // An empty condition list keeps every row (inferred).
      const where = conds.length ? ` WHERE ${conds.map((c) => `(${c})`).join(` ${joiner} `)}` : '';
      return { schema: input, select: known ? `SELECT * FROM ${from}${where}` : '' };
    }

    case 'TRANSFORM_JOIN': {
      const joinType = oneOf(node, 'joinType', Object.keys(JOINS));
      const leftId = node.leftNodeId;
      const rightId = node.rightNodeId;
      if (typeof leftId !== 'number') throw new GraphError(node, 'leftNodeId', 'is required');
      if (typeof rightId !== 'number') throw new GraphError(node, 'rightNodeId', 'is required');
      const left = parents.find((p) => p.id === leftId);
      const right = parents.find((p) => p.id === rightId);
      if (!left || !right || leftId === rightId) {
        throw new GraphError(node, 'parentNodeIds', 'a join has exactly two parents, its leftNodeId and rightNodeId');
      }
      const prefix = str(node, 'prefix', { optional: true, allowEmpty: true }) ?? '';
      const conds = objects(node, 'joinConditionList', { minItems: 1 });
      let on = '';
      conds.forEach((item, i) => {
        const where = `joinConditionList[${i}]`;
        const lf = itemStr(node, item, where, 'leftField');
        const rf = itemStr(node, item, where, 'rightField');
        const op = item.joinOperator;
        if (typeof op !== 'string' || !OPERATORS.includes(op)) throw new GraphError(node, `${where}.joinOperator`, `one of ${OPERATORS.join(', ')}`);
        // The first condition is HEAD; later ones chain with AND/OR, folded left to right (inferred).
        const chain = item.conditionOperator;
        if (i === 0 ? chain !== 'HEAD' && chain !== undefined : chain !== 'AND' && chain !== 'OR') {
          throw new GraphError(node, `${where}.conditionOperator`, i === 0 ? 'the first condition is HEAD' : 'AND or OR after the first condition');
        }
        column(node, left.schema, lf, `${where}.leftField`);
        column(node, right.schema, rf, `${where}.rightField`);
        const c = `l.${ident(lf)} ${OPS[op]} r.${ident(rf)}`;
        on = i === 0 ? `(${c})` : `(${on} ${chain as string} (${c}))`;
      });
      if (!left.schema || !right.schema) return { schema: null, select: '' };
      // Right-hand columns whose name the left side has get `prefix` (§1.3.4, inferred); with no
      // prefix such a collision is refused rather than producing two columns of one name.
      const leftNames = new Set(left.schema.map((c) => c.name));
      const schema: Column[] = [...left.schema];
      const cols = left.schema.map((c) => `l.${ident(c.name)}`);
      for (const c of right.schema) {
        const name = leftNames.has(c.name) ? prefix + c.name : c.name;
        if (schema.some((s) => s.name === name)) {
          throw new GraphError(node, 'prefix', `column ${c.name} is on both sides: give a prefix for the right side's columns`);
        }
        schema.push({ name, duck: c.duck });
        cols.push(`r.${ident(c.name)} AS ${ident(name)}`);
      }
      return {
        schema,
        select: `SELECT ${cols.join(', ')} FROM ${viewOf(left.id)} AS l ${JOINS[joinType]} ${viewOf(right.id)} AS r ON ${on}`,
      };
    }

    case 'TRANSFORM_UNION': {
      const kind = oneOf(node, 'unionType', ['ALL', 'DISTINCT'] as const);
      // By position, as Spark's union; the first parent names the columns (inferred).
      if (known) {
        const n = parents[0]!.schema!.length;
        const bad = parents.find((p) => p.schema!.length !== n);
        if (bad) throw new GraphError(node, 'parentNodeIds', `node ${bad.id} has ${bad.schema!.length} columns, node ${parents[0]!.id} has ${n}`);
      }
      const sqlOp = kind === 'ALL' ? 'UNION ALL' : 'UNION';
      return {
        schema: input,
        select: known ? parents.map((p) => `SELECT * FROM ${viewOf(p.id)}`).join(` ${sqlOp} `) : '',
      };
    }

    case 'TRANSFORM_AGGREGATE': {
      const groups = stringList(node, 'groupByList');
      const groupCols = groups.map((g, i) => column(node, input, g, `groupByList[${i}]`));
      const aggs = objects(node, 'aggregateFieldList', { minItems: 1 }).map((item, i) => {
        const where = `aggregateFieldList[${i}]`;
        const name = itemStr(node, item, where, 'name');
        // `ResultName` as documented (capital R); `resultName` accepted too (§6.3).
        const resultKey = item.ResultName !== undefined ? 'ResultName' : 'resultName';
        const result = itemStr(node, item, where, resultKey);
        const fn = item.function;
        if (fn !== 'SUM' && fn !== 'AVG' && fn !== 'MAX' && fn !== 'MIN') throw new GraphError(node, `${where}.function`, 'one of SUM, AVG, MAX, MIN');
        const c = column(node, input, name, `${where}.name`);
        if (c && (fn === 'SUM' || fn === 'AVG') && !NUMERIC.test(c.duck)) {
          throw new GraphError(node, `${where}.name`, `${fn} needs a numeric column; ${name} is ${c.duck}`);
        }
        // Result types as Spark's: SUM of integers is BIGINT, of floats DOUBLE, of decimals
        // DECIMAL(38,10); AVG is DOUBLE (DECIMAL for decimals); MAX/MIN keep the column's type.
        let duck = c?.duck ?? '';
        let expr = `${fn}(${ident(name)})`;
        if (c && fn === 'SUM') duck = INTEGRAL.test(c.duck) ? 'BIGINT' : c.duck.startsWith('DECIMAL') ? 'DECIMAL(38,10)' : 'DOUBLE';
        if (c && fn === 'AVG') duck = c.duck.startsWith('DECIMAL') ? 'DECIMAL(38,10)' : 'DOUBLE';
        if (c && duck !== c.duck) expr = `CAST(${expr} AS ${duck})`;
        return { result, duck, expr };
      });
      const names = [...groups, ...aggs.map((a) => a.result)];
      const dup = names.find((n, i) => names.indexOf(n) !== i);
      if (dup) throw new GraphError(node, 'aggregateFieldList', `two output columns would be named ${dup}`);
      if (input === null) return { schema: null, select: '' };
      const schema = [...groupCols.map((c) => c!), ...aggs.map((a) => ({ name: a.result, duck: a.duck }))];
      const cols = [...groups.map(ident), ...aggs.map((a) => `${a.expr} AS ${ident(a.result)}`)];
      const groupBy = groups.length ? ` GROUP BY ${groups.map(ident).join(', ')}` : '';
      return { schema, select: `SELECT ${cols.join(', ')} FROM ${from}${groupBy}` };
    }

    case 'TRANSFORM_DROP_DUPLICATION': {
      // An empty list considers every column (Spark's dropDuplicates()). Which of the duplicate rows
      // is kept is unspecified, as in Spark.
      const cols = stringList(node, 'dropFieldList');
      cols.forEach((c, i) => column(node, input, c, `dropFieldList[${i}]`));
      const select = cols.length ? `SELECT DISTINCT ON (${cols.map(ident).join(', ')}) * FROM ${from}` : `SELECT DISTINCT * FROM ${from}`;
      return { schema: input, select: known ? select : '' };
    }

    case 'TRANSFORM_FILL_MISSING_VALUES': {
      const items = objects(node, 'missingValueFieldList', { minItems: 1 }).map((item, i) => {
        const where = `missingValueFieldList[${i}]`;
        const name = itemStr(node, item, where, 'name');
        const value = item.defaultValue;
        if (typeof value !== 'string') throw new GraphError(node, `${where}.defaultValue`, 'must be a string');
        const c = column(node, input, name, `${where}.name`);
        return { name, value, c };
      });
      if (input === null) return { schema: null, select: '' };
      const byName = new Map(items.map((i) => [i.name, i]));
      const cols = input.map((c) => {
        const fill = byName.get(c.name);
        return fill ? `COALESCE(${ident(c.name)}, ${valueAs(fill.value, c)}) AS ${ident(c.name)}` : ident(c.name);
      });
      return { schema: input, select: `SELECT ${cols.join(', ')} FROM ${from}` };
    }

    case 'TRANSFORM_DROP_NULL': {
      // Not documented beyond its name (§1.3.4): drops rows with a NULL in any column, or in the
      // columns of an optional `dropFieldList` (inferred).
      const only = stringList(node, 'dropFieldList', { optional: true });
      only.forEach((c, i) => column(node, input, c, `dropFieldList[${i}]`));
      if (input === null) return { schema: null, select: '' };
      const cols = only.length ? only : input.map((c) => c.name);
      const where = cols.length ? ` WHERE ${cols.map((c) => `${ident(c)} IS NOT NULL`).join(' AND ')}` : '';
      return { schema: input, select: `SELECT * FROM ${from}${where}` };
    }

    case 'TRANSFORM_SPLIT_FIELD': {
      // Not documented beyond its name (§1.3.4). Inferred properties: `fieldName` (the column to
      // split; `name` is the node's display name), `delimiter` (a string, default ","), `newFieldList` (the new columns' names, in
      // order; each a string or a field object). The parts replace the column, as VARCHARs;
      // missing parts are NULL, extra parts are dropped.
      const name = reqStr(node, 'fieldName');
      const delimiter = str(node, 'delimiter', { optional: true }) ?? ',';
      const names = list(node, 'newFieldList', { minItems: 1 }).map((v, i) => {
        const n = typeof v === 'string' ? v : v && typeof v === 'object' ? (v as { name?: unknown }).name : undefined;
        if (typeof n !== 'string' || n === '') throw new GraphError(node, `newFieldList[${i}]`, 'must be a column name');
        return n;
      });
      column(node, input, name, 'fieldName');
      if (input === null) return { schema: null, select: '' };
      const schema: Column[] = [];
      const cols: string[] = [];
      for (const c of input) {
        if (c.name !== name) {
          schema.push(c);
          cols.push(ident(c.name));
          continue;
        }
        names.forEach((n, i) => {
          schema.push({ name: n, duck: 'VARCHAR' });
          cols.push(`NULLIF(split_part(CAST(${ident(name)} AS VARCHAR), ${literal(delimiter)}, ${i + 1}), '') AS ${ident(n)}`);
        });
      }
      const dup = schema.find((c, i) => schema.findIndex((d) => d.name === c.name) !== i);
      if (dup) throw new GraphError(node, 'newFieldList', `two columns would be named ${dup.name}`);
      return { schema, select: `SELECT ${cols.join(', ')} FROM ${from}` };
    }

    case 'TRANSFORM_SQL': {
      const sql = reqStr(node, 'sql').trim().replace(/;+\s*$/, '');
      if (sql === '') throw new GraphError(node, 'sql', 'must not be empty');
      const sources = objects(node, 'sourceNameList', { minItems: 1 }).map((item, i) => {
        const where = `sourceNameList[${i}]`;
        const parentId = item.parentId;
        if (typeof parentId !== 'number' || !parents.some((p) => p.id === parentId)) {
          throw new GraphError(node, `${where}.parentId`, 'must be one of the node\'s parentNodeIds');
        }
        const newName = itemStr(node, item, where, 'newName');
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(newName)) throw new GraphError(node, `${where}.newName`, 'must be a plain table name ([A-Za-z_][A-Za-z0-9_]*)');
        return { parentId, newName };
      });
      const ids = new Set(sources.map((s) => s.parentId));
      if (ids.size !== sources.length || ids.size !== parents.length) {
        throw new GraphError(node, 'sourceNameList', 'names each parent exactly once');
      }
      const aliases = new Set(sources.map((s) => s.newName.toLowerCase()));
      if (aliases.size !== sources.length) throw new GraphError(node, 'sourceNameList', 'two parents have the same newName');
      // The parents are common table expressions of one statement; the job's SQL is its body,
      // as a subquery, so it can only be one query (no second statement, no DDL).
      const ctes = sources.map((s) => `${ident(s.newName)} AS (SELECT * FROM ${viewOf(s.parentId)})`).join(', ');
      return { schema: null, select: `WITH ${ctes} SELECT * FROM (\n${sql}\n)` };
    }

    default:
      throw new GraphError(node, 'type', `unknown node type ${JSON.stringify(node.type)}`);
  }
}

// ── the whole graph ──────────────────────────────────────────────────────────────────────

export interface ValidGraph {
  /** Nodes in an order where every node comes after its parents. */
  order: NodeDoc[];
  schemas: Map<number, Schema>;
}

/** The rules of §1.3.5 on the whole graph; throws the first `GraphError`. */
export function validateGraph(nodes: NodeDoc[]): ValidGraph {
  if (nodes.length === 0) throw new GraphError(null, null, 'a job needs at least one node');
  const byId = new Map<number, NodeDoc>();
  for (const n of nodes) {
    if (byId.has(n.id)) throw new GraphError(n, 'id', `node id ${n.id} is used twice`);
    byId.set(n.id, n);
    if (!ALL_TYPES.includes(n.type)) throw new GraphError(n, 'type', `unknown node type ${JSON.stringify(n.type)}`);
  }
  const children = new Map<number, number[]>();
  for (const n of nodes) {
    if (new Set(n.parentNodeIds).size !== n.parentNodeIds.length) throw new GraphError(n, 'parentNodeIds', 'lists a parent twice');
    for (const p of n.parentNodeIds) {
      if (!byId.has(p)) throw new GraphError(n, 'parentNodeIds', `node ${p} is not in the job`);
      if (p === n.id) throw new GraphError(n, 'parentNodeIds', 'a node cannot be its own parent');
      children.set(p, [...(children.get(p) ?? []), n.id]);
    }
    const k = n.parentNodeIds.length;
    if (isSource(n.type)) {
      if (k !== 0) throw new GraphError(n, 'parentNodeIds', 'a source has no parents');
    } else if (isTarget(n.type)) {
      if (k !== 1) throw new GraphError(n, 'parentNodeIds', 'a target has exactly one parent');
    } else if (n.type === 'TRANSFORM_JOIN') {
      if (k !== 2) throw new GraphError(n, 'parentNodeIds', 'a join has exactly two parents');
    } else if (n.type === 'TRANSFORM_UNION') {
      if (k < 2) throw new GraphError(n, 'parentNodeIds', 'a union has at least two parents');
    } else if (n.type === 'TRANSFORM_SQL') {
      if (k < 1) throw new GraphError(n, 'parentNodeIds', 'a SQL transform has at least one parent');
    } else if (k !== 1) {
      throw new GraphError(n, 'parentNodeIds', 'this transform has exactly one parent');
    }
  }
  for (const n of nodes) {
    if (isTarget(n.type) && (children.get(n.id)?.length ?? 0) > 0) throw new GraphError(n, 'id', 'a target cannot be a parent');
  }
  if (!nodes.some((n) => isSource(n.type))) throw new GraphError(null, null, 'a job needs at least one SOURCE node');
  if (!nodes.some((n) => isTarget(n.type))) throw new GraphError(null, null, 'a job needs at least one TARGET node');

  // Kahn's algorithm, keeping the request's order among ready nodes.
  const pending = new Map(nodes.map((n) => [n.id, n.parentNodeIds.length]));
  const order: NodeDoc[] = [];
  const ready = nodes.filter((n) => n.parentNodeIds.length === 0);
  while (ready.length) {
    const n = ready.shift()!;
    order.push(n);
    for (const c of children.get(n.id) ?? []) {
      const left = pending.get(c)! - 1;
      pending.set(c, left);
      if (left === 0) ready.push(byId.get(c)!);
    }
  }
  if (order.length !== nodes.length) {
    const stuck = nodes.find((n) => !order.includes(n))!;
    throw new GraphError(stuck, 'parentNodeIds', 'the graph has a cycle through this node');
  }
  // Every node now descends from a source (transforms and targets have parents, and there is no
  // cycle), so every target is reachable from one.

  const schemas = new Map<number, Schema>();
  for (const n of order) {
    const planned = planNode(
      n,
      n.parentNodeIds.map((id) => ({ id, schema: schemas.get(id)! })),
    );
    schemas.set(n.id, planned.schema);
  }
  return { order, schemas };
}
