import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Logger } from 'winston';
import { lineageEventsPath, lineageOutboxDir } from '../lake/layout.js';
import { redact, redactValue } from '../log.js';
import type { PartnerConfig } from '../partners/config.js';
import { appendJsonLines, readJsonLines } from '../records/jsonl.js';
import { flushLineageOutbox, queueLineageEvent, queuedLineageEvents } from './lineage-outbox.js';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Identifies dataprod as the producer of events and facets (a URI, as the spec asks). */
export const LINEAGE_PRODUCER = `urn:dataprod:${version}`;
/** The OpenLineage spec version our events follow (test/openlineage/ holds its schema). */
export const LINEAGE_SCHEMA_URL = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';
export const SCHEMA_FACET_URL = 'https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet';
export const ERROR_FACET_URL = 'https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet';
export const PARENT_FACET_URL = 'https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet';
export const TAGS_RUN_FACET_URL = 'https://openlineage.io/spec/facets/1-0-0/TagsRunFacet.json#/$defs/TagsRunFacet';
export const JOB_TYPE_FACET_URL = 'https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet';
/** Namespace of every job. */
export const LINEAGE_JOB_NAMESPACE = 'dataprod';
/** `source` of the tags we put on runs. */
const TAG_SOURCE = 'DATAPROD';

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

interface JobRef {
  namespace: string;
  name: string;
}

/** ParentRunFacet: the run that spawned this one and, for a step, the whole dataprod run as root. */
export interface ParentFacet extends BaseFacet {
  run: { runId: string };
  job: JobRef;
  root?: { run: { runId: string }; job: JobRef };
}

