import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from 'winston';
import { makeTempHome } from '../../test/helpers.js';
import { lineageValidators } from '../../test/lineage-schema.js';
import { type LineageRunEvent, buildLineageGraph, createLineageEmitter, downstreamTree, emitStageEvent, findDatasetKey, lineageEndpoint, readLineageEvents, renderLineageTree, runUuid, stageRunId, upstreamSources, upstreamTree } from './lineage.js';
import { lineageEventsPath } from '../lake/layout.js';

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome()));
afterEach(async () => cleanup());

/** A logger that keeps its warnings (the emitter only warns). */
function memoryLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  return { logger: { warn: (message: string) => warnings.push(message) } as unknown as Logger, warnings };
}

const silverColumns = [{ name: 'transaction_id', type: 'VARCHAR' }, { name: 'unit_price', type: 'DECIMAL(12,2)' }];

/** One day through every stage, as the runner emits it. */
async function emitDay(options: { endpoint?: string; logger?: Logger; runId?: string; day?: string } = {}): Promise<void> {
  const day = options.day ?? '2026-11-20';
  const runId = options.runId ?? '20261121T093000Z-a1b2c3';
  let minute = 0;
  const emitter = createLineageEmitter({ home, partner: 'ouchhungry', runId, endpoint: options.endpoint, logger: options.logger, now: () => new Date(Date.parse(`${day}T12:00:00Z`) + 86_400_000 + minute++ * 60_000) });
  const bronze = `bronze/transactions/date=${day}/transactions.csv`;
  const silver = { path: `${home}/silver/transactions/date=${day}/data.parquet`, schema: silverColumns };
  const quarantine = `quarantine/transactions/date=${day}/data.parquet`;
  const gold = { path: `gold/ouchhungry/daily-analytic/${day}/data.parquet`, schema: [{ name: 'order_key', type: 'VARCHAR' }] };
  const csv = `outbox/ouchhungry/daily-analytic/${day}/ouchhungry_daily-analytic_${day}.csv`;
  await emitter.start('extract');
  await emitter.complete('extract', { outputs: [bronze] });
  await emitter.start('clean', { inputs: [bronze] });
  await emitter.complete('clean', { inputs: [bronze], outputs: [silver, quarantine] });
  await emitter.start('build', { inputs: [silver] });
  await emitter.complete('build', { inputs: [silver], outputs: [gold, csv] });
  await emitter.start('deliver', { inputs: [csv] });
  await emitter.complete('deliver', { inputs: [csv], outputs: [{ namespace: 'sftp://sftp.example:22', name: `/inbound/daily-analytic/${day}/ouchhungry_daily-analytic_${day}.csv` }] });
  await emitter.start('notify');
  await emitter.fail('notify', { message: 'SMTP 554 rejected' });
}

