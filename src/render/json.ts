import { sqlIdentifier, sqlString } from '../lake/duckdb.js';
import type { RenderInput } from './types.js';

/**
 * JSON: one array of objects, keys in contract order; an empty report is []. Integers are
 * JSON numbers. Decimals are JSON numbers written with their exact digits and full scale
 * (unit_price 9.00, segment_share_units 0.5385), never through a double: DuckDB writes a
 * DECIMAL of width 16 or more as its text, so narrower ones are widened first. A consumer
 * that parses into doubles still gets the nearest double; one that keeps the text (Python's
 * Decimal, BigDecimal) gets the cents exactly. Dates are "YYYY-MM-DD" and times "HH:MM:SS"
 * strings; NULL is null.
 */
export async function renderJson(input: RenderInput): Promise<void> {
  const select = input.columns
    .map((column) => {
      const name = sqlIdentifier(column.name);
      const type = column.type.toUpperCase();
      const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(type);
      if (decimal) return `CAST(${name} AS DECIMAL(${Math.max(18, Number(decimal[1]))},${decimal[2]})) AS ${name}`;
      if (type === 'DATE') return `strftime(${name}, '%Y-%m-%d') AS ${name}`;
      if (type === 'TIME') return `CAST(${name} AS VARCHAR) AS ${name}`;
      return name;
    })
    .join(', ');
  await input.duck.run(`COPY (SELECT ${select} FROM read_parquet(${sqlString(input.source)})) TO ${sqlString(input.target)} (FORMAT json, ARRAY true)`);
}
