import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { businessDate, daysOfMonth, previousMonth } from '../../src/dates.js';
import { makeTempHome } from '../helpers.js';
import { lineageValidators } from '../lineage-schema.js';
import { listFiles, readJson, runCli } from './cli.js';

// One real 31-day run (the latest past month with 31 days, a month of daily reports plus
// the monthly one, delivered to the sandbox's SFTP and API servers), then what `lineage`
// and `catalog` say about it, through the real binary.

let month = previousMonth(businessDate(new Date()).slice(0, 7));
while (daysOfMonth(month).length !== 31) month = previousMonth(month);
const days = daysOfMonth(month);
const day = days[14]!;
const dailyCsv = `outbox/ouchhungry/daily-analytic/${day}/ouchhungry_daily-analytic_${day}.csv`;
const monthlyCsv = `outbox/ouchhungry/monthly-by-city/${month}/ouchhungry_monthly-by-city_${month}.csv`;

interface Node {
  dataset: string;
  repeated?: boolean;
  children: Node[];
}

/** The bronze partitions at the bottom of an upstream tree. */
function bronzeSources(node: Node): string[] {
  const found = new Set<string>();
  const walk = (current: Node): void => {
    if (current.dataset.startsWith('bronze/')) found.add(current.dataset);
    current.children.forEach(walk);
  };
  walk(node);
  return [...found].sort();
}

function datasetsBelow(node: Node): string[] {
  const found: string[] = [];
  const walk = (current: Node): void => {
    for (const child of current.children) {
      found.push(child.dataset);
      walk(child);
    }
  };
  walk(node);
  return found;
}

let home: string;
let cleanup: () => Promise<void>;