/** An OpenLineage RunEvent as dataprod writes it. */
export interface LineageRunEvent {
  eventType: LineageEventType;
  eventTime: string;
  run: {
    runId: string;
    facets: {
      parent?: ParentFacet;
      /** dataprod.run_id (ours, as in runs.jsonl), dataprod.partner, dataprod.stage. */
      tags?: BaseFacet & { tags: { key: string; value: string; source?: string }[] };
      errorMessage?: BaseFacet & { message: string; programmingLanguage: string };
      /** Events written before ParentRunFacet replaced it carry this instead of `tags`. */
      dataprod_run?: BaseFacet & { run_id: string; partner: string; stage: string };
    };
  };
  job: JobRef & { facets?: { jobType?: BaseFacet & { processingType: string; integration: string; jobType?: string } } };
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

/** A name-based UUID (SHA-1, RFC 4122 version 5), so every event of one run of a job shares its runId. */
function uuidFor(text: string): string {
  const bytes = createHash('sha1').update(text).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A stable UUID for one stage of one of our runs, so START and COMPLETE of a stage share a
 * runId and a re-emitted event is the same run.
 */
export function stageRunId(runId: string, stage: string, partner = ''): string {
  return uuidFor(`dataprod:${partner}:${runId}:${stage}`);
}

/** The OpenLineage runId of a whole dataprod run (job `<partner>.run`): the parent of its stages. */
export function runUuid(runId: string, partner = ''): string {
  return stageRunId(runId, 'run', partner);
}

/** The runId of one step of a stage (one table and day, one report period, one delivered file). */
export function stepRunId(runId: string, stage: string, step: Pick<LineageStep, 'job' | 'key'>, partner = ''): string {
  return uuidFor(`dataprod:${partner}:${runId}:${stage}:${step.job}:${step.key}`);
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

/**
 * One unit of a stage's work whose inputs and outputs belong together: cleaning one table
 * of one day, building one report period, delivering one file. Each is its own OpenLineage
 * run (job `<partner>.<stage>.<job>`, a child of the stage's run), so lineage links an
 * output only to the inputs of its own step, not to everything the stage touched.
 */
export interface LineageStep {
  /** Job under the stage, stable across runs: `transactions`, `daily-analytic`, `sftp-main`. */
  job: string;
  /** What this run of the job covers (a day, a period, a file): part of its run id. */
  key: string;
  inputs?: DatasetInput[];
  outputs?: DatasetInput[];
}

export interface BuildLineageEventInput {
  home: string;
  partner: string;
  /** Our run id (the one in runs.jsonl). */
  runId: string;
  /** extract, clean, build, gates, deliver, notify, record; `run` for the whole run. */
  stage: string;
  eventType: LineageEventType;
  eventTime?: Date;
  inputs?: LineageDatasetRef[];
  outputs?: LineageDatasetRef[];
  /** For FAIL: the error, as the errorMessage run facet (redacted, no stack). */
  error?: { message: string };
  /** Set for a step: the event is the step's run, child of the stage's. */
  step?: Pick<LineageStep, 'job' | 'key'>;
}

function jobName(partner: string, stage: string, step?: Pick<LineageStep, 'job'>): string {
  return [partner, stage, step?.job].filter(Boolean).join('.');
}

/**
 * One OpenLineage RunEvent: for the whole run (stage `run`, job `<partner>.run`), a stage
 * (job `<partner>.<stage>`, parent the run) or a step (job `<partner>.<stage>.<job>`,
 * parent the stage, root the run). Our run id, partner and stage are run tags.
 */
export function buildLineageEvent(input: BuildLineageEventInput): LineageRunEvent {
  const { partner, runId, stage, step } = input;
  const whole: { run: { runId: string }; job: JobRef } = { run: { runId: runUuid(runId, partner) }, job: { namespace: LINEAGE_JOB_NAMESPACE, name: jobName(partner, 'run') } };
  const stageRun: { run: { runId: string }; job: JobRef } = { run: { runId: stageRunId(runId, stage, partner) }, job: { namespace: LINEAGE_JOB_NAMESPACE, name: jobName(partner, stage) } };
  const own = step ? { run: { runId: stepRunId(runId, stage, step, partner) }, job: { namespace: LINEAGE_JOB_NAMESPACE, name: jobName(partner, stage, step) } } : stage === 'run' ? whole : stageRun;
  const parent: ParentFacet | undefined = step
    ? { _producer: LINEAGE_PRODUCER, _schemaURL: PARENT_FACET_URL, ...stageRun, root: whole }
    : stage === 'run'
      ? undefined
      : { _producer: LINEAGE_PRODUCER, _schemaURL: PARENT_FACET_URL, ...whole };
  const tags = [
    { key: 'dataprod.run_id', value: runId, source: TAG_SOURCE },
    { key: 'dataprod.partner', value: partner, source: TAG_SOURCE },
    { key: 'dataprod.stage', value: stage, source: TAG_SOURCE },
    ...(step ? [{ key: 'dataprod.step', value: step.key, source: TAG_SOURCE }] : []),
  ];
  const event: LineageRunEvent = {
    eventType: input.eventType,
    eventTime: (input.eventTime ?? new Date()).toISOString(),
    run: {
      runId: own.run.runId,
      facets: {
        ...(parent ? { parent } : {}),
        tags: { _producer: LINEAGE_PRODUCER, _schemaURL: TAGS_RUN_FACET_URL, tags },
      },
    },
    job: {
      ...own.job,
      facets: { jobType: { _producer: LINEAGE_PRODUCER, _schemaURL: JOB_TYPE_FACET_URL, processingType: 'BATCH', integration: 'DATAPROD', jobType: stage === 'run' ? 'JOB' : 'TASK' } },
    },
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

/** Our run id of an event: the dataprod.run_id tag (or the custom facet of older events). */
export function eventRunId(event: LineageRunEvent): string {
  return event.run.facets?.tags?.tags.find((tag) => tag.key === 'dataprod.run_id')?.value ?? event.run.facets?.dataprod_run?.run_id ?? event.run.runId;
}

/**
 * Where events are POSTed, if anywhere: the partner configuration's `lineage.endpoint`,
 * else $DATAPROD_LINEAGE_URL (e.g. http://marquez:5000/api/v1/lineage).
 */
export function lineageEndpoint(config?: Pick<PartnerConfig, 'lineage'> | null, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return config?.lineage?.endpoint || env.DATAPROD_LINEAGE_URL || undefined;
}

/** POSTs one event as JSON; throws on a network error, a timeout or a non-2xx answer. */
export async function postLineageEvent(endpoint: string, event: unknown, timeoutMs = 5000): Promise<void> {
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
  /** extract, clean, build, gates, deliver, notify, record; `run` for the whole run. */
  stage: string;
  eventType: LineageEventType;
  eventTime?: Date;
  /** When the stage started: the START time of its steps' runs (default eventTime). */
  startedAt?: Date;
  /** Datasets read: lake paths (absolute or home-relative) or references. */
  inputs?: DatasetInput[];
  /** Datasets written. */
  outputs?: DatasetInput[];
  /**
   * With COMPLETE: the stage's units of work, each emitted as its own run (START and
   * COMPLETE, child of the stage) before the stage's COMPLETE.
   */
  steps?: LineageStep[];
  /** For FAIL: the error message (errorMessage run facet). */
  error?: string | { message: string };
  /** Where a failed POST is reported; without one, the first failed POST throws instead. */
  logger?: Logger;
  timeoutMs?: number;
  /** Overrides config.lineage.endpoint / $DATAPROD_LINEAGE_URL (tests). */
  endpoint?: string;
}

/**
 * What posting learnt in this process, per run and endpoint: whether the outbox was sent
 * (once, before the run's first event) and whether the endpoint failed, after which the
 * rest of the run's events go straight to the outbox, so a down server costs one timeout.
 */
const posting = new Map<string, { flushed: boolean; down: boolean }>();

/**
 * Sends `events` to the endpoint, after whatever earlier runs left in the outbox; what
 * cannot be sent is queued in `<home>/_meta/lineage/outbox/` for the next run. Returns the
 * warning to give, if any.
 */
async function deliverEvents(home: string, endpoint: string, runId: string, events: LineageRunEvent[], timeoutMs?: number): Promise<string | undefined> {
  const outbox = lineageOutboxDir(home);
  const key = `${runId}\n${endpoint}`;
  const state = posting.get(key) ?? { flushed: false, down: false };
  posting.set(key, state);
  const post = (event: unknown) => postLineageEvent(endpoint, event, timeoutMs);
  let warning: string | undefined;
  const fail = (error: Error): void => {
    state.down = true;
    warning = `lineage: could not post to ${redact(endpoint)}: ${redact(error.message)}; the events wait in ${outbox} and are sent first on the next run`;
  };
  if (!state.flushed && !state.down) {
    state.flushed = true;
    const flushed = await flushLineageOutbox(outbox, post);
    if (flushed.error) fail(flushed.error);
    else if (flushed.rejected > 0) warning = `lineage: ${redact(endpoint)} refused ${flushed.rejected} queued event(s); they are kept in ${outbox}/rejected`;
  }
  for (const event of events) {
    if (!state.down) {
      try {
        await post(event);
        continue;
      } catch (error) {
        fail(error as Error);
      }
    }
    await queueLineageEvent(outbox, event);
  }
  return warning;
}

/**
 * Records one stage event (and, on COMPLETE, its steps' runs): appends them to
 * `<home>/_meta/lineage/events.jsonl` and POSTs them when an endpoint is configured
 * (config.lineage.endpoint, else $DATAPROD_LINEAGE_URL), events left from earlier runs
 * first. Throws only if the local files cannot be written (or, without a logger, when a
 * POST failed); the runner catches and warns: lineage never fails a run.
 */
export async function emitStageEvent(home: string, config: Pick<PartnerConfig, 'partner'> & Partial<Pick<PartnerConfig, 'lineage'>>, input: StageEventInput): Promise<LineageRunEvent> {
  const common = { home, partner: config.partner, runId: input.runId, stage: input.stage };
  const event = buildLineageEvent({
    ...common,
    eventType: input.eventType,
    eventTime: input.eventTime,
    inputs: (input.inputs ?? []).map(toRef),
    outputs: (input.outputs ?? []).map(toRef),
    error: input.error === undefined ? undefined : typeof input.error === 'string' ? { message: input.error } : input.error,
  });
  const events: LineageRunEvent[] = [];
  if (input.eventType === 'COMPLETE') {
    for (const step of input.steps ?? []) {
      const datasets = { inputs: (step.inputs ?? []).map(toRef), outputs: (step.outputs ?? []).map(toRef) };
      events.push(buildLineageEvent({ ...common, step, eventType: 'START', eventTime: input.startedAt ?? input.eventTime, ...datasets }));
      events.push(buildLineageEvent({ ...common, step, eventType: 'COMPLETE', eventTime: input.eventTime, ...datasets }));
    }
  }
  events.push(event);
  await appendJsonLines(lineageEventsPath(home), events);
  const endpoint = input.endpoint ?? lineageEndpoint(config);
  if (endpoint) {
    const warning = await deliverEvents(home, endpoint, input.runId, events, input.timeoutMs);
    if (warning) {
      if (!input.logger) throw new Error(warning);
      input.logger.warn(warning);
    }
  }
  return event;
}

/** Events waiting in the outbox for an endpoint that was down. */
export async function queuedLineageEventCount(home: string): Promise<number> {
  return (await queuedLineageEvents(lineageOutboxDir(home))).length;
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
  /** With complete: the stage's units of work (see LineageStep). */
  steps?: LineageStep[];
  /** With complete: when the stage started. */
  startedAt?: Date;
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

/** Links datasets through the runs that completed (failed ones wrote nothing). */
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
    if (inputs.length === 0 && outputs.length === 0) continue;
    const edge: LineageEdge = { job: event.job.name, run_id: eventRunId(event), at: event.eventTime, inputs, outputs };
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
 * Where a dataset came from: the inputs of the latest run that wrote it, and theirs, down
 * to the sources. A re-run replaces a partition, so only the latest writer counts.
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

/**
 * What was made from a dataset: the outputs of every run that read it, and theirs. A run
 * counts only while it is still the latest writer of that output (a rebuild from other
 * inputs replaced what an older run made).
 */
export function downstreamTree(graph: LineageGraph, key: string, maxDepth = 12): LineageNode {
  const seen = new Set<string>();
  const walk = (dataset: string, depth: number, producedBy?: LineageEdge): LineageNode => {
    const node: LineageNode = { dataset, producedBy: describeProducer(producedBy ?? producerOf(graph, dataset)), children: [] };
    if (seen.has(dataset)) return { ...node, repeated: true };
    seen.add(dataset);
    if (depth >= maxDepth) return node;
    const children = new Map<string, LineageEdge>();
    for (const edge of graph.consumers.get(dataset) ?? []) {
      for (const output of edge.outputs) if (output !== dataset && producerOf(graph, output) === edge) children.set(output, edge);
    }
    node.children = [...children.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([output, edge]) => walk(output, depth + 1, edge));
    return node;
  };
  return walk(key, 0);
}

function toHomeKey(home: string, absolute: string): string | undefined {
  const path = relative(resolve(home), absolute);
  if (path === '' || path.startsWith('..') || isAbsolute(path)) return undefined;
  return path.split(sep).join('/');
}

/**
 * Resolves what a person typed to a dataset key: a graph key; a path, absolute, `~/`,
 * relative to the working directory or to the home; a file inside a recorded partition
 * directory; or a unique part of a key.
 */
export function findDatasetKey(graph: LineageGraph, home: string, query: string, cwd = process.cwd()): string | string[] | null {
  const normalised = query.replace(/\\/g, '/').replace(/^\.\//, '').replace(/\/+$/, '');
  if (graph.datasets.has(normalised)) return normalised;
  const expanded = query === '~' || query.startsWith('~/') ? `${homedir()}${query.slice(1)}` : query;
  const candidates = isAbsolute(expanded) ? [expanded] : [resolve(cwd, expanded), resolve(home, expanded)];
  for (const candidate of candidates) {
    let key = toHomeKey(home, candidate);
    // A file inside a partition recorded as a directory (bronze/<table>/date=D/<file>).
    while (key) {
      if (graph.datasets.has(key)) return key;
      const slash = key.lastIndexOf('/');
      key = slash > 0 ? key.slice(0, slash) : undefined;
      if (key && !/\/date=\d{4}-\d{2}-\d{2}$/.test(key)) break;
    }
  }
  const matches = [...graph.datasets].filter((key) => key.endsWith(normalised) || key.startsWith(`${normalised}/`) || key.includes(normalised));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) return matches.sort();
  return null;
}

/** Renders a tree with box-drawing branches; each node says which run wrote it. */
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

/** Every dataset at the bottom of an upstream tree (what it was made from in the end), sorted. */
export function upstreamSources(root: LineageNode): string[] {
  const sources = new Set<string>();
  const walk = (node: LineageNode): void => {
    if (node.children.length === 0 && node !== root && !node.repeated) sources.add(node.dataset);
    for (const child of node.children) walk(child);
  };
  walk(root);
  return [...sources].sort();
}
