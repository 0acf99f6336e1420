import { sqlIdentifier, sqlString } from '../lake/duckdb.js';
import type { RenderInput } from './types.js';

/** Parquet as the partner receives it: the gold rows and types, zstd-compressed. */
export async function renderParquet(input: RenderInput): Promise<void> {
  const select = input.columns.map((column) => sqlIdentifier(column.name)).join(', ');
  await input.duck.run(`COPY (SELECT ${select} FROM read_parquet(${sqlString(input.source)})) TO ${sqlString(input.target)} (FORMAT parquet, COMPRESSION zstd)`);
}
