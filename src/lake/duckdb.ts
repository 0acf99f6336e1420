import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { availableParallelism } from 'node:os';

export interface DuckSessionOptions {
  /** Worker threads; defaults to the machine's cores. */
  threads?: number;
  /** DuckDB memory_limit, e.g. '1GB'; keeps peak RSS bounded on large days. */
  memoryLimit?: string;
  /** Where DuckDB may spill when over the memory limit. */
  tempDirectory?: string;
}

/**
 * One embedded, in-memory DuckDB per command. The lake lives in Parquet/CSV files, not
 * in a database file, so there is nothing to lock or migrate between runs.
 */
export class DuckSession {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
    private readonly ownsInstance = true,
  ) {}

  static async open(options: DuckSessionOptions = {}): Promise<DuckSession> {
    const instance = await DuckDBInstance.create(':memory:', {
      threads: String(options.threads ?? availableParallelism()),
      memory_limit: options.memoryLimit ?? '1536MB',
      ...(options.tempDirectory ? { temp_directory: options.tempDirectory } : {}),
    });
    const connection = await instance.connect();
    // Set on the connection, not in the instance config: at instance creation the
    // bundled ICU extension is not loaded yet and DuckDB would try to download it.
    await connection.run(`SET TimeZone = 'America/Sao_Paulo'`);
    return new DuckSession(instance, connection);
  }

  /**
   * A second connection on the same database, for a query that runs alongside this one
   * (DuckDB runs one query at a time per connection). Its `close` leaves the database open.
   */
  async branch(): Promise<DuckSession> {
    const connection = await this.instance.connect();
    await connection.run(`SET TimeZone = 'America/Sao_Paulo'`);
    return new DuckSession(this.instance, connection, false);
  }

  /** Runs statements that return nothing of interest. */
  async run(sql: string): Promise<void> {
    await this.connection.run(sql);
  }

  /** Runs a query and returns its rows as plain objects (BIGINT as bigint, DECIMAL as DuckDB values). */
  async all<T = Record<string, unknown>>(sql: string): Promise<T[]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRowObjectsJS() as T[];
  }

  /** Like `all`, with values converted to JSON-friendly types (numbers, strings). */
  async json<T = Record<string, unknown>>(sql: string): Promise<T[]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRowObjectsJson() as T[];
  }

  /** Closes the connection, and the database too unless this session is a branch. */
  close(): void {
    this.connection.closeSync();
    if (this.ownsInstance) this.instance.closeSync();
  }
}

/** Quotes a string as a SQL literal ('it''s'), for paths and parameters we build into SQL. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Quotes an identifier ("col""name"). */
export function sqlIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Runs `body` with a fresh session and always closes it. */
export async function withDuck<T>(body: (duck: DuckSession) => Promise<T>, options?: DuckSessionOptions): Promise<T> {
  const duck = await DuckSession.open(options);
  try {
    return await body(duck);
  } finally {
    duck.close();
  }
}