describe('lineage events', () => {
  it('validate against the vendored OpenLineage schema, schema facets included', async () => {
    await emitDay();
    const events = await readLineageEvents(home);
    expect(events).toHaveLength(10);
    const { event: validateEvent, facet: validateFacet, eventProblems } = lineageValidators();
    let facets = 0;
    for (const event of events) {
      expect(eventProblems(event)).toEqual([]);
      for (const dataset of [...event.inputs, ...event.outputs]) {
        if (!dataset.facets?.schema) continue;
        facets++;
        expect(validateFacet(dataset.facets.schema), JSON.stringify(dataset.facets.schema)).toBe(true);
      }
    }
    expect(facets).toBeGreaterThan(0);
    // A broken event is caught by the same validator.
    expect(validateEvent({ ...events[0], run: { runId: 'not-a-uuid' } })).toBe(false);
    expect(validateEvent({ ...events[0], producer: undefined })).toBe(false);
    expect(validateFacet({ fields: [{ name: 'x' }] })).toBe(false);
    const withBadFacet = events.find((event) => event.outputs.some((dataset) => dataset.facets?.schema))!;
    const broken = structuredClone(withBadFacet);
    delete (broken.outputs.find((dataset) => dataset.facets?.schema)!.facets!.schema as Partial<{ _schemaURL: string }>)._schemaURL;
    expect(validateEvent(broken)).toBe(false);
  });

  it('carry the run, job, datasets and facets the brief asks for', async () => {
    await emitDay();
    const events = await readLineageEvents(home);
    const [start, complete] = events.filter((event) => event.job.name === 'ouchhungry.clean');
    expect(start!.eventType).toBe('START');
    expect(complete!.eventType).toBe('COMPLETE');
    expect(start!.run.runId).toBe(complete!.run.runId);
    expect(complete!.run.runId).toBe(stageRunId('20261121T093000Z-a1b2c3', 'clean', 'ouchhungry'));
    expect(complete!.run.runId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(stageRunId('r', 'clean')).not.toBe(stageRunId('r', 'build'));
    // The stage's parent is the whole run (job ouchhungry.run), as the standard ParentRunFacet.
    expect(complete!.run.facets.parent).toMatchObject({
      _schemaURL: 'https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet',
      run: { runId: runUuid('20261121T093000Z-a1b2c3', 'ouchhungry') },
      job: { namespace: 'dataprod', name: 'ouchhungry.run' },
    });
    expect(complete!.run.facets.tags!.tags).toEqual(
      expect.arrayContaining([{ key: 'dataprod.run_id', value: '20261121T093000Z-a1b2c3', source: 'DATAPROD' }, { key: 'dataprod.stage', value: 'clean', source: 'DATAPROD' }]),
    );
    expect(Object.keys(complete!.run.facets).sort()).toEqual(['parent', 'tags']);
    expect(complete!.job).toMatchObject({ namespace: 'dataprod', name: 'ouchhungry.clean' });
    expect(complete!.inputs).toEqual([{ namespace: `file://${home}`, name: 'bronze/transactions/date=2026-11-20/transactions.csv' }]);
    expect(complete!.outputs[0]!.name).toBe('silver/transactions/date=2026-11-20/data.parquet');
    expect(complete!.outputs[0]!.facets!.schema!.fields).toEqual(silverColumns);
    expect(complete!.schemaURL).toBe('https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent');
    const failed = events.find((event) => event.eventType === 'FAIL')!;
    expect(failed.run.facets.errorMessage).toMatchObject({ message: 'SMTP 554 rejected', programmingLanguage: 'JavaScript' });
    expect(lineageEventsPath(home)).toBe(`${home}/_meta/lineage/events.jsonl`);
  });

  it('are posted to the endpoint when one is configured; a failing endpoint is one warning and never an error', async () => {
    const received: LineageRunEvent[] = [];
    let fail = false;
    const server: Server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        if (fail) {
          response.writeHead(500).end('down');
          return;
        }
        received.push(JSON.parse(body) as LineageRunEvent);
        response.writeHead(201).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/lineage`;
    try {
      await emitDay({ endpoint });
      expect(received).toHaveLength(10);
      expect(received.map((event) => event.eventType).slice(0, 2)).toEqual(['START', 'COMPLETE']);

      fail = true;
      const { logger, warnings } = memoryLogger();
      await emitDay({ endpoint, logger, runId: 'second' });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('could not post');
      expect(await readLineageEvents(home)).toHaveLength(20);

      // Without a logger the first failed POST is an error the runner can catch and warn about.
      const other = `http://127.0.0.1:${(server.address() as AddressInfo).port}/other`;
      await expect(emitStageEvent(home, { partner: 'ouchhungry', lineage: { endpoint: other } }, { runId: 'third', stage: 'extract', eventType: 'START' })).rejects.toThrow(/could not post/);
      expect(await readLineageEvents(home)).toHaveLength(21);
    } finally {
      server.close();
    }
  });

  it('take the endpoint from the partner configuration, else DATAPROD_LINEAGE_URL', () => {
    expect(lineageEndpoint({ lineage: { endpoint: 'http://a/api/v1/lineage' } }, { DATAPROD_LINEAGE_URL: 'http://b' })).toBe('http://a/api/v1/lineage');
    expect(lineageEndpoint({}, { DATAPROD_LINEAGE_URL: 'http://b' })).toBe('http://b');
    expect(lineageEndpoint(undefined, {})).toBeUndefined();
  });
});

