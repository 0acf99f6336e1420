import type { DuckSession } from '../lake/duckdb.js';

/** Formats a partner can receive (config reports.<name>.formats). */
export type RenderFormat = 'csv' | 'parquet' | 'json' | 'xlsx';

/** A column to render: contract name and DuckDB type (drives number and date formats). */
export interface RenderColumn {
  name: string;
  type: string;
}

/** How CSV is written (config render.csv). */
export interface CsvOptions {
  /** One character between fields; ';' for Brazilian Excel. */
  delimiter: string;
  /** ',' (Brazilian Excel) or '.' for decimals; dates stay ISO either way. */
  decimal_mark: ',' | '.';
  /** Start the file with a UTF-8 byte-order mark so Excel reads accents right. */
  bom: boolean;
}

/** What every renderer receives: one source Parquet file (gold) and one target file. */
export interface RenderInput {
  duck: DuckSession;
  /** Gold Parquet file, columns in contract order. */
  source: string;
  /** File to create (inside the temporary package directory). */
  target: string;
  columns: readonly RenderColumn[];
  /** Sheet title for XLSX (the report name). */
  title: string;
}

/** File extension of each format. */
export const formatExtension: Record<RenderFormat, string> = { csv: 'csv', parquet: 'parquet', json: 'json', xlsx: 'xlsx' };
