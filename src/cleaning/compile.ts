import { InternalError } from '../errors.js';
import type { SourceTable } from '../lake/layout.js';
import { sqlIdentifier as id, sqlString } from '../lake/duckdb.js';
import type { TextSource } from './bronze.js';
import { tableContracts } from './schema.js';
import type { CleaningRule, DedupRule, NullRule, RuleCounts } from './types.js';

/*
 * Turns a table's rule set into set-based SQL. The day's file is read once: one
 * CREATE TABLE AS SELECT computes every repair and every check of every row as columns of
 * nested projections (CASE expressions, no per-rule scan), packs the outcome of all rules
 * into bit masks, and keeps the typed silver values (plus the raw values of quarantined
 * rows). Duplicates are then ranked among the few rows whose key repeats, and two COPY
 * statements write silver and quarantine. Row numbers are the insertion order of that
 * table (DuckDB preserves the file's order), so `_row_number` is `rowid + 1`.
 *
 * Column names inside the projections:
 *   "r:<col>"              raw value as received (text)
 *   "v<i>:<col>"           value after the i-th repair of that column
 *   "rep:<rule>:<col>"     the rule repaired this value
 *   "fail:<rule>:<col>"    the rule could not repair this value
 *   "inv:<rule>:<col>"     the value fails the rule's predicate
 *   "ref:<rule>:<col>"     the value is unknown in the referenced table
 *   "fill:<rule>:<col>"    the value was missing and is filled
 *   "null:<rule>"          the row fires the null rule
 */

/** Values a rule's SQL fragment may use. */
export interface TemplateValues {
  value?: string;
  input?: string;
  output?: string;
  /** Set from the day by `dayTemplateValues`. */
  day?: string;
  day_start?: string;
  day_end?: string;
}

/** Substitutes {value}, {input}, {output}, {day}, {day_start} and {day_end} in a rule's SQL. */
export function fillTemplate(sql: string, values: TemplateValues): string {
  return sql.replace(/\{(value|input|output|day|day_start|day_end)\}/g, (match, name: keyof TemplateValues) => {
    const replacement = values[name];
    if (replacement === undefined) throw new InternalError(`rule SQL uses ${match} where it is not available: ${sql}`);
    return replacement;
  });
}

/** {day} as a DATE literal, {day_start}/{day_end} as the São Paulo midnights bounding it. */
export function dayTemplateValues(day: string): Pick<TemplateValues, 'day' | 'day_start' | 'day_end'> {
  const next = new Date(`${day}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  const midnight = (date: string) => `timezone('America/Sao_Paulo', TIMESTAMP ${sqlString(`${date} 00:00:00`)})`;
  return { day: `DATE ${sqlString(day)}`, day_start: midnight(day), day_end: midnight(next.toISOString().slice(0, 10)) };
}

/** Columns of one table/day as read from bronze (canonical names). */
export interface PresentColumns {
  contract: readonly string[];
  extra: readonly string[];
}

/** What the engine runs for one table and day. */
export interface TablePlan {
  table: SourceTable;
  /** Rules that apply, each with the columns it applies to here. */
  rules: { rule: CleaningRule; columns: string[] }[];
  /** Reference tables to load first: temp table name -> referenced silver table/column. */
  references: { tableName: string; table: SourceTable; column: string }[];
  /** CREATE TEMP TABLE checked: the one pass over the file. */
  checkedSql: string;
  /** CREATE TEMP TABLE dup (_row_number, rule) then one INSERT per key rule. */
  dupSql: string[];
  /** SELECT of silver rows (typed contract columns, then extras as text). */
  silverSelect: string;
  /** SELECT of quarantined rows (raw values, `_reasons`, `_row_number`), in file order. */
  quarantineSelect: string;
  /** SELECT of counts per destination; read its rows with `readCounts`. */
  summarySelect: string;
  readCounts: (rows: Record<string, unknown>[]) => { rules: Record<string, RuleCounts>; duplicates: number; rowsIn: number };
}

function resolveColumns(rule: CleaningRule, table: SourceTable, present: PresentColumns): string[] {
  if (rule.columns === '*') return tableContracts[table].columns.map((column) => column.name);
  const all = [...present.contract, ...present.extra];
  return rule.columns.filter((column) => all.includes(column));
}

function isExactRule(rule: CleaningRule): boolean {
  return rule.kind === 'dedup' && rule.columns !== '*' && rule.columns.length === 0;
}

/** Checks a rule set once: snake_case names unique per table, known columns, required fields per kind. */
export function validateRuleSet(rules: readonly CleaningRule[]): void {
  for (const table of Object.keys(tableContracts) as SourceTable[]) {
    const names = new Set<string>();
    for (const rule of rules.filter((item) => item.tables.includes(table))) {
      if (!/^[a-z][a-z0-9_]*$/.test(rule.name)) throw new InternalError(`rule name ${JSON.stringify(rule.name)} is not snake_case`);
      if (names.has(rule.name)) throw new InternalError(`two rules named ${rule.name} apply to ${table}`);
      names.add(rule.name);
      if (rule.columns !== '*' && !rule.optional) {
        const unknown = rule.columns.filter((column) => !rule.tables.some((t) => tableContracts[t].columns.some((c) => c.name === column)));
        if (unknown.length > 0) throw new InternalError(`rule ${rule.name} names ${unknown.join(', ')}, a column none of its tables has (mark it optional if some sources carry it)`);
      }
      if (rule.kind === 'dedup' && !isExactRule(rule) && !rule.latest) throw new InternalError(`key rule ${rule.name} needs \`latest\``);
      if (rule.kind === 'null' && rule.action === 'fill' && !rule.fill) throw new InternalError(`fill rule ${rule.name} needs \`fill\``);
    }
  }
}