describe('lineage graph', () => {
  it('follows a delivered file back to its sources and a source forward to what was delivered', async () => {
    await emitDay();
    const graph = buildLineageGraph(await readLineageEvents(home));
    const delivered = findDatasetKey(graph, home, 'inbound/daily-analytic/2026-11-20/ouchhungry_daily-analytic_2026-11-20.csv');
    expect(delivered).toBe('sftp://sftp.example:22/inbound/daily-analytic/2026-11-20/ouchhungry_daily-analytic_2026-11-20.csv');
    const up = upstreamTree(graph, delivered as string);
    expect(up.producedBy).toMatchObject({ job: 'ouchhungry.deliver', run_id: '20261121T093000Z-a1b2c3' });
    const chain: string[] = [];
    for (let node = up; node; node = node.children[0]!) chain.push(node.dataset);
    expect(chain).toEqual([
      'sftp://sftp.example:22/inbound/daily-analytic/2026-11-20/ouchhungry_daily-analytic_2026-11-20.csv',
      'outbox/ouchhungry/daily-analytic/2026-11-20/ouchhungry_daily-analytic_2026-11-20.csv',
      'silver/transactions/date=2026-11-20/data.parquet',
      'bronze/transactions/date=2026-11-20/transactions.csv',
    ]);

    const bronze = findDatasetKey(graph, home, `${home}/bronze/transactions/date=2026-11-20/transactions.csv`) as string;
    const down = downstreamTree(graph, bronze);
    expect(down.children.map((child) => child.dataset)).toEqual(['quarantine/transactions/date=2026-11-20/data.parquet', 'silver/transactions/date=2026-11-20/data.parquet']);
    const text = renderLineageTree(down);
    expect(text.split('\n')[0]).toBe('bronze/transactions/date=2026-11-20/transactions.csv  (ouchhungry.extract, run 20261121T093000Z-a1b2c3, 2026-11-21 12:01)');
    expect(text).toContain('├── quarantine/transactions/date=2026-11-20/data.parquet  (ouchhungry.clean');
    expect(text).toContain('    ├── gold/ouchhungry/daily-analytic/2026-11-20/data.parquet  (ouchhungry.build');
    expect(text).toContain('        └── sftp://sftp.example:22/inbound/');
    // An ambiguous fragment lists the candidates; an unknown one finds nothing.
    expect(findDatasetKey(graph, home, 'date=2026-11-20')).toEqual(expect.arrayContaining(['silver/transactions/date=2026-11-20/data.parquet']));
    expect(findDatasetKey(graph, home, 'nothing-like-this')).toBeNull();
  });

  it('uses the latest writer of a re-run partition and ignores failed stages', async () => {
    await emitDay({ runId: 'first' });
    await emitDay({ runId: 'second', day: '2026-11-20' });
    const graph = buildLineageGraph(await readLineageEvents(home));
    expect(upstreamTree(graph, 'silver/transactions/date=2026-11-20/data.parquet').producedBy!.run_id).toBe('second');
    expect([...graph.datasets].some((key) => key.includes('notify'))).toBe(false);
  });
});

