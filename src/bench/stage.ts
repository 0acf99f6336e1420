// One benchmark stage in a process of its own, so its peak RSS is its own. Prints one
// JSON line: {"stage", "rows", "ms", "cpu_ms", "peak_rss_bytes", "detail"?}. Run by src/bench/bench.ts.
import { join } from 'node:path';
import { bronzeDir } from '../lake/layout.js';
import { DuckSession, sqlString } from '../lake/duckdb.js';

interface StageInput {
  stage: 'generate' | 'floor' | 'clean' | 'build';
  home: string;
  day: string;
  transactions: number;
  customers: number;
  dirtyRate: number;
  seed: number;
}

const input = JSON.parse(process.argv[2]!) as StageInput;
const started = process.hrtime.bigint();
let rows = 0;
/** build only: each report's query and rendering, and each format's own rendering time. */
let detail: Record<string, unknown> | undefined;

switch (input.stage) {
  case 'generate': {
    const { generateDays } = await import('../sources/synthetic.js');
    const result = await generateDays({ home: input.home, days: [input.day], customers: input.customers, transactionsPerDay: input.transactions, dirtyRate: input.dirtyRate, seed: input.seed });
    rows = result.days[input.day]!.transactions;
    break;
  }
  case 'floor': {
    // DuckDB alone: the same bronze CSV to Parquet, no rules. The floor clean is measured against.
    const duck = await DuckSession.open();
    const csv = join(bronzeDir(input.home, 'transactions', input.day), 'transactions.csv');
    const target = join(input.home, 'floor.parquet');
    await duck.run(`COPY (SELECT * FROM read_csv(${sqlString(csv)}, header = true, all_varchar = true)) TO ${sqlString(target)} (FORMAT parquet)`);
    rows = Number((await duck.all<{ n: bigint }>(`SELECT count(*) AS n FROM read_parquet(${sqlString(target)})`))[0]!.n);
    duck.close();
    break;
  }
  case 'clean': {
    const { cleanDays } = await import('../cleaning/engine.js');
    const result = await cleanDays({ home: input.home, days: [input.day] });
    rows = result.tables.transactions?.rows_in ?? 0;
    break;
  }
  case 'build': {
    const { buildReports } = await import('../reports/build-reports.js');
    const { readPartnerConfig } = await import('../partners/config.js');
    const { config } = readPartnerConfig(input.home, 'ouchhungry');
    const result = await buildReports({ home: input.home, config, date: input.day, month: input.day.slice(0, 7), reports: ['daily-analytic', 'monthly-by-city'], secret: 'benchmark-pseudonym-key-0123456789abcdefghijklmnopqrstuvwxyz' });
    rows = result.reports.reduce((sum, report) => sum + report.rows, 0);
    detail = Object.fromEntries(result.reports.map((report) => [report.report, { rows: report.rows, ...report.timings }]));
    break;
  }
}

const ms = Number(process.hrtime.bigint() - started) / 1e6;
// maxRSS is in kilobytes on Linux and macOS.
const usage = process.resourceUsage();
// CPU time of every thread (DuckDB's and libuv's included): less disturbed than wall time
// when other work shares the machine.
const cpuMs = (usage.userCPUTime + usage.systemCPUTime) / 1000;
process.stdout.write(`${JSON.stringify({ stage: input.stage, rows, ms, cpu_ms: cpuMs, peak_rss_bytes: usage.maxRSS * 1024, ...(detail ? { detail } : {}) })}\n`);