describe(`a 31-day run (${month})`, { timeout: 600_000 }, () => {
  beforeAll(async () => {
    ({ home, cleanup } = await makeTempHome('dataprod-e2e-lineage-'));
    const generated = await runCli(home, ['generate', '--from', days[0]!, '--to', days.at(-1)!, '--customers', '400', '--transactions-per-day', '120']);
    expect(generated.code, generated.stderr).toBe(0);
    const run = await runCli(home, ['run', '--partner', 'ouchhungry', '--sandbox', '--from', days[0]!, '--to', days.at(-1)!, '--month', month], { timeoutMs: 540_000 });
    expect(run.code, run.stderr).toBe(0);
  }, 600_000);
  afterAll(async () => cleanup?.());

  it('traces a daily CSV back to exactly the bronze partitions its day read, and forward only to its own delivered copies', async () => {
    const result = await runCli(home, ['lineage', dailyCsv, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const { upstream, downstream } = JSON.parse(result.stdout) as { upstream: Node; downstream: Node };
    // The daily report reads the day's silver transactions and the product snapshots up
    // to the day (the latest row per product wins); each silver partition is cleaned from
    // its own bronze partition.
    const productDays = days.filter((candidate) => candidate <= day);
    expect(bronzeSources(upstream)).toEqual([...productDays.map((candidate) => `bronze/products/date=${candidate}`), `bronze/transactions/date=${day}`].sort());
    expect(datasetsBelow(upstream).filter((name) => name.startsWith('silver/'))).toEqual(
      expect.arrayContaining([`silver/transactions/date=${day}/data.parquet`, `silver/products/date=${day}/data.parquet`]),
    );
    expect(datasetsBelow(upstream).some((name) => name.includes('customers'))).toBe(false);
    const later = datasetsBelow(upstream).filter((name) => /(\d{4}-\d{2}-\d{2})/.exec(name)![1]! > day);
    expect(later).toEqual([]);
    // Downstream: the copy of this very file at the SFTP destination, nothing monthly (the
    // API's row batches are read from the Parquet rendering).
    const below = datasetsBelow(downstream);
    expect(below.length).toBeGreaterThanOrEqual(1);
    for (const name of below) expect(name).toContain(`ouchhungry_daily-analytic_${day}.csv`);
  });

  it('traces the monthly CSV to its month, in a tree of reasonable length', async () => {
    const result = await runCli(home, ['lineage', monthlyCsv, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const { upstream } = JSON.parse(result.stdout) as { upstream: Node };
    expect(bronzeSources(upstream)).toEqual([...days.map((candidate) => `bronze/products/date=${candidate}`), ...days.map((candidate) => `bronze/transactions/date=${candidate}`)].sort());
    const text = await runCli(home, ['lineage', monthlyCsv]);
    expect(text.code, text.stderr).toBe(0);
    // gold, silver (31 transactions + 31 products) and their bronze, and the header lines.
    expect(text.stdout.trim().split('\n').length).toBeLessThan(160);
  });

  it('finds a dataset by absolute, home-relative and working-directory-relative path', async () => {
    const absolute = join(home, dailyCsv);
    const fromParent = relative(join(home, '..'), absolute);
    const answers = await Promise.all([
      runCli(home, ['lineage', absolute, '--json']),
      runCli(home, ['lineage', dailyCsv, '--json']),
      runCli(home, ['lineage', fromParent, '--json'], { cwd: join(home, '..') }),
      runCli(home, ['lineage', `./outbox/ouchhungry/daily-analytic/${day}/ouchhungry_daily-analytic_${day}.csv`, '--json'], { cwd: home }),
    ]);
    for (const answer of answers) {
      expect(answer.code, answer.stderr).toBe(0);
      expect(JSON.parse(answer.stdout).dataset).toBe(dailyCsv);
    }
    // The help's example names a file a real run writes (for its own day).
    const help = await runCli(home, ['lineage', '--help']);
    const example = /dataprod lineage (outbox\/\S+)/.exec(help.stdout)![1]!;
    const exampleDay = /\d{4}-\d{2}-\d{2}/.exec(example)![0];
    expect(existsSync(join(home, example.split(exampleDay).join(day)))).toBe(true);
  });

  it('catalogs every dataset it wrote: bronze, silver, quarantine, gold and every outbox file', async () => {
    const result = await runCli(home, ['catalog', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const entries = JSON.parse(result.stdout) as { name: string; path: string; layer: string; table?: string; period?: string; tags: string[] }[];
    const paths = new Set(entries.map((entry) => entry.path));
    const written = [
      ...listFiles(join(home, 'bronze')).filter((name) => !name.endsWith('_source.json')).map((name) => `bronze/${name}`),
      ...listFiles(join(home, 'silver')).map((name) => `silver/${name}`),
      ...listFiles(join(home, 'quarantine')).map((name) => `quarantine/${name}`),
      ...listFiles(join(home, 'gold')).map((name) => `gold/${name}`),
      ...listFiles(join(home, 'outbox')).map((name) => `outbox/${name}`),
    ].map((name) => name.split('\\').join('/'));
    expect(written.length).toBeGreaterThan(31 * 3 * 2 + 32 * 5);
    expect(written.filter((name) => !paths.has(name))).toEqual([]);
    expect(entries.filter((entry) => entry.layer === 'silver')).toHaveLength(31 * 3);

    // Found by day, table, name and tag.
    const byDay = await runCli(home, ['catalog', '--search', day, '--json']);
    const dayNames = (JSON.parse(byDay.stdout) as { name: string }[]).map((entry) => entry.name);
    for (const table of ['customers', 'products', 'transactions']) {
      expect(dayNames).toContain(`silver.${table}/date=${day}`);
      expect(dayNames).toContain(`bronze.${table}/date=${day}`);
    }
    expect(dayNames).toContain(`gold.ouchhungry.daily-analytic/${day}`);
    const byTable = JSON.parse((await runCli(home, ['catalog', '--search', 'customers', '--json'])).stdout) as { table?: string; layer: string }[];
    expect(byTable.filter((entry) => entry.layer === 'silver')).toHaveLength(31);
    const byTag = JSON.parse((await runCli(home, ['catalog', '--search', 'partner-share', '--json'])).stdout) as { layer: string }[];
    expect(new Set(byTag.map((entry) => entry.layer))).toEqual(new Set(['gold', 'deliverable']));
  });

  it('writes events that validate against the vendored OpenLineage 2-0-2 schema, facets included, with ParentRunFacet', () => {
    const { eventProblems } = lineageValidators();
    const events = readFileSync(join(home, '_meta', 'lineage', 'events.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(events.length).toBeGreaterThan(300);
    for (const event of events) expect(eventProblems(event)).toEqual([]);
    const steps = events.filter((event) => event.run.facets.parent?.root);
    expect(steps.length).toBeGreaterThan(0);
    // Every parent named is a run with its own START and COMPLETE, the whole run included.
    const runIds = new Set(events.map((event) => event.run.runId));
    for (const event of events) if (event.run.facets.parent) expect(runIds.has(event.run.facets.parent.run.runId)).toBe(true);
    expect(events.filter((event) => event.job.name === 'ouchhungry.run').map((event) => event.eventType)).toEqual(['START', 'COMPLETE']);
    expect(existsSync(join(home, '_meta', 'lineage', 'outbox'))).toBe(false);
    expect(readJson(join(home, 'outbox', 'ouchhungry', 'monthly-by-city', month, 'manifest.json')).report).toBe('monthly-by-city');
  });
});