const or = (parts: string[]): string => (parts.length === 0 ? 'false' : parts.length === 1 ? parts[0]! : `(${parts.join(' OR ')})`);
const and = (parts: string[]): string => (parts.length === 0 ? 'true' : parts.length === 1 ? parts[0]! : `(${parts.join(' AND ')})`);
const rawCol = (column: string): string => id(`r:${column}`);
/** 2^bit as a UBIGINT literal. */
const bitValue = (bit: number): string => `${(1n << BigInt(bit)).toString()}::UBIGINT`;

/** Compiles the rules of one table for one day into SQL over `source` (every column as text, by canonical name). */
export function compileTablePlan(table: SourceTable, present: PresentColumns, rules: readonly CleaningRule[], day: string, source: TextSource): TablePlan {
  const contract = tableContracts[table].columns;
  const contractNames = contract.map((column) => column.name);
  const dayValues = dayTemplateValues(day);
  const applied = rules
    .filter((rule) => rule.tables.includes(table))
    .map((rule) => ({ rule, columns: resolveColumns(rule, table, present) }))
    .filter(({ rule, columns }) => columns.length > 0 || isExactRule(rule));
  const allColumns = [...present.contract, ...present.extra];

  // Every per-row outcome is a named boolean ("flag") that gets one bit in a mask.
  const flagBit = new Map<string, { mask: string; bit: number }>();
  const addFlag = (name: string): string => {
    const index = flagBit.size;
    flagBit.set(name, { mask: `__m${Math.floor(index / 64)}`, bit: index % 64 });
    return name;
  };
  /** SQL testing a flag from the stored masks. */
  const test = (name: string): string => {
    const { mask, bit } = flagBit.get(name)!;
    return `((${mask} & ${bitValue(bit)}) <> 0)`;
  };

  // --- repairs: a chain per column, one projection layer per step depth -----------------
  const current = new Map<string, string>(allColumns.map((column) => [column, rawCol(column)]));
  const depth = new Map<string, number>();
  const layers: string[][] = [];
  const laterFlags: string[] = [];
  const columnFails = new Map<string, string[]>();
  const repairFlags = new Map<string, { repaired: string[]; failed: Map<string, string> }>();
  for (const { rule, columns } of applied) {
    if (rule.kind !== 'repair') continue;
    const mine = { repaired: [] as string[], failed: new Map<string, string>() };
    repairFlags.set(rule.name, mine);
    for (const column of columns) {
      const level = (depth.get(column) ?? 0) + 1;
      depth.set(column, level);
      const input = current.get(column)!;
      const output = id(`v${level}:${column}`);
      // The flags of a step sit in the same projection as the step and repeat its
      // expression: DuckDB computes common subexpressions of one projection once.
      const expression = fillTemplate(rule.expression, { value: input, ...dayValues });
      const layer = (layers[level - 1] ??= []);
      layer.push(`${expression} AS ${output}`);
      current.set(column, output);
      const canFail = rule.failsWhen !== 'false';
      const failName = `fail:${rule.name}:${column}`;
      const failed = rule.failsWhen
        ? `coalesce(${fillTemplate(rule.failsWhen, { input, output: expression, ...dayValues })}, false)`
        : `(${input} IS NOT NULL AND ${expression} IS NULL)`;
      if (canFail) {
        layer.push(`${failed} AS ${id(addFlag(failName))}`);
        mine.failed.set(column, failName);
        (columnFails.get(column) ?? columnFails.set(column, []).get(column)!).push(id(failName));
      }
      const repairedWhen = rule.repairedWhen
        ? fillTemplate(rule.repairedWhen, { input, output: expression, ...dayValues })
        : `CAST(${expression} AS VARCHAR) IS DISTINCT FROM CAST(${input} AS VARCHAR)`;
      const repName = addFlag(`rep:${rule.name}:${column}`);
      layer.push(`(coalesce(${repairedWhen}, false)${canFail ? ` AND NOT ${failed}` : ''}) AS ${id(repName)}`);
      mine.repaired.push(repName);
    }
  }
  const finalValue = (column: string): string => current.get(column)!;
  const missing = (column: string): string => `(${finalValue(column)} IS NULL AND NOT ${or(columnFails.get(column) ?? [])})`;

  // --- validations, null handling, references: more columns of the same pass ------------
  const references: TablePlan['references'] = [];
  /** Per rule: the flags meaning "this row fails it", by column (or one row-level flag). */
  const failures = new Map<string, { rule: CleaningRule; flags: string[]; perColumn: Map<string, string> }>();
  const fillFlags = new Map<string, string[]>();
  for (const { rule, columns } of applied) {
    if (rule.kind === 'repair') {
      const failed = repairFlags.get(rule.name)!.failed;
      if (failed.size > 0) failures.set(rule.name, { rule, flags: [...failed.values()], perColumn: failed });
    } else if (rule.kind === 'validate' || rule.kind === 'reference') {
      const perColumn = new Map<string, string>();
      let tableName = '';
      if (rule.kind === 'reference') {
        tableName = `ref:${rule.references.table}:${rule.references.column}`;
        if (!references.some((item) => item.tableName === tableName)) references.push({ tableName, ...rule.references });
      }
      for (const column of columns) {
        const value = finalValue(column);
        const name = `${rule.kind === 'validate' ? 'inv' : 'ref'}:${rule.name}:${column}`;
        const sql =
          rule.kind === 'validate'
            ? `(${value} IS NOT NULL AND NOT coalesce(${fillTemplate(rule.predicate, { value, ...dayValues })}, false))`
            : `(${value} IS NOT NULL AND ${value} NOT IN (SELECT k FROM ${id(tableName)}))`;
        laterFlags.push(`${sql} AS ${id(addFlag(name))}`);
        perColumn.set(column, name);
      }
      failures.set(rule.name, { rule, flags: [...perColumn.values()], perColumn });
    } else if (rule.kind === 'null') {
      if (rule.action === 'fill') {
        const names = columns.map((column) => {
          const name = `fill:${rule.name}:${column}`;
          laterFlags.push(`${missing(column)} AS ${id(addFlag(name))}`);
          return name;
        });
        fillFlags.set(rule.name, names);
      } else {
        const name = `null:${rule.name}`;
        laterFlags.push(`${(rule.when === 'all' ? and : or)(columns.map(missing))} AS ${id(addFlag(name))}`);
        failures.set(rule.name, { rule, flags: [name], perColumn: new Map() });
      }
    }
  }
  const quarantining = [...failures.values()].filter(({ rule }) => rule.action === 'quarantine' || rule.action === 'drop');
  const nulling = [...failures.values()].filter(({ rule }) => rule.action === 'flag' && rule.kind !== 'null');

  const silverValue = (column: string): string => {
    const nulled = nulling.map((item) => item.perColumn.get(column)).filter((name): name is string => name !== undefined).map((name) => id(name));
    const fills = applied.filter(({ rule, columns }) => rule.kind === 'null' && rule.action === 'fill' && columns.includes(column)) as { rule: NullRule; columns: string[] }[];
    const branches = [
      ...(nulled.length > 0 ? [`WHEN ${or(nulled)} THEN NULL`] : []),
      ...fills.map(({ rule }) => `WHEN ${id(`fill:${rule.name}:${column}`)} THEN ${rule.fill}`),
    ];
    return branches.length === 0 ? finalValue(column) : `(CASE ${branches.join(' ')} ELSE ${finalValue(column)} END)`;
  };

  // --- the one pass ---------------------------------------------------------------------
  const masks: string[] = [];
  const names = [...flagBit.keys()];
  for (let start = 0; start < names.length; start += 64) {
    // CASE + addition of constants is several times cheaper in DuckDB than casts and shifts.
    const terms = names.slice(start, start + 64).map((name, bit) => `CASE WHEN ${id(name)} THEN ${bitValue(bit)} ELSE 0::UBIGINT END`);
    masks.push(`(${terms.join(' + ')}) AS __m${start / 64}`);
  }
  const keyRules = applied.filter(({ rule }) => rule.kind === 'dedup' && !isExactRule(rule)) as { rule: DedupRule; columns: string[] }[];
  const exactRule = applied.find(({ rule }) => isExactRule(rule))?.rule;
  const ctes = [
    `l0 AS (SELECT ${allColumns.map((column) => `${source.columns.get(column) ?? 'NULL::VARCHAR'} AS ${rawCol(column)}`).join(', ')} FROM ${source.from})`,
    ...layers.map((expressions, index) => `l${index + 1} AS (SELECT *, ${expressions.join(', ')} FROM l${index})`),
    `lflags AS (SELECT *${laterFlags.map((line) => `, ${line}`).join('')} FROM l${layers.length})`,
    `lq AS (SELECT *, ${or(quarantining.flatMap((item) => item.flags.map((name) => id(name))))} AS __q FROM lflags)`,
  ];
  // Exact copies have the same raw row. Hashing all of it costs as much as a rule, so a row
  // with no rule outcome at all (mask 0: every text value kept as written) hashes only the
  // columns whose text can change silently (typed values, repairs with their own notion
  // of "repaired"); the rest of the row is compared through its silver values.
  const typeOf = (column: string) => contract.find((item) => item.name === column)?.type ?? 'VARCHAR';
  const silent = allColumns.filter(
    (column) => typeOf(column) !== 'VARCHAR' || applied.some(({ rule, columns }) => rule.kind === 'repair' && rule.repairedWhen !== undefined && columns.includes(column)),
  );
  const maskNames = masks.map((_, index) => `__m${index}`);
  const rawHash = exactRule
    ? `CASE WHEN ${and(maskNames.map((name) => `${name} = 0`))} THEN hash(${silent.length ? silent.map(rawCol).join(', ') : '0'}) ELSE hash(${allColumns.map(rawCol).join(', ')}) END AS __raw_hash`
    : undefined;
  ctes.push(`lm AS (SELECT *, ${masks.length ? masks.join(', ') : '0::UBIGINT AS __m0'} FROM lq)`);
  if (masks.length === 0) maskNames.push('__m0');
  const keep = [
    '__q',
    ...maskNames,
    ...(rawHash ? [rawHash] : []),
    ...contract.map((column) => `CAST(${silverValue(column.name)} AS ${column.type}) AS ${id(column.name)}`),
    // Extra columns are carried as text (after any optional rule that applies to them).
    ...present.extra.map((column) => `CAST(${silverValue(column)} AS VARCHAR) AS ${id(column)}`),
    // Raw values are kept for quarantined rows only, packed in one list (mostly NULL: cheap).
    `CASE WHEN __q THEN [${allColumns.map(rawCol).join(', ')}] END AS __raw`,
  ];
  const checkedSql = `CREATE OR REPLACE TEMP TABLE checked AS
WITH ${ctes.join(',\n')}
SELECT ${keep.join(',\n  ')} FROM lm`;

  // --- duplicates: exact copies first, then business keys among rows that passed ------------
  // Only rows whose key repeats (or is missing) can be duplicates: they are picked once,
  // by a hash of the key, and ranked in small windows.
  const rows = 'SELECT rowid + 1 AS _row_number, * FROM checked';
  const dupSql: string[] = ['CREATE OR REPLACE TEMP TABLE dup (_row_number BIGINT, rule VARCHAR)'];
  const candidateKey = keyRules[0]?.columns ?? [];
  const sameKey = (columns: string[]) => columns.length === candidateKey.length && columns.every((column, index) => column === candidateKey[index]);
  if (candidateKey.length > 0) {
    // Grouping a 64-bit hash of the key is much cheaper than grouping the strings; a hash
    // collision only adds a candidate, never removes one.
    const keyHash = `hash(${candidateKey.map(id).join(', ')})`;
    dupSql.push(`CREATE OR REPLACE TEMP TABLE candidates AS SELECT * FROM (${rows}) AS c
WHERE ${or(candidateKey.map((column) => `${id(column)} IS NULL`))} OR ${keyHash} IN (SELECT ${keyHash} AS h FROM checked GROUP BY h HAVING count(*) > 1)`);
  }
  if (exactRule) {
    const from = candidateKey.length > 0 ? 'candidates' : `(${rows}) AS c`;
    dupSql.push(`INSERT INTO dup SELECT _row_number, ${sqlString(exactRule.name)} FROM (
  SELECT _row_number, row_number() OVER (PARTITION BY ${[...new Set([...candidateKey, ...contractNames, ...present.extra])].map(id).join(', ')}, ${maskNames.join(', ')}, __raw_hash ORDER BY _row_number) AS n FROM ${from}
) WHERE n > 1`);
  }
  for (const { rule, columns } of keyRules) {
    const key = columns.map(id).join(', ');
    const from = sameKey(columns) ? 'candidates' : `(${rows}) AS c`;
    dupSql.push(`INSERT INTO dup SELECT _row_number, ${sqlString(rule.name)} FROM (
  SELECT _row_number, row_number() OVER (PARTITION BY ${key} ORDER BY ${rule.latest}) AS n
  FROM ${from} ANTI JOIN dup USING (_row_number) WHERE NOT __q AND ${and(columns.map((column) => `${id(column)} IS NOT NULL`))}
) WHERE n > 1`);
  }

  const silverSelect = `SELECT ${[...contractNames, ...present.extra].map(id).join(', ')}
FROM (${rows} WHERE NOT __q) AS c ANTI JOIN dup USING (_row_number)`;

  const reasonItems = [...failures.values()].map(({ rule, flags }) => `CASE WHEN ${or(flags.map(test))} THEN ${sqlString(rule.name)} END`);
  const quarantineSelect = `SELECT ${[
    ...allColumns.map((column, index) => `__raw[${index + 1}] AS ${id(column)}`),
    `${reasonItems.length ? `list_filter([${reasonItems.join(', ')}], lambda x: x IS NOT NULL)` : 'CAST([] AS VARCHAR[])'} AS _reasons`,
    '_row_number',
  ].join(', ')}
FROM (${rows} WHERE __q) AS c ANTI JOIN dup USING (_row_number) ORDER BY _row_number`;

  // --- counts: one GROUP BY over where each row went ------------------------------------
  // Sums of mask bits per destination ('s' silver, 'q' quarantine, or the duplicate
  // rule's name) are cheap integer arithmetic over one scan.
  const counters: string[] = ['__dup', '__q', 'count(*) AS n'];
  let counter = 0;
  const aliasOf = new Map<string, string>();
  const sum = (sql: string): string => {
    const known = aliasOf.get(sql);
    if (known) return known;
    const alias = `c${counter++}`;
    counters.push(`sum(${sql}) AS ${alias}`);
    aliasOf.set(sql, alias);
    return alias;
  };
  /** One alias per flag: how many rows have it. */
  const eachFlag = (flags: string[]): string[] =>
    flags.map((name) => {
      const { mask, bit } = flagBit.get(name)!;
      return sum(`CAST((${mask} & ${bitValue(bit)}) <> 0 AS INTEGER)`);
    });
  /** One alias: how many rows have any of the flags. */
  const anyFlag = (flags: string[]): string => {
    const byMask = new Map<string, bigint>();
    for (const name of flags) {
      const { mask, bit } = flagBit.get(name)!;
      byMask.set(mask, (byMask.get(mask) ?? 0n) | (1n << BigInt(bit)));
    }
    return sum(`CAST(${or([...byMask].map(([mask, bits]) => `(${mask} & ${bits.toString()}::UBIGINT) <> 0`))} AS INTEGER)`);
  };
  type Count = { name: keyof RuleCounts; dest: 's' | 'q' | 'dup'; aliases: string[] };
  const planned: { rule: CleaningRule; counts: Count[] }[] = [];
  for (const { rule } of applied) {
    const counts: Count[] = [];
    const failure = failures.get(rule.name);
    if (rule.kind === 'repair') counts.push({ name: 'repaired', dest: 's', aliases: eachFlag(repairFlags.get(rule.name)!.repaired) });
    if (rule.kind === 'null' && rule.action === 'fill') counts.push({ name: 'filled', dest: 's', aliases: eachFlag(fillFlags.get(rule.name) ?? []) });
    if (rule.kind === 'dedup') counts.push({ name: 'dropped_as_duplicate', dest: 'dup', aliases: [] });
    if (failure) {
      if (rule.action === 'quarantine') counts.push({ name: 'quarantined', dest: 'q', aliases: [anyFlag(failure.flags)] });
      if (rule.action === 'drop') counts.push({ name: 'dropped', dest: 'q', aliases: [anyFlag(failure.flags)] });
      // A flagged row stays in silver; flagged values are counted one by one.
      if (rule.action === 'flag') counts.push({ name: 'flagged', dest: 's', aliases: rule.kind === 'null' ? [anyFlag(failure.flags)] : eachFlag(failure.flags) });
    }
    planned.push({ rule, counts });
  }
  const summarySelect = `SELECT ${counters.join(',\n  ')}
FROM (SELECT c.*, d.rule AS __dup FROM (${rows}) AS c LEFT JOIN dup AS d USING (_row_number))
GROUP BY __dup, __q`;

  const readCounts = (resultRows: Record<string, unknown>[]) => {
    const destOf = (row: Record<string, unknown>) => (row.__dup !== null && row.__dup !== undefined ? String(row.__dup) : row.__q ? 'q' : 's');
    const byDest = new Map<string, Record<string, unknown>>();
    for (const row of resultRows) {
      const dest = destOf(row);
      const merged = byDest.get(dest);
      // A duplicate rule can cover rows both quarantined and not: add them up.
      if (merged) for (const [key, value] of Object.entries(row)) merged[key] = typeof value === 'bigint' || typeof value === 'number' ? Number(merged[key] ?? 0) + Number(value) : value;
      else byDest.set(dest, { ...row });
    }
    const value = (dest: string, alias: string) => Number(byDest.get(dest)?.[alias] ?? 0);
    const out: Record<string, RuleCounts> = {};
    for (const { rule, counts } of planned) {
      const ruleCounts: RuleCounts = {};
      for (const count of counts) {
        ruleCounts[count.name] = count.dest === 'dup' ? value(rule.name, 'n') : count.aliases.reduce((total, alias) => total + value(count.dest, alias), 0);
      }
      out[rule.name] = ruleCounts;
    }
    const rowsIn = resultRows.reduce((total, row) => total + Number(row.n ?? 0), 0);
    const duplicates = resultRows.filter((row) => row.__dup !== null && row.__dup !== undefined).reduce((total, row) => total + Number(row.n ?? 0), 0);
    return { rules: out, duplicates, rowsIn };
  };

  return {
    table,
    rules: applied,
    references,
    checkedSql,
    dupSql,
    silverSelect,
    quarantineSelect,
    summarySelect,
    readCounts,
  };
}

