import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Logger } from 'winston';
import { lineageEventsPath } from '../lake/layout.js';
import { redact, redactValue } from '../log.js';
import type { PartnerConfig } from '../partners/config.js';
import { appendJsonLine, readJsonLines } from '../records/jsonl.js';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Identifies dataprod as the producer of events and facets (a URI, as the spec asks). */
export const LINEAGE_PRODUCER = `urn:dataprod:${version}`;
/** The OpenLineage spec version our events follow. */
export const LINEAGE_SCHEMA_URL = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';
export const SCHEMA_FACET_URL = 'https://openlineage.io/spec/facets/1-0-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet';
export const ERROR_FACET_URL = 'https://openlineage.io/spec/facets/1-0-0/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet';
/** Our own run facet (run id, partner, stage); a URN because we publish no schema for it. */
export const DATAPROD_RUN_FACET_URL = 'urn:dataprod:facets:DataprodRunFacet:1';
/** Namespace of every job. */
export const LINEAGE_JOB_NAMESPACE = 'dataprod';

export type LineageEventType = 'START' | 'COMPLETE' | 'FAIL' | 'ABORT';

interface BaseFacet {
  _producer: string;
  _schemaURL: string;
}

export interface LineageDataset {
  namespace: string;
  name: string;
  facets?: {
    schema?: BaseFacet & { fields: { name: string; type?: string }[] };
    [facet: string]: unknown;
  };
}

/** An OpenLineage RunEvent as dataprod writes it. */
export interface LineageRunEvent {
  eventType: LineageEventType;
  eventTime: string;
  run: {
    runId: string;
    facets: {
      dataprod_run: BaseFacet & { run_id: string; partner: string; stage: string };
      errorMessage?: BaseFacet & { message: string; programmingLanguage: string };
    };
  };
  job: { namespace: string; name: string };
  inputs: LineageDataset[];
  outputs: LineageDataset[];
  producer: string;
  schemaURL: string;
}

/**
 * A dataset a stage read or wrote: a lake path (namespace `file://<home>`, name its path
 * relative to the home) or an explicit namespace and name (a partner's SFTP server or API).
 */
export interface LineageDatasetRef {
  /** Absolute or home-relative path of a file or partition directory in the lake. */
  path?: string;
  /** With `name`, for datasets outside the lake, e.g. `sftp://host:22`. */
  namespace?: string;
  name?: string;
  /** Columns, as the schema facet. */
  schema?: { name: string; type: string }[];
}

/** The namespace of lake datasets of a home. */
export function lakeNamespace(home: string): string {
  return `file://${resolve(home)}`;
}

/**
 * A stable UUID for one stage of one of our runs (name-based, SHA-1, RFC 4122 version 5),
 * so START and COMPLETE of a stage share a runId and a re-emitted event is the same run.
 */
