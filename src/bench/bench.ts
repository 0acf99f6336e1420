// npm run bench -- --transactions 10000000 [--customers N] [--dirty-rate R] [--keep DIR]
// Generates one day of N transactions, measures DuckDB alone converting that bronze CSV
// to Parquet (the floor), then cleans and builds both reports; prints per stage the rows,
// rows/s, wall time and peak RSS, and clean + build against the floor.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    transactions: { type: 'string', default: '1000000' },
    customers: { type: 'string' },
    'dirty-rate': { type: 'string', default: '0.03' },
    day: { type: 'string', default: '2026-11-20' },
    keep: { type: 'string' },
  },
});
const transactions = Number(values.transactions);
if (!Number.isInteger(transactions) || transactions < 1) {
  process.stderr.write('bench: --transactions takes a whole number, e.g. --transactions 10000000\n');
  process.exit(64);
}
const customers = values.customers ? Number(values.customers) : Math.min(200_000, Math.max(2_000, Math.round(transactions / 50)));
const home = values.keep ?? mkdtempSync(join(tmpdir(), 'dataprod-bench-'));
const stageScript = fileURLToPath(new URL('./stage.js', import.meta.url));

interface StageFigures {
  stage: string;
  rows: number;
  ms: number;
  peak_rss_bytes: number;
}

function runStage(stage: string): StageFigures {
  const input = { stage, home, day: values.day, transactions, customers, dirtyRate: Number(values['dirty-rate']) };
  const output = execFileSync(process.execPath, [stageScript, JSON.stringify(input)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  return JSON.parse(output.trim().split('\n').at(-1)!) as StageFigures;
}

process.stderr.write(`bench: ${transactions.toLocaleString('en')} transactions, ${customers.toLocaleString('en')} customers, ${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, home ${home}\n`);
const results: StageFigures[] = [];
try {
  for (const stage of ['generate', 'floor', 'clean', 'build']) {
    process.stderr.write(`bench: ${stage} ...\n`);
    results.push(runStage(stage));
  }
} finally {
  if (!values.keep) rmSync(home, { recursive: true, force: true });
}

const pad = (text: string, width: number) => text.padStart(width);
const lines = [`${'stage'.padEnd(10)}${pad('rows', 14)}${pad('wall s', 10)}${pad('rows/s', 14)}${pad('peak RSS MB', 13)}`];
for (const result of results) {
  const seconds = result.ms / 1000;
  lines.push(`${result.stage.padEnd(10)}${pad(result.rows.toLocaleString('en'), 14)}${pad(seconds.toFixed(1), 10)}${pad(Math.round((result.stage === 'build' ? transactions : result.rows) / seconds).toLocaleString('en'), 14)}${pad((result.peak_rss_bytes / 2 ** 20).toFixed(0), 13)}`);
}
const by = (stage: string) => results.find((result) => result.stage === stage)!;
const ratio = (by('clean').ms + by('build').ms) / by('floor').ms;
lines.push('', `clean + build = ${((by('clean').ms + by('build').ms) / 1000).toFixed(1)} s = ${ratio.toFixed(2)}x the floor (DuckDB alone, CSV -> Parquet: ${(by('floor').ms / 1000).toFixed(1)} s); target <= 2x`);
lines.push(`generate: ${(by('generate').ms / 1000).toFixed(1)} s for ${transactions.toLocaleString('en')} transactions (target < 60 s for 10M); peak RSS max ${(Math.max(...results.map((result) => result.peak_rss_bytes)) / 2 ** 20).toFixed(0)} MB (target < 2048 MB)`);
process.stdout.write(`${lines.join('\n')}\n`);
