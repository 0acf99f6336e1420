import { sqlIdentifier, sqlString } from '../lake/duckdb.js';
import type { RenderInput } from './types.js';

/** Codecs a partner's Parquet may use. */
export const PARQUET_COMPRESSIONS = ['snappy', 'zstd', 'gzip'] as const;
export type ParquetCompression = (typeof PARQUET_COMPRESSIONS)[number];

/**
 * Parquet as the partner receives it: the gold rows and types. Snappy by default: it is
 * the codec every reader handles, Power BI's Parquet connector and older Spark and
 * pandas stacks included; zstd (smaller) is a partner setting for readers known to take it.
 */
export async function renderParquet(input: RenderInput, compression: ParquetCompression = 'snappy'): Promise<void> {
  const select = input.columns.map((column) => sqlIdentifier(column.name)).join(', ');
  await input.duck.run(`COPY (SELECT ${select} FROM read_parquet(${sqlString(input.source)})) TO ${sqlString(input.target)} (FORMAT parquet, COMPRESSION ${compression})`);
}
