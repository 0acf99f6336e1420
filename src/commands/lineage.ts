import { UsageError } from '../errors.js';
import { readCatalog } from '../metadata/catalog.js';
import { type LineageNode, buildLineageGraph, downstreamTree, findDatasetKey, readLineageEvents, renderLineageTree, upstreamTree } from '../metadata/lineage.js';
import { lineageEventsPath } from '../lake/layout.js';
import type { CommandContext, CommandResult } from './context.js';

export interface LineageOptions {
  /** A dataset: a catalog name (silver.transactions/date=D), a lake path (absolute, `~/`, relative to the working directory or to the home), a destination path, or a unique part of one. */
  dataset: string;
  /** How many levels to follow each way (default 12). */
  depth?: number;
  /** Directory a relative path is taken from first (default: the working directory), then the home. */
  cwd?: string;
}

export interface LineageResult {
  dataset: string;
  upstream: LineageNode;
  downstream: LineageNode;
}

/**
 * `dataprod lineage DATASET`: where a dataset came from and what was made from it, from
 * the OpenLineage events every run appends (datasets linked through stage runs).
 */
export async function lineage(options: LineageOptions, context: CommandContext): Promise<CommandResult<LineageResult>> {
  const events = await readLineageEvents(context.home);
  if (!events.length) {
    throw new UsageError(`no lineage recorded yet in ${lineageEventsPath(context.home)}`, { hint: 'lineage is recorded by `dataprod run`; run it first' });
  }
  const graph = buildLineageGraph(events);
  // A catalog name stands for its file.
  const catalogEntry = (await readCatalog(context.home)).datasets[options.dataset];
  const query = catalogEntry ? catalogEntry.path : options.dataset;
  const found = findDatasetKey(graph, context.home, query, options.cwd ?? process.cwd());
  if (found === null) {
    throw new UsageError(`no lineage recorded for "${options.dataset}"`, { hint: 'give a path under --home or a name from `dataprod catalog`' });
  }
  if (Array.isArray(found)) {
    const shown = found.slice(0, 10).join(', ');
    throw new UsageError(`"${options.dataset}" matches ${found.length} datasets: ${shown}${found.length > 10 ? ', ...' : ''}`, { hint: 'give more of the path' });
  }
  const depth = options.depth ?? 12;
  const upstream = upstreamTree(graph, found, depth);
  const downstream = downstreamTree(graph, found, depth);
  const section = (title: string, node: LineageNode): string => `${title}\n${node.children.length ? renderLineageTree(node, { showRoot: false }) : '(none recorded)'}`;
  const text = [renderLineageTree({ ...upstream, children: [] }), '', section('upstream (where it came from):', upstream), '', section('downstream (what was made from it):', downstream)].join('\n');
  return { data: { dataset: found, upstream, downstream }, text };
}