export function stageRunId(runId: string, stage: string, partner = ''): string {
  const bytes = createHash('sha1').update(`dataprod:${partner}:${runId}:${stage}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function toDataset(home: string, ref: LineageDatasetRef): LineageDataset {
  let namespace: string;
  let name: string;
  if (ref.path !== undefined) {
    const absolute = isAbsolute(ref.path) ? ref.path : resolve(home, ref.path);
    namespace = lakeNamespace(home);
    name = relative(resolve(home), absolute).split(sep).join('/');
  } else {
    namespace = ref.namespace ?? LINEAGE_JOB_NAMESPACE;
    name = ref.name ?? '';
  }
  const dataset: LineageDataset = { namespace, name };
  if (ref.schema?.length) {
    dataset.facets = { schema: { _producer: LINEAGE_PRODUCER, _schemaURL: SCHEMA_FACET_URL, fields: ref.schema.map((column) => ({ name: column.name, type: column.type })) } };
  }
  return dataset;
}

export interface BuildLineageEventInput {
  home: string;
  partner: string;
  /** Our run id (the one in runs.jsonl). */
  runId: string;
  /** extract, clean, build, gates, deliver, notify, record. */
  stage: string;
  eventType: LineageEventType;
  eventTime?: Date;
  inputs?: LineageDatasetRef[];
  outputs?: LineageDatasetRef[];
  /** For FAIL: the error, as the errorMessage run facet (redacted, no stack). */
  error?: { message: string };
}

/** One OpenLineage RunEvent for a stage of a run; job `<partner>.<stage>` in namespace `dataprod`. */
export function buildLineageEvent(input: BuildLineageEventInput): LineageRunEvent {
  const event: LineageRunEvent = {
    eventType: input.eventType,
    eventTime: (input.eventTime ?? new Date()).toISOString(),
    run: {
      runId: stageRunId(input.runId, input.stage, input.partner),
      facets: {
        dataprod_run: { _producer: LINEAGE_PRODUCER, _schemaURL: DATAPROD_RUN_FACET_URL, run_id: input.runId, partner: input.partner, stage: input.stage },
      },
    },
    job: { namespace: LINEAGE_JOB_NAMESPACE, name: `${input.partner}.${input.stage}` },
    inputs: (input.inputs ?? []).map((ref) => toDataset(input.home, ref)),
    outputs: (input.outputs ?? []).map((ref) => toDataset(input.home, ref)),
    producer: LINEAGE_PRODUCER,
    schemaURL: LINEAGE_SCHEMA_URL,
  };
  if (input.error) {
    event.run.facets.errorMessage = { _producer: LINEAGE_PRODUCER, _schemaURL: ERROR_FACET_URL, message: redact(input.error.message), programmingLanguage: 'JavaScript' };
  }
  return event;
}

/**
 * Where events are POSTed, if anywhere: the partner configuration's `lineage.endpoint`,
 * else $DATAPROD_LINEAGE_URL (e.g. http://marquez:5000/api/v1/lineage).
 */
export function lineageEndpoint(config?: Pick<PartnerConfig, 'lineage'> | null, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return config?.lineage?.endpoint || env.DATAPROD_LINEAGE_URL || undefined;
}

/** POSTs one event as JSON; throws on a network error, a timeout or a non-2xx answer. */
export async function postLineageEvent(endpoint: string, event: LineageRunEvent, timeoutMs = 5000): Promise<void> {
  const { default: got } = await import('got');
  await got.post(endpoint, {
    json: redactValue(event),
    timeout: { request: timeoutMs },
    retry: { limit: 0 },
    headers: { 'user-agent': `dataprod/${version}` },
  });
}

/** A dataset given as a lake path (string) or a full reference. */
export type DatasetInput = string | LineageDatasetRef;

function toRef(dataset: DatasetInput): LineageDatasetRef {
  return typeof dataset === 'string' ? { path: dataset } : dataset;
}

export interface StageEventInput {
  /** Our run id. */
  runId: string;
  /** extract, clean, build, gates, deliver, notify, record. */
  stage: string;
  eventType: LineageEventType;
  eventTime?: Date;
  /** Datasets read: lake paths (absolute or home-relative) or references. */
  inputs?: DatasetInput[];
  /** Datasets written. */
  outputs?: DatasetInput[];
  /** For FAIL: the error message (errorMessage run facet). */
  error?: string | { message: string };
  /** Where a failed POST is reported; without one, the first failed POST throws instead. */
  logger?: Logger;
  timeoutMs?: number;
  /** Overrides config.lineage.endpoint / $DATAPROD_LINEAGE_URL (tests). */
  endpoint?: string;
}

/** Endpoints that failed during this process: posting stops after one failure, so a down server costs one timeout. */
const unreachableEndpoints = new Set<string>();

/**
 * Records one stage event: appends it to `<home>/_meta/lineage/events.jsonl` and POSTs it
 * when an endpoint is configured (config.lineage.endpoint, else $DATAPROD_LINEAGE_URL).
 * Throws only if the local file cannot be written (or, without a logger, on the first
 * failed POST); the runner catches and warns: lineage never fails a run.
 */
export async function emitStageEvent(home: string, config: Pick<PartnerConfig, 'partner'> & Partial<Pick<PartnerConfig, 'lineage'>>, input: StageEventInput): Promise<LineageRunEvent> {
  const event = buildLineageEvent({
    home,
    partner: config.partner,
    runId: input.runId,
    stage: input.stage,
    eventType: input.eventType,
    eventTime: input.eventTime,
    inputs: (input.inputs ?? []).map(toRef),
    outputs: (input.outputs ?? []).map(toRef),
    error: input.error === undefined ? undefined : typeof input.error === 'string' ? { message: input.error } : input.error,
  });
  await appendJsonLine(lineageEventsPath(home), event);
  const endpoint = input.endpoint ?? lineageEndpoint(config);
  if (endpoint && !unreachableEndpoints.has(endpoint)) {
    try {
      await postLineageEvent(endpoint, event, input.timeoutMs);
    } catch (error) {
      unreachableEndpoints.add(endpoint);
      const message = `lineage: could not post to ${redact(endpoint)}: ${redact((error as Error).message)}; events stay in ${lineageEventsPath(home)}`;
      if (!input.logger) throw new Error(message);
      input.logger.warn(message);
    }
  }
  return event;
}

export interface LineageEmitterOptions {
  home: string;
  partner: string;
  runId: string;
  /** POST target; events are always appended to events.jsonl. */
  endpoint?: string;
  timeoutMs?: number;
  logger?: Logger;
  /** The clock (tests). */
  now?: () => Date;
}

export interface StageDatasets {
  inputs?: DatasetInput[];
  outputs?: DatasetInput[];
}

/** emitStageEvent bound to one run, for callers that prefer it. Never throws. */
export interface LineageEmitter {
  start(stage: string, datasets?: StageDatasets): Promise<void>;
  complete(stage: string, datasets?: StageDatasets): Promise<void>;
  fail(stage: string, error: { message: string }, datasets?: StageDatasets): Promise<void>;
  /** ABORT, for a stage stopped by SIGINT/SIGTERM. */
  abort(stage: string, datasets?: StageDatasets): Promise<void>;
}

export function createLineageEmitter(options: LineageEmitterOptions): LineageEmitter {
  const emit = async (eventType: LineageEventType, stage: string, datasets: StageDatasets = {}, error?: { message: string }): Promise<void> => {
    try {
      await emitStageEvent(
        options.home,
        { partner: options.partner },
        { runId: options.runId, stage, eventType, eventTime: options.now?.() ?? new Date(), ...datasets, error, endpoint: options.endpoint, timeoutMs: options.timeoutMs, logger: options.logger },
      );
    } catch (writeError) {
      options.logger?.warn(`lineage: could not record the ${eventType} event of ${stage}: ${(writeError as Error).message}`);
    }
  };
  return {
    start: (stage, datasets) => emit('START', stage, datasets),
    complete: (stage, datasets) => emit('COMPLETE', stage, datasets),
    fail: (stage, error, datasets) => emit('FAIL', stage, datasets, error),
    abort: (stage, datasets) => emit('ABORT', stage, datasets),
  };
}

export async function readLineageEvents(home: string): Promise<LineageRunEvent[]> {
  return readJsonLines<LineageRunEvent>(lineageEventsPath(home));
}

/** How a dataset came to be: the stage run that wrote it. */
export interface LineageEdge {
  job: string;
  run_id: string;
  at: string;
  inputs: string[];
  outputs: string[];
}

export interface LineageGraph {
  /** Dataset key -> the stage runs that wrote it, oldest first. */
  producers: Map<string, LineageEdge[]>;
  /** Dataset key -> the stage runs that read it, oldest first. */
  consumers: Map<string, LineageEdge[]>;
  /** Every dataset key seen. */
  datasets: Set<string>;
}

/** A dataset's key in the graph: its name, prefixed by the namespace unless it is a lake path or `dataprod`. */
export function datasetKey(dataset: { namespace: string; name: string }): string {
  return dataset.namespace.startsWith('file://') || dataset.namespace === LINEAGE_JOB_NAMESPACE ? dataset.name : `${dataset.namespace}/${dataset.name.replace(/^\/+/, '')}`;
}

/** Links datasets through the stage runs that completed (failed stages wrote nothing). */
export function buildLineageGraph(events: LineageRunEvent[]): LineageGraph {
  const graph: LineageGraph = { producers: new Map(), consumers: new Map(), datasets: new Set() };
  const push = (map: Map<string, LineageEdge[]>, key: string, edge: LineageEdge): void => {
    const list = map.get(key) ?? [];
    list.push(edge);
    map.set(key, list);
  };
  const completed = events.filter((event) => event?.eventType === 'COMPLETE').sort((a, b) => a.eventTime.localeCompare(b.eventTime));
  for (const event of completed) {
    const inputs = (event.inputs ?? []).map(datasetKey);
    const outputs = (event.outputs ?? []).map(datasetKey);
    const edge: LineageEdge = { job: event.job.name, run_id: event.run.facets?.dataprod_run?.run_id ?? event.run.runId, at: event.eventTime, inputs, outputs };
    for (const key of inputs) {
      graph.datasets.add(key);
      push(graph.consumers, key, edge);
    }
    for (const key of outputs) {
      graph.datasets.add(key);
      push(graph.producers, key, edge);
    }
  }
  return graph;
}

export interface LineageNode {
  dataset: string;
  /** The stage run that (last) wrote this dataset, when known. */
  producedBy?: { job: string; run_id: string; at: string };
  children: LineageNode[];
  /** Set when the node was already shown higher in the tree (a diamond or a cycle). */
  repeated?: boolean;
}

function producerOf(graph: LineageGraph, key: string): LineageEdge | undefined {
  return graph.producers.get(key)?.at(-1);
}

function describeProducer(edge: LineageEdge | undefined): LineageNode['producedBy'] {
  return edge ? { job: edge.job, run_id: edge.run_id, at: edge.at } : undefined;
}

/**
 * Where a dataset came from: the inputs of the latest stage run that wrote it, and theirs,
 * down to the sources. A re-run replaces a partition, so only the latest writer counts.
 */
export function upstreamTree(graph: LineageGraph, key: string, maxDepth = 12): LineageNode {
  const seen = new Set<string>();
  const walk = (dataset: string, depth: number): LineageNode => {
    const edge = producerOf(graph, dataset);
    const node: LineageNode = { dataset, producedBy: describeProducer(edge), children: [] };
    if (seen.has(dataset)) return { ...node, repeated: true };
    seen.add(dataset);
    if (edge && depth < maxDepth) node.children = [...new Set(edge.inputs)].sort().map((input) => walk(input, depth + 1));
    return node;
  };
  return walk(key, 0);
}

/** What was made from a dataset: the outputs of every stage run that read it, and theirs. */
export function downstreamTree(graph: LineageGraph, key: string, maxDepth = 12): LineageNode {
  const seen = new Set<string>();
  const walk = (dataset: string, depth: number, producedBy?: LineageEdge): LineageNode => {
    const node: LineageNode = { dataset, producedBy: describeProducer(producedBy ?? producerOf(graph, dataset)), children: [] };
    if (seen.has(dataset)) return { ...node, repeated: true };
    seen.add(dataset);
    if (depth >= maxDepth) return node;
    const children = new Map<string, LineageEdge>();
    for (const edge of graph.consumers.get(dataset) ?? []) for (const output of edge.outputs) if (output !== dataset) children.set(output, edge);
    node.children = [...children.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([output, edge]) => walk(output, depth + 1, edge));
    return node;
  };
  return walk(key, 0);
}

/** Resolves what a person typed (a graph key, a path, absolute or relative, or a unique suffix) to a dataset key. */
export function findDatasetKey(graph: LineageGraph, home: string, query: string): string | string[] | null {
  const normalised = query.replace(/\\/g, '/').replace(/^\.\//, '');
  if (graph.datasets.has(normalised)) return normalised;
  const absolute = isAbsolute(query) ? query : resolve(home, query);
  const relativePath = relative(resolve(home), absolute).split(sep).join('/');
  if (graph.datasets.has(relativePath)) return relativePath;
  const matches = [...graph.datasets].filter((key) => key.endsWith(normalised) || key.startsWith(`${normalised}/`) || key.includes(normalised));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) return matches.sort();
  return null;
}

/** Renders a tree with box-drawing branches; each node says which stage run wrote it. */
export function renderLineageTree(root: LineageNode, options: { showRoot?: boolean } = {}): string {
  const lines: string[] = [];
  const label = (node: LineageNode): string => {
    const by = node.producedBy ? `  (${node.producedBy.job}, run ${node.producedBy.run_id}, ${node.producedBy.at.replace('T', ' ').slice(0, 16)})` : '';
    return `${node.dataset}${by}${node.repeated ? '  (see above)' : ''}`;
  };
  const walk = (node: LineageNode, prefix: string): void => {
    node.children.forEach((child, index) => {
      const last = index === node.children.length - 1;
      lines.push(`${prefix}${last ? '└── ' : '├── '}${label(child)}`);
      walk(child, `${prefix}${last ? '    ' : '│   '}`);
    });
  };
  if (options.showRoot !== false) lines.push(label(root));
  walk(root, '');
  return lines.join('\n');
}
