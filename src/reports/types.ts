import type { Logger } from 'winston';
import type { DuckSession } from '../lake/duckdb.js';
import type { PartnerConfig, ReportName } from '../partners/config.js';

/** One output column: its contract name and DuckDB type, as the gold Parquet must have them. */
export interface ReportColumn {
  name: string;
  /** DuckDB type as DESCRIBE prints it, e.g. DECIMAL(12,2). */
  type: string;
  /** What it means, for the README and the partner's data dictionary. */
  description: string;
}

/** The silver scope a report covers, for the independent reconciliation query. */
export interface SilverScope {
  /** Silver transactions files of the period (the report's own days only). */
  transactionFiles: string[];
  /** Silver products snapshots used to decide which products are the partner's. */
  productFiles: string[];
  /** First and last São Paulo day of the period (inclusive). */
  from: string;
  to: string;
}

/** What a report's `run` leaves behind. */
export interface ReportOutput {
  /** Temporary table holding the report rows, columns and order exactly as `columns`. */
  table: string;
  /** Figures for the manifest summary (counts, merges, suppressions...). */
  summary: Record<string, number | string | null>;
  /** Units and revenue held back by privacy rules (0 for reports that hide nothing). */
  suppressed: { units: bigint; revenue: string };
  scope: SilverScope;
  /** Every silver file the query read (lineage: the build's inputs for this period). */
  reads: string[];
}

export interface ReportRunContext {
  /** A session with `pseudonym(kind, id)` registered. */
  duck: DuckSession;
  home: string;
  config: PartnerConfig;
  /** YYYY-MM-DD (daily) or YYYY-MM (monthly). */
  period: string;
  logger: Logger;
}

/** A report: what it reads, its parameters and its output schema, and how to run it. */
export interface ReportDefinition {
  name: ReportName;
  /** `day`: period YYYY-MM-DD; `month`: period YYYY-MM. */
  periodKind: 'day' | 'month';
  description: string;
  /** Silver datasets read, with the partitions used. */
  reads: string[];
  /** Placeholders of its SQL and what they hold. */
  parameters: Record<string, string>;
  /** The partner's contract: names, order and types. */
  columns: readonly ReportColumn[];
  /** Columns summed for reconciliation with silver. */
  totals: { units: string; revenue: string };
  run(context: ReportRunContext): Promise<ReportOutput>;
}
