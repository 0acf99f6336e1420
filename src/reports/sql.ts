import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { InternalError } from '../errors.js';
import { sqlString } from '../lake/duckdb.js';

/**
 * A value substituted into report SQL. Placeholders are written `{{name}}` (letters,
 * digits, underscores) and become SQL literals, never raw text:
 *   string            -> 'quoted literal' (quotes doubled, via sqlString)
 *   number            -> a finite number literal (k, limits)
 *   string[]          -> ['a', 'b'] a DuckDB list of quoted literals (brands, file paths)
 *   null              -> NULL
 * So a brand called O'Neil or a home under a path with quotes cannot change the query.
 */
export type SqlParameter = string | number | readonly string[] | null;

const placeholder = /\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}/g;

function toLiteral(name: string, value: SqlParameter): string {
  if (value === null) return 'NULL';
  if (typeof value === 'string') return sqlString(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InternalError(`SQL parameter ${name} is not a finite number`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map((item) => sqlString(String(item))).join(', ')}]::VARCHAR[]`;
  throw new InternalError(`SQL parameter ${name} has an unsupported type`);
}

/**
 * Fills `{{name}}` placeholders with literals. Every placeholder must have a parameter and
 * every parameter must be used: a typo in a report's SQL fails loudly, not silently.
 */
export function renderSql(template: string, parameters: Record<string, SqlParameter>, source = 'report SQL'): string {
  const used = new Set<string>();
  const sql = template.replace(placeholder, (_match, name: string) => {
    if (!Object.hasOwn(parameters, name)) throw new InternalError(`${source}: no value for placeholder {{${name}}}`);
    used.add(name);
    return toLiteral(name, parameters[name]!);
  });
  const unused = Object.keys(parameters).filter((name) => !used.has(name));
  if (unused.length > 0) throw new InternalError(`${source}: parameters never used: ${unused.join(', ')}`);
  return sql;
}

/**
 * Reads a report's .sql file relative to its module (`new URL('./query.sql', import.meta.url)`);
 * scripts/build.mjs copies the .sql files beside the compiled code in dist/.
 */
export async function readReportSql(url: URL): Promise<string> {
  try {
    return await readFile(url, 'utf8');
  } catch (error) {
    throw new InternalError(`cannot read report SQL ${fileURLToPath(url)}: ${(error as Error).message}`, {
      cause: error,
      hint: 'the .sql files must sit beside the compiled reports; rebuild with npm run build',
    });
  }
}
