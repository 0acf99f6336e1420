import { renderTable } from '../terminal/table.js';
import { type CatalogEntry, readCatalog, searchCatalog } from '../metadata/catalog.js';
import type { CommandContext, CommandResult } from './context.js';
import { formatBytes, formatLocalTime } from './runs.js';
import { catalogPath } from '../lake/layout.js';

export interface CatalogOptions {
  /** Only datasets whose name, path, layer, tag, PII class or a column matches (case-insensitive). */
  search?: string;
}

function piiCell(entry: CatalogEntry): string {
  const direct = entry.schema.filter((column) => column.pii === 'direct').map((column) => column.name);
  const indirect = entry.schema.filter((column) => column.pii === 'indirect').map((column) => column.name);
  const parts = [direct.length ? `direct: ${direct.join(', ')}` : '', indirect.length ? `indirect: ${indirect.join(', ')}` : ''].filter(Boolean);
  return parts.join('; ') || 'none';
}

/** `dataprod catalog`: every dataset written, with schema, rows, checksum, PII classes and tags. */
export async function catalog(options: CatalogOptions, context: CommandContext): Promise<CommandResult<CatalogEntry[]>> {
  const entries = searchCatalog(await readCatalog(context.home), options.search);
  if (!entries.length) {
    const where = catalogPath(context.home);
    return { data: [], text: options.search ? `no dataset matches "${options.search}" (${where})` : `the catalog is empty: datasets are recorded by \`dataprod run\` (${where})` };
  }
  const rows = entries.map((entry) => [
      entry.name,
      entry.layer,
      entry.rows === null ? '-' : String(entry.rows),
      entry.bytes === null ? '-' : formatBytes(entry.bytes),
      String(entry.schema.length),
      piiCell(entry),
      entry.tags.join(', '),
      entry.checksum ? `${entry.checksum.slice(0, 19)}…` : '-',
      formatLocalTime(entry.recorded_at),
    ]);
  const head = ['dataset', 'layer', 'rows', 'size', 'columns', 'PII', 'tags', 'checksum', 'recorded (São Paulo)'];
  return { data: entries, text: `${renderTable(rows, { head, wrap: [0, 5, 6] })}\n${entries.length} dataset${entries.length === 1 ? '' : 's'}; schemas and full checksums with --json` };
}
