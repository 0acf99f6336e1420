// npm run bench [-- --scenario day-2m|day-10m ...] [--transactions N [--customers N] [--seed S]]
//               [--dirty-rate R] [--keep DIR]
// Each scenario generates one day, measures DuckDB alone converting that bronze CSV to
// Parquet (the floor, in the same run), then cleans and builds both reports; prints per
// stage the rows, rows/s, wall and CPU time and peak RSS, build's time per report and per
// format, and clean + build against the floor. By default both scenarios run:
//   day-2m   one large day with XLSX (as `generate --transactions-per-day 2000000 --seed 5`:
//            5,000 customers), so the daily report stays under Excel's sheet limit;
//   day-10m  10M transactions, where XLSX is left out past the limit.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface Scenario {
  name: string;
  transactions: number;
  customers: number;
  seed: number;
}

const SCENARIOS: Record<string, Scenario> = {
  'day-2m': { name: 'day-2m', transactions: 2_000_000, customers: 5_000, seed: 5 },
  'day-10m': { name: 'day-10m', transactions: 10_000_000, customers: 200_000, seed: 1 },
};

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', multiple: true },
    transactions: { type: 'string' },
    customers: { type: 'string' },
    seed: { type: 'string', default: '1' },
    'dirty-rate': { type: 'string', default: '0.03' },
    day: { type: 'string', default: '2026-11-20' },
    keep: { type: 'string' },
  },
});

function usage(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(64);
}

const scenarios: Scenario[] = [];
if (values.transactions !== undefined) {
  const transactions = Number(values.transactions);
  if (!Number.isInteger(transactions) || transactions < 1) usage('--transactions takes a whole number, e.g. --transactions 10000000');
  const customers = values.customers ? Number(values.customers) : Math.min(200_000, Math.max(2_000, Math.round(transactions / 50)));
  scenarios.push({ name: `day-${transactions}`, transactions, customers, seed: Number(values.seed) });
} else {
  for (const name of values.scenario ?? Object.keys(SCENARIOS)) scenarios.push(SCENARIOS[name] ?? usage(`unknown scenario ${name}; known: ${Object.keys(SCENARIOS).join(', ')}`));
}
if (values.keep && scenarios.length > 1) usage('--keep takes one scenario (--scenario NAME or --transactions N)');

const stageScript = fileURLToPath(new URL('./stage.js', import.meta.url));

interface ReportTimings {
  rows: number;
  query_ms: number;
  render_ms: number;
  formats: Record<string, number>;
}

interface StageFigures {
  stage: string;
  rows: number;
  ms: number;
  cpu_ms: number;
  peak_rss_bytes: number;
  detail?: Record<string, ReportTimings>;
}

function runStage(stage: string, home: string, scenario: Scenario): StageFigures {
  const input = { stage, home, day: values.day, transactions: scenario.transactions, customers: scenario.customers, dirtyRate: Number(values['dirty-rate']), seed: scenario.seed };
  const output = execFileSync(process.execPath, [stageScript, JSON.stringify(input)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  return JSON.parse(output.trim().split('\n').at(-1)!) as StageFigures;
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);
const pad = (text: string, width: number) => text.padStart(width);

function report(scenario: Scenario, results: StageFigures[]): string[] {
  const lines = [`${scenario.name}: ${scenario.transactions.toLocaleString('en')} transactions, ${scenario.customers.toLocaleString('en')} customers, seed ${scenario.seed}`];
  lines.push(`${'stage'.padEnd(10)}${pad('rows', 14)}${pad('wall s', 10)}${pad('cpu s', 10)}${pad('rows/s', 14)}${pad('peak RSS MB', 13)}`);
  const by = (stage: string) => results.find((result) => result.stage === stage)!;
  for (const result of results) {
    const inputRows = result.stage === 'build' ? by('clean').rows : result.rows;
    lines.push(
      `${result.stage.padEnd(10)}${pad(result.rows.toLocaleString('en'), 14)}${pad(seconds(result.ms), 10)}${pad(seconds(result.cpu_ms), 10)}` +
        `${pad(Math.round(inputRows / (result.ms / 1000)).toLocaleString('en'), 14)}${pad((result.peak_rss_bytes / 2 ** 20).toFixed(0), 13)}`,
    );
  }
  for (const [name, timings] of Object.entries(by('build').detail ?? {})) {
    const formats = Object.entries(timings.formats).map(([format, ms]) => `${format} ${seconds(ms)} s`).join(', ');
    lines.push(`  build ${name}: ${timings.rows.toLocaleString('en')} rows; query + gold ${seconds(timings.query_ms)} s, render ${seconds(timings.render_ms)} s (${formats}; concurrent)`);
  }
  const floor = by('floor').ms;
  const clean = by('clean').ms;
  const build = by('build').ms;
  lines.push(
    `  floor (DuckDB alone, CSV -> Parquet) ${seconds(floor)} s; clean ${(clean / floor).toFixed(2)}x the floor (target <= 1.5x); ` +
      `clean + build ${seconds(clean + build)} s = ${((clean + build) / floor).toFixed(2)}x the floor (target <= 2x)`,
  );
  return lines;
}

process.stderr.write(`bench: ${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, load average ${loadavg()[0]!.toFixed(1)}\n`);
const out: string[] = [];
for (const scenario of scenarios) {
  const home = values.keep ?? mkdtempSync(join(tmpdir(), 'dataprod-bench-'));
  process.stderr.write(`bench: ${scenario.name} in ${home}\n`);
  const results: StageFigures[] = [];
  try {
    for (const stage of ['generate', 'floor', 'clean', 'build']) {
      process.stderr.write(`bench: ${scenario.name} ${stage} ...\n`);
      results.push(runStage(stage, home, scenario));
    }
    if (scenario.name === 'day-2m') out.push(await (await import('./delivery.js')).benchDeliveryIn(home, values.day!), '');
  } finally {
    if (!values.keep) rmSync(home, { recursive: true, force: true });
  }
  out.push(...report(scenario, results), '');
}
out.push(`load average at the end ${loadavg()[0]!.toFixed(1)} (other work on the machine inflates wall times; CPU time less so)`);
process.stdout.write(`${out.join('\n')}\n`);
