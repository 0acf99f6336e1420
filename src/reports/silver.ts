import { existsSync, readdirSync } from 'node:fs';
import { DataError } from '../errors.js';
import { silverFile, silverTableDir, type SourceTable } from '../lake/layout.js';

const partitionName = /^date=(\d{4}-\d{2}-\d{2})$/;

/** Days that have a silver partition (data.parquet present) for a table, sorted. */
export function listSilverDays(home: string, table: SourceTable): string[] {
  const dir = silverTableDir(home, table);
  if (!existsSync(dir)) return [];
  const days: string[] = [];
  for (const name of readdirSync(dir)) {
    const day = partitionName.exec(name)?.[1];
    if (day && existsSync(silverFile(home, table, day))) days.push(day);
  }
  return days.sort();
}

function cleanHint(days: string[]): string {
  if (days.length === 1) return `clean that day first: dataprod clean --date ${days[0]}; dataprod run does both`;
  return `clean those days first: dataprod clean --from ${days[0]} --to ${days[days.length - 1]}; dataprod run does both`;
}

/** The silver files of these days; a missing day is a DataError naming it and the fix. */
export function requireSilverFiles(home: string, table: SourceTable, days: string[]): string[] {
  const missing = days.filter((day) => !existsSync(silverFile(home, table, day)));
  if (missing.length > 0) {
    const shown = missing.length > 5 ? `${missing.slice(0, 5).join(', ')} and ${missing.length - 5} more` : missing.join(', ');
    throw new DataError(`no silver ${table} for ${shown} (looked in ${silverTableDir(home, table)})`, { hint: cleanHint(missing) });
  }
  return days.map((day) => silverFile(home, table, day));
}

/**
 * Product catalogue snapshots up to a day: each day's silver products is the full
 * catalogue, and reports take the latest row per product_code among these files.
 */
export function requireProductFilesUpTo(home: string, day: string): string[] {
  const days = listSilverDays(home, 'products').filter((candidate) => candidate <= day);
  if (days.length === 0) {
    throw new DataError(`no silver products on or before ${day} (looked in ${silverTableDir(home, 'products')})`, { hint: cleanHint([day]) });
  }
  return days.map((candidate) => silverFile(home, 'products', candidate));
}