describe('lineage per dataset (stage steps)', () => {
  /** Two days through extract, clean and build as the runner reports them: one step per table and day, per report period. */
  async function emitTwoDays(): Promise<void> {
    let minute = 0;
    const emitter = createLineageEmitter({ home, partner: 'ouchhungry', runId: 'run-1', now: () => new Date(Date.parse('2026-11-22T09:30:00Z') + minute++ * 60_000) });
    const days = ['2026-11-20', '2026-11-21'];
    const tables = ['customers', 'products', 'transactions'];
    const silver = (table: string, day: string) => `silver/${table}/date=${day}/data.parquet`;
    await emitter.complete('extract', { steps: days.flatMap((day) => tables.map((table) => ({ job: table, key: day, outputs: [`bronze/${table}/date=${day}`] }))) });
    await emitter.complete('clean', { steps: days.flatMap((day) => tables.map((table) => ({ job: table, key: day, inputs: [`bronze/${table}/date=${day}`], outputs: [silver(table, day)] }))) });
    const gold = (report: string, period: string) => `gold/ouchhungry/${report}/${period}/data.parquet`;
    const csv = (report: string, period: string) => `outbox/ouchhungry/${report}/${period}/ouchhungry_${report}_${period}.csv`;
    await emitter.complete('build', {
      steps: [
        ...days.flatMap((day) => [
          { job: 'daily-analytic', key: day, inputs: [silver('transactions', day), ...days.filter((other) => other <= day).map((other) => silver('products', other))], outputs: [gold('daily-analytic', day)] },
          { job: 'daily-analytic.render', key: day, inputs: [gold('daily-analytic', day)], outputs: [csv('daily-analytic', day)] },
        ]),
        { job: 'monthly-by-city', key: '2026-11', inputs: days.flatMap((day) => [silver('transactions', day), silver('products', day)]), outputs: [gold('monthly-by-city', '2026-11')] },
        { job: 'monthly-by-city.render', key: '2026-11', inputs: [gold('monthly-by-city', '2026-11')], outputs: [csv('monthly-by-city', '2026-11')] },
      ],
    });
    await emitter.complete('deliver', {
      steps: [csv('daily-analytic', '2026-11-20'), csv('monthly-by-city', '2026-11')].map((file) => ({ job: 'partner-sftp', key: file, inputs: [file], outputs: [{ namespace: 'sftp://sftp.example:22', name: `/inbound/${file.split('/').at(-1)}` }] })),
    });
  }

  it('link each output only to the inputs of its own step', async () => {
    await emitTwoDays();
    const graph = buildLineageGraph(await readLineageEvents(home));
    const daily = upstreamTree(graph, 'outbox/ouchhungry/daily-analytic/2026-11-20/ouchhungry_daily-analytic_2026-11-20.csv');
    expect(upstreamSources(daily)).toEqual(['bronze/products/date=2026-11-20', 'bronze/transactions/date=2026-11-20']);
    expect(upstreamTree(graph, 'silver/products/date=2026-11-20/data.parquet').children.map((node) => node.dataset)).toEqual(['bronze/products/date=2026-11-20']);
    expect(upstreamTree(graph, 'silver/products/date=2026-11-20/data.parquet').producedBy!.job).toBe('ouchhungry.clean.products');
    const monthly = upstreamTree(graph, 'outbox/ouchhungry/monthly-by-city/2026-11/ouchhungry_monthly-by-city_2026-11.csv');
    expect(upstreamSources(monthly)).toEqual(['bronze/products/date=2026-11-20', 'bronze/products/date=2026-11-21', 'bronze/transactions/date=2026-11-20', 'bronze/transactions/date=2026-11-21']);
    // Downstream of the daily CSV: its delivered copy, not the monthly file delivered in the same stage.
    const down = downstreamTree(graph, 'outbox/ouchhungry/daily-analytic/2026-11-20/ouchhungry_daily-analytic_2026-11-20.csv');
    expect(down.children.map((node) => node.dataset)).toEqual(['sftp://sftp.example:22/inbound/ouchhungry_daily-analytic_2026-11-20.csv']);
    // Bronze products of the 20th went into both daily reports and the monthly one; customers into none.
    const fromProducts = downstreamTree(graph, 'bronze/products/date=2026-11-20');
    expect(renderLineageTree(fromProducts)).toContain('ouchhungry_monthly-by-city_2026-11.csv');
    expect(renderLineageTree(downstreamTree(graph, 'bronze/customers/date=2026-11-20'))).not.toContain('gold/');
  });

  it('emit each step as a child run of its stage, the whole run as root, all valid OpenLineage 2-0-2', async () => {
    await emitTwoDays();
    const events = await readLineageEvents(home);
    const { eventProblems } = lineageValidators();
    for (const event of events) expect(eventProblems(event)).toEqual([]);
    const steps = events.filter((event) => event.job.name === 'ouchhungry.clean.transactions');
    expect(steps.map((event) => event.eventType)).toEqual(['START', 'COMPLETE', 'START', 'COMPLETE']);
    expect(new Set(steps.map((event) => event.run.runId)).size).toBe(2);
    const stage = events.find((event) => event.job.name === 'ouchhungry.clean')!;
    expect(stage.inputs).toEqual([]);
    expect(steps[1]!.run.facets.parent).toMatchObject({ run: { runId: stage.run.runId }, job: { name: 'ouchhungry.clean' }, root: { run: { runId: runUuid('run-1', 'ouchhungry') }, job: { name: 'ouchhungry.run' } } });
    // The stage completes after its steps.
    expect(events.indexOf(stage)).toBeGreaterThan(events.indexOf(steps[3]!));
  });

  it('find a dataset by absolute, ~/, working-directory-relative and home-relative path, and a file inside a partition', async () => {
    await emitTwoDays();
    const graph = buildLineageGraph(await readLineageEvents(home));
    const key = 'outbox/ouchhungry/daily-analytic/2026-11-20/ouchhungry_daily-analytic_2026-11-20.csv';
    expect(findDatasetKey(graph, home, `${home}/${key}`)).toBe(key);
    expect(findDatasetKey(graph, home, key, '/somewhere/else')).toBe(key);
    expect(findDatasetKey(graph, home, `./${key}`, home)).toBe(key);
    expect(findDatasetKey(graph, home, 'outbox/nothing/like-this.csv', home)).toBeNull();
    const parent = home.slice(0, home.lastIndexOf('/'));
    const name = home.slice(home.lastIndexOf('/') + 1);
    expect(findDatasetKey(graph, home, `${name}/${key}`, parent)).toBe(key);
    expect(findDatasetKey(graph, home, `../${name}/${key}`, `${parent}/elsewhere`)).toBe(key);
    expect(findDatasetKey(graph, home, 'bronze/transactions/date=2026-11-20/transactions.csv')).toBe('bronze/transactions/date=2026-11-20');
  });
});
