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
/** `<home>/_meta/logs/`: one JSON-lines log per run (`<run id>.jsonl`). */
export function logsDir(home: string): string {
  return metaDir(home, 'logs');
}
/** `<home>/_meta/logs/cron-<partner>.log`: what a crontab line appends to. */
export function cronLogPath(home: string, partner: string): string {
  return metaDir(home, 'logs', `cron-${partner}.log`);
}
/** `<home>/_meta/logs/systemd-<partner>.log`: a systemd unit's StandardOutput. */
export function systemdLogPath(home: string, partner: string): string {
  return metaDir(home, 'logs', `systemd-${partner}.log`);
}
/** `<home>/_meta/quality/<table>/date=D.json`: the cleaning summary of a table and day. */
export function qualitySummaryFile(home: string, table: SourceTable, date: string): string {
  return metaDir(home, 'quality', table, `date=${date}.json`);
}
/** `<home>/_meta/contracts/<partner>/<report>.json`: the columns a partner was first sent. */
export function contractPath(home: string, partner: string, report: string): string {
  return metaDir(home, 'contracts', partner, `${report}.json`);
}
/** `<home>/_meta/runs/runs.jsonl` (and runs.parquet, runs.csv beside it). */
export function runsPath(home: string, file = 'runs.jsonl'): string {
  return metaDir(home, 'runs', file);
}
/** `<home>/_meta/history/<partner>/<report>.jsonl` */
export function historyPath(home: string, partner: string, report: string): string {
  return metaDir(home, 'history', partner, `${report}.jsonl`);
}
/** `<home>/_meta/ledger/<partner>.jsonl` */
export function ledgerPath(home: string, partner: string): string {
  return metaDir(home, 'ledger', `${partner}.jsonl`);
}
/** `<home>/_meta/alerts/<partner>.json` */
export function alertStatePath(home: string, partner: string): string {
  return metaDir(home, 'alerts', `${partner}.json`);
}
/** `<home>/_meta/metrics/dataprod.prom`, for node_exporter's textfile collector. */
export function metricsPath(home: string): string {
  return metaDir(home, 'metrics', 'dataprod.prom');
}
/** `<home>/_meta/locks/<partner>.lock` */
export function partnerLockPath(home: string, partner: string): string {
  return metaDir(home, 'locks', `${partner}.lock`);
}
/** `<home>/_meta/catalog/catalog.json` */
export function catalogPath(home: string): string {
  return metaDir(home, 'catalog', 'catalog.json');
}
/** `<home>/_meta/catalog/pii-overrides.json`: column name → PII class, set by hand. */
export function piiOverridesPath(home: string): string {
  return metaDir(home, 'catalog', 'pii-overrides.json');
}
/** `<home>/_meta/lineage/events.jsonl` */
export function lineageEventsPath(home: string): string {
  return metaDir(home, 'lineage', 'events.jsonl');
}
/** `<home>/_meta/lineage/outbox/`: events a lineage endpoint did not take yet, one file each. */
export function lineageOutboxDir(home: string): string {
  return metaDir(home, 'lineage', 'outbox');
}
/** `<home>/_meta/secrets/<partner>-<name>`: a secret generated on this home (pseudonym key). */
export function generatedSecretPath(home: string, partner: string, name: string): string {
  return metaDir(home, 'secrets', `${partner}-${name}`);
}
/** `<home>/_meta/tmp/`: DuckDB spill directory of the cleaning engine. */
export function cleaningSpillDir(home: string): string {
  return metaDir(home, 'tmp');
}
/** `<home>/_meta/tmp/duckdb/`: DuckDB spill directory of report builds. */
export function reportsSpillDir(home: string): string {
  return metaDir(home, 'tmp', 'duckdb');
}
/** `<home>/_meta/blocked[/<partner>/<report>/...]`: packages a gate blocked, and stale temporary ones. */
export function blockedDir(home: string, ...parts: string[]): string {
  return metaDir(home, 'blocked', ...parts);
}
export function sandboxDir(home: string, ...parts: string[]): string {
  return join(home, 'sandbox', ...parts);
}
