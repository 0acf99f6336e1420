import { writeFileAtomic } from '../lake/atomic.js';
import { metricsPath } from '../lake/layout.js';
import { type RunRecord, deliveryFileCount, readRuns } from './run-store.js';

type Labels = Record<string, string>;

interface Family {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
  samples: Map<string, { labels: Labels; value: number }>;
}

/** Escapes a label value as the exposition format requires: backslash, quote, newline. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

class Registry {
  private readonly families = new Map<string, Family>();

  family(name: string, type: Family['type'], help: string): Family {
    let family = this.families.get(name);
    if (!family) {
      family = { name, type, help, samples: new Map() };
      this.families.set(name, family);
    }
    return family;
  }

  set(name: string, type: Family['type'], help: string, labels: Labels, value: number): void {
    const family = this.family(name, type, help);
    family.samples.set(JSON.stringify(Object.entries(labels).sort()), { labels, value });
  }

  add(name: string, type: Family['type'], help: string, labels: Labels, value: number): void {
    const family = this.family(name, type, help);
    const key = JSON.stringify(Object.entries(labels).sort());
    const sample = family.samples.get(key);
    if (sample) sample.value += value;
    else family.samples.set(key, { labels, value });
  }

  render(): string {
    const lines: string[] = [];
    for (const family of [...this.families.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
      const samples = [...family.samples.values()].map((sample) => {
        const labels = Object.entries(sample.labels)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([key, value]) => `${key}="${escapeLabelValue(value)}"`)
          .join(',');
        return `${family.name}${labels ? `{${labels}}` : ''} ${formatValue(sample.value)}`;
      });
      lines.push(...samples.sort());
    }
    return `${lines.join('\n')}\n`;
  }
}

const successfulReport = new Set(['delivered', 'built', 'skipped']);

/**
 * The metrics text for every run so far: gauges describe each partner's latest run,
 * counters add up the whole history (runs.jsonl is the source of truth, so a restart or
 * a lost file never resets a counter below what was already exported).
 */
export function renderMetrics(runs: RunRecord[]): string {
  const registry = new Registry();
  const finished = runs.filter((run) => run.status !== 'running').sort((a, b) => a.started_at.localeCompare(b.started_at));
  const latest = new Map<string, RunRecord>();
  for (const run of finished) latest.set(run.partner, run);

  for (const [partner, run] of latest) {
    registry.set('dataprod_run_duration_seconds', 'gauge', 'Wall time of the latest run of the partner.', { partner }, (run.duration_ms ?? 0) / 1000);
    registry.set('dataprod_run_success', 'gauge', '1 when the latest run of the partner succeeded (or had nothing to do), else 0.', { partner }, run.status === 'succeeded' || run.status === 'skipped' ? 1 : 0);
    if (run.finished_at) registry.set('dataprod_last_run_timestamp_seconds', 'gauge', 'Unix time the latest run of the partner finished.', { partner }, Math.floor(Date.parse(run.finished_at) / 1000));
    for (const stage of run.stages ?? []) {
      if (stage.ms !== null && stage.ms !== undefined) registry.set('dataprod_stage_duration_seconds', 'gauge', 'Wall time of each stage in the latest run.', { partner, stage: stage.name }, stage.ms / 1000);
    }
    for (const [table, rows] of Object.entries(run.tables ?? {})) {
      const help = 'Rows per table and stage in the latest run: in (bronze read), out (silver written), quarantined, removed (duplicates).';
      registry.set('dataprod_rows', 'gauge', help, { partner, table, stage: 'in' }, Number(rows.rows_in ?? 0));
      registry.set('dataprod_rows', 'gauge', help, { partner, table, stage: 'out' }, Number(rows.rows_out ?? 0));
      registry.set('dataprod_rows', 'gauge', help, { partner, table, stage: 'quarantined' }, Number(rows.rows_quarantined ?? 0));
      registry.set('dataprod_rows', 'gauge', help, { partner, table, stage: 'removed' }, Number(rows.rows_removed ?? 0));
      const rowsIn = Number(rows.rows_in ?? 0);
      registry.set('dataprod_quarantine_ratio', 'gauge', 'Quarantined rows / rows in, per table, in the latest run.', { partner, table }, rowsIn > 0 ? Number(rows.rows_quarantined ?? 0) / rowsIn : 0);
    }
    for (const report of run.reports ?? []) {
      if (report.rows !== undefined) registry.set('dataprod_report_rows', 'gauge', 'Rows of each report built in the latest run.', { partner, report: report.report }, Number(report.rows));
    }
  }

  for (const run of finished) {
    const partner = run.partner;
    registry.add('dataprod_runs_total', 'counter', 'Runs by final status.', { partner, status: run.status }, 1);
    registry.add('dataprod_failures_total', 'counter', 'Runs that failed, were blocked by a gate, or were interrupted.', { partner }, ['failed', 'blocked', 'interrupted'].includes(run.status) ? 1 : 0);
    for (const gate of run.gates ?? []) {
      if (gate.status === 'fail') registry.add('dataprod_gate_failures_total', 'counter', 'Failed quality gates.', { partner, report: gate.report, gate: gate.gate }, 1);
    }
    for (const delivery of run.deliveries ?? []) {
      if (delivery.status !== 'delivered') continue;
      const labels = { partner, report: delivery.report, destination: delivery.destination };
      registry.add('dataprod_delivered_bytes_total', 'counter', 'Bytes delivered per destination.', labels, Number(delivery.bytes ?? 0));
      registry.add('dataprod_delivered_files_total', 'counter', 'Files delivered per destination.', labels, deliveryFileCount(delivery));
      registry.add('dataprod_delivery_retries_total', 'counter', 'Retries spent delivering, per destination.', labels, Number(delivery.retries ?? 0));
    }
    for (const report of run.reports ?? []) {
      if (!successfulReport.has(report.status) || !run.finished_at) continue;
      registry.set('dataprod_last_success_timestamp_seconds', 'gauge', 'Unix time of the latest successful run of each partner report.', { partner, report: report.report }, Math.floor(Date.parse(run.finished_at) / 1000));
    }
  }
  return registry.render();
}

/** Rewrites dataprod.prom atomically (node_exporter must never read half a file). */
export async function writeMetrics(home: string): Promise<string> {
  const path = metricsPath(home);
  await writeFileAtomic(path, renderMetrics(await readRuns(home)));
  return path;
}
