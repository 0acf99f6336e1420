import { join } from 'node:path';

/**
 * The lakehouse layout is a contract: tests, tools and people read these paths.
 *   <home>/bronze/<table>/date=YYYY-MM-DD/<source file as received>
 *   <home>/silver/<table>/date=YYYY-MM-DD/data.parquet
 *   <home>/quarantine/<table>/date=YYYY-MM-DD/data.parquet
 *   <home>/gold/<partner>/<report>/<period>/data.parquet
 *   <home>/outbox/<partner>/<report>/<period>/   rendered files + manifest.json
 *   <home>/_meta/                                 logs, quality, runs, catalog, lineage
 */
export const sourceTables = ['customers', 'products', 'transactions'] as const;
export type SourceTable = (typeof sourceTables)[number];

export function isSourceTable(value: string): value is SourceTable {
  return (sourceTables as readonly string[]).includes(value);
}

export function bronzeDir(home: string, table: SourceTable, date: string): string {
  return join(home, 'bronze', table, `date=${date}`);
}
export function bronzeTableDir(home: string, table: SourceTable): string {
  return join(home, 'bronze', table);
}
export function silverFile(home: string, table: SourceTable, date: string): string {
  return join(home, 'silver', table, `date=${date}`, 'data.parquet');
}
export function silverTableDir(home: string, table: SourceTable): string {
  return join(home, 'silver', table);
}
export function quarantineFile(home: string, table: SourceTable, date: string): string {
  return join(home, 'quarantine', table, `date=${date}`, 'data.parquet');
}
export function goldFile(home: string, partner: string, report: string, period: string): string {
  return join(home, 'gold', partner, report, period, 'data.parquet');
}
export function outboxDir(home: string, partner: string, report: string, period: string): string {
  return join(home, 'outbox', partner, report, period);
}
export function metaDir(home: string, ...parts: string[]): string {
  return join(home, '_meta', ...parts);
}
export function sandboxDir(home: string, ...parts: string[]): string {
  return join(home, 'sandbox', ...parts);
}
