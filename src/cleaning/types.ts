import type { SourceTable } from '../lake/layout.js';

/**
 * A cleaning rule is data: a name, a one-line description, the table(s) and columns it
 * applies to, SQL fragments, and what happens to a row that fails it. The engine
 * (engine.ts) compiles the whole rule set of a table into a few set-based DuckDB
 * statements; a rule knows nothing of files. Adding a check is adding one object to
 * rules.ts.
 *
 * SQL fragments use placeholders the engine substitutes:
 *   {value}  the column's current value (after the repairs listed before this rule)
 *   {day}    the day being cleaned, as a DATE literal
 * and may call the scalar functions registered from functions.ts (e.g. dp_is_valid_cpf).
 */
export type RuleKind = 'null' | 'dedup' | 'validate' | 'repair' | 'reference';

/**
 * What a failing row gets:
 * - quarantine: out of silver, into quarantine with the rule in `_reasons`.
 * - drop: the row is not data (e.g. an empty line): out of silver, kept in quarantine
 *   (nothing is ever lost) and counted as `dropped`; for dedup rules, the duplicate is
 *   counted as `dropped_as_duplicate` and not stored.
 * - fill: (null rules) the missing value is replaced by a default; the row stays.
 * - flag: the row stays in silver and is counted; an invalid value is set to NULL in
 *   silver (it cannot meet the column's type contract), the raw value stays in bronze.
 */
export type RuleAction = 'quarantine' | 'drop' | 'fill' | 'flag';

interface RuleBase {
  /** snake_case, unique within a table; appears in `_reasons` and in the summaries. */
  name: string;
  /** One line saying what the rule checks or repairs. */
  description: string;
  kind: RuleKind;
  /** Tables it applies to. */
  tables: readonly SourceTable[];
  /**
   * Columns it applies to; '*' means every contract column of the table. A listed column
   * absent from a table is skipped when `optional` is set, else the rule set is invalid.
   */
  columns: readonly string[] | '*';
  action: RuleAction;
  /** Apply only where the source has the column (e.g. a `cnpj` column some exports carry). */
  optional?: boolean;
}

/** Missing values: fires when the value is NULL after repairs (and no repair failed). */
export interface NullRule extends RuleBase {
  kind: 'null';
  action: 'quarantine' | 'drop' | 'fill' | 'flag';
  /** 'any' (default): one listed column NULL fires; 'all': every listed column NULL. */
  when?: 'any' | 'all';
  /** For action 'fill': SQL giving the default value. */
  fill?: string;
}

/**
 * Format correction: `expression` maps {value} to the repaired (possibly typed) value.
 * A non-NULL input that comes out NULL could not be repaired: the row fails the rule
 * (action quarantine or flag). A value counts as repaired when `repairedWhen` holds
 * (default: the text changed), so partner-facing numbers never silently change meaning.
 */
export interface RepairRule extends RuleBase {
  kind: 'repair';
  action: 'quarantine' | 'flag';
  expression: string;
  /** SQL over {input} (text before) and {output} (after); default: the text changed. */
  repairedWhen?: string;
  /** SQL over {input} and {output}: the value could not be repaired; default: a value came out NULL. */
  failsWhen?: string;
}

/** Validation: `predicate` over {value} is true for a valid value; NULL values are not checked. */
export interface ValidateRule extends RuleBase {
  kind: 'validate';
  action: 'quarantine' | 'flag';
  predicate: string;
}

/**
 * Deduplication. `columns` empty: exact duplicates (every raw column identical; the first
 * row is kept). Otherwise a business key: among rows that passed every check, the one
 * first in `latest` order is kept and the others are duplicates.
 */
export interface DedupRule extends RuleBase {
  kind: 'dedup';
  action: 'drop';
  /** ORDER BY over silver column names putting the row to keep first (key dedup only). */
  latest?: string;
}

/** Referential integrity: the value must exist in silver `references` of that day or earlier. */
export interface ReferenceRule extends RuleBase {
  kind: 'reference';
  action: 'quarantine' | 'flag';
  references: { table: SourceTable; column: string };
}

export type CleaningRule = NullRule | RepairRule | ValidateRule | DedupRule | ReferenceRule;

/** Counts of one rule for one table (and day, or summed over days); only those that apply. */
export interface RuleCounts {
  repaired?: number;
  quarantined?: number;
  dropped?: number;
  filled?: number;
  flagged?: number;
  dropped_as_duplicate?: number;
}

/** What one clean of one table did: rows_in = rows_silver + rows_quarantined + rows_duplicate. */
export interface TableSummary {
  rows_in: number;
  rows_silver: number;
  rows_quarantined: number;
  rows_duplicate: number;
  rules: Record<string, RuleCounts>;
}
