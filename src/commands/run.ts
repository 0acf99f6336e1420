import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandContext, CommandResult } from './context.js';
import type { Connector, ConnectorContext, DeliveryReceipt } from '../connectors/types.js';
import type { OutboxPackage } from '../render/package.js';
import type { DestinationOptions } from '../connectors/options.js';
import { businessDate, daysOfMonth, yesterday } from '../dates.js';
import { DataError, DataprodError, TryLaterError, UsageError, toDataprodError } from '../errors.js';
import { bronzeDir, outboxDir, silverFile, sourceTables } from '../lake/layout.js';
import { redact } from '../log.js';
import type { GateResult } from '../quality/gates.js';
import type { DatasetInput, LineageStep } from '../metadata/lineage.js';
import { buildSteps, cleanSteps, deliverSteps, extractSteps } from '../metadata/run-lineage.js';
import type { DeliveryRecord, RunGateRecord, RunRecord, RunReportRecord, RunStatus, StageRecord, TableRows } from '../records/run-store.js';
import { readPartnerConfig, type PartnerConfig, type ReportName } from '../partners/config.js';
import { createStageReporter } from '../progress.js';
import type { BuiltReport } from '../reports/build-reports.js';
import { planRun, type DueReport } from '../run/periods.js';
import { resolveSecret } from '../secrets/index.js';
import type { Sandbox } from '../sandbox/index.js';

/** Options of `dataprod run`, normalised by cli.ts. */
export interface RunOptions {
  /** Partner to run for. */
  partner: string;
  /** Days from --date or --from/--to; cron mode (yesterday, and last month when due) when absent. */
  days?: string[];
  /** --month YYYY-MM: build and deliver this month's report too. */
  month?: string;
  /** Do everything but deliver and notify. */
  dryRun?: boolean;
  /** Redeliver what the ledger says was delivered. */
  force?: boolean;
  /** Confirm --force without asking. */
  yes?: boolean;
  /** Deliver to loopback sandbox servers started for this run. */
  sandbox?: boolean;
  /** Partner configuration file overriding the lookup. */
  config?: string;
  /** `synthetic` creates missing days with the generator; `bronze` requires ingested data. */
  source?: 'synthetic' | 'bronze';
  /** Sizes of the synthetic source when it fills a missing day (tests and demos). */
  synthetic?: Partial<SyntheticSettings>;
}

interface SyntheticSettings {
  customers: number;
  transactionsPerDay: number;
  dirtyRate: number;
  seed: number;
}

/** The synthetic source used when a day is missing and the source is `synthetic`. */
const SYNTHETIC_DEFAULTS: SyntheticSettings = { customers: 5000, transactionsPerDay: 2000, dirtyRate: 0.03, seed: 42 };

/** Thrown when SIGINT/SIGTERM stops a run between operations: exit 75, run it again. */
class InterruptedError extends TryLaterError {}

/** A report period built in this run. */
type Built = BuiltReport;

/** Everything the run learns, turned into the run record at the end. */
interface RunState {
  record: RunRecord;
  /** Days whose silver the due reports read. */
  days: string[];
  built: Built[];
  /** Packages delivered to at least one destination in this run (they get an e-mail). */
  updated: Built[];
  receipts: Map<Built, DeliveryReceipt[]>;
  warnings: string[];
  failedStage?: string;
  /** Errors of failed deliveries, first per destination, to pick the exit code. */
  deliveryErrors: DataprodError[];
}

/**
 * The control plane: extract -> clean -> build -> gates -> deliver -> notify -> record.
 * It sequences the stages, holds the partner lock, applies the gates and records what
 * happened; the stages' logic lives in their own modules.
 */
export async function run(options: RunOptions, context: CommandContext): Promise<CommandResult<RunRecord>> {
  const { home, logger, now, runId } = context;
  let config = readPartnerConfig(home, options.partner, options.config).config;
  validateOptions(options, now);

  const { acquirePartnerLock } = await import('../run/lock.js');
  const runStore = await import('../records/run-store.js');
  const lineage = await import('../metadata/lineage.js');
  const lock = await acquirePartnerLock(home, config.partner, { runId });

  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (abort.signal.aborted) return;
    logger.warn(`${signal} received: stopping after the current operation; nothing partial is left behind`);
    abort.abort(new InterruptedError(`run ${runId} was interrupted by ${signal}`, { hint: 'run the same command again: it redoes only what is missing' }));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const startedAt = new Date();
  const state: RunState = {
    record: { ...runStore.emptyRecord(runId), partner: config.partner, started_at: startedAt.toISOString(), dry_run: Boolean(options.dryRun), forced: Boolean(options.force) },
    days: [],
    built: [],
    updated: [],
    receipts: new Map(),
    warnings: [],
    deliveryErrors: [],
  };
  const reporter = createStageReporter({ interactive: context.interactive, logger });
  let sandbox: Sandbox | undefined;
  let failure: DataprodError | undefined;

  /** Runs one stage: timed, shown, recorded, and announced to lineage (START, COMPLETE or FAIL). */
  const stage = async <T>(name: string, body: (update: (detail: string) => void) => Promise<T>, io: () => { inputs?: DatasetInput[]; outputs?: DatasetInput[]; steps?: LineageStep[] } = () => ({})): Promise<T> => {
    if (abort.signal.aborted) throw abort.signal.reason;
    const started = new Date();
    const emit = (eventType: 'START' | 'COMPLETE' | 'FAIL', error?: string) =>
      lineage.emitStageEvent(home, config, { runId, stage: name, eventType, eventTime: new Date(), startedAt: started, logger, ...(error ? { error } : {}), ...io() }).catch((lineageError: Error) => logger.warn(`lineage: ${lineageError.message}`));
    await emit('START');
    const entry: StageRecord = { name, status: 'running', started_at: started.toISOString(), finished_at: null, ms: null };
    state.record.stages.push(entry);
    try {
      const result = await reporter.stage(name, body);
      Object.assign(entry, { status: 'succeeded', finished_at: new Date().toISOString(), ms: Date.now() - started.getTime() });
      await emit('COMPLETE');
      return result;
    } catch (error) {
      const typed = abort.signal.aborted ? (abort.signal.reason as DataprodError) : toDataprodError(error);
      Object.assign(entry, { status: abort.signal.aborted ? 'interrupted' : 'failed', finished_at: new Date().toISOString(), ms: Date.now() - started.getTime(), detail: redact(typed.message) });
      state.failedStage ??= name;
      await emit('FAIL', typed.message);
      throw error;
    }
  };

  await runStore.recordRunStarted(home, { run_id: runId, partner: config.partner, started_at: startedAt.toISOString(), dry_run: Boolean(options.dryRun), forced: Boolean(options.force) });
  // The whole run is the parent run of every stage's lineage events (job <partner>.run).
  const emitRun = (eventType: 'START' | 'COMPLETE' | 'FAIL' | 'ABORT', error?: string) =>
    lineage.emitStageEvent(home, config, { runId, stage: 'run', eventType, eventTime: new Date(), logger, ...(error ? { error } : {}) }).catch((lineageError: Error) => logger.warn(`lineage: ${lineageError.message}`));
  await emitRun('START');
  try {
    if (options.sandbox) {
      const { startSandbox } = await import('../sandbox/index.js');
      sandbox = await startSandbox({ home, partner: config.partner });
      config = sandbox.applyTo(config);
      const { applySandboxFaults } = await import('../sandbox/faults-from-env.js');
      const faults = applySandboxFaults(sandbox, process.env.DATAPROD_SANDBOX_FAULTS);
      if (faults.length > 0) logger.warn(`sandbox faults injected: ${faults.join(', ')}`);
      logger.info(`sandbox: SFTP ${sandbox.sftp.host}:${sandbox.sftp.port}, API ${sandbox.api.url}, SMTP ${sandbox.smtp.host}:${sandbox.smtp.port}`);
    }
    const connectorContext: ConnectorContext = { partner: config.partner, home, logger, secret: secretSource(config, sandbox), signal: abort.signal };
    // Before any work: a missing or weak key is exit 78, and a build never makes one up.
    const { resolvePseudonymKey } = await import('../secrets/pseudonym-key.js');
    const pseudonymKey = await resolvePseudonymKey({
      partner: config.partner,
      name: config.privacy.pseudonymization_secret,
      home,
      sandbox: Boolean(options.sandbox),
      onCreate: (path) => logger.info(`sandbox: created its own pseudonymization key at ${path} (used only for sandbox runs)`),
    });

    const due = await planRun({ config, now, days: options.days, month: options.month, isMonthlyDone: (period) => isMonthlyDone(home, config, period) });
    state.record.periods = due.map((item) => item.period);
    if (due.length === 0) {
      state.record.status = 'skipped';
      logger.info('nothing is due: no day was asked for and last month is already done');
    } else {
      const days = daysNeeded(due, now);
      state.days = days;
      let extracted: string[] = [];
      let cleaned: string[] = [];
      const packageFiles = () => state.built.flatMap((built) => built.outbox.manifest.files.map((file) => join(built.outbox.dir, file.name)));

      await stage('extract', async (update) => void (extracted = await extractDays(home, days, options, update, context)), () => ({ steps: extractSteps(home, extracted) }));
      state.record.tables = await stage('clean', async (update) => {
        const result = await cleanStaleDays(home, days, update, context);
        cleaned = result.days;
        return result.tables;
      }, () => ({ steps: cleanSteps(home, cleaned) }));
      const { moveBlockedPackage, tidyOutbox } = await import('../quality/blocked-packages.js');
      const tidied = await tidyOutbox(home);
      if (tidied.moved.length) logger.warn(`moved ${tidied.moved.length} unfinished package folder(s) of interrupted runs out of the outbox to ${tidied.moved.join(', ')}`);
      await stage('build', async (update) => void (state.built = await buildDue(home, config, due, pseudonymKey.key, update, context)), () => ({ steps: buildSteps(state.built) }));
      state.record.reports = state.built.map((built) => reportRecord(built, 'built'));

      const gates = await stage('gates', () => applyGates(home, config, state, days, options, context), () => ({ inputs: packageFiles() }));
      state.record.gates = gates;
      for (const gate of gates.filter((result) => result.status === 'warn')) state.warnings.push(`${gate.report}/${gate.period} ${gate.gate}: ${gate.detail}`);
      const blocking = gates.filter((gate) => gate.status === 'fail');
      if (blocking.length > 0) {
        state.failedStage = 'gates';
        state.record.status = 'blocked';
        state.record.reports = state.built.map((built) => reportRecord(built, 'blocked'));
        // A blocked package must not stay where a later delivery or a person could take it.
        for (const built of state.built) {
          const reasons = blocking.filter((gate) => gate.report === built.report && gate.period === built.period).map((gate) => `${gate.gate}: ${gate.detail}`);
          if (reasons.length) await moveBlockedPackage(home, built.outbox.dir, { partner: config.partner, report: built.report, period: built.period, runId, reasons, now });
        }
        throw new DataError(`quality gates failed, nothing was delivered: ${blocking.map((gate) => `${gate.report}/${gate.period} ${gate.gate} (${gate.detail})`).join('; ')}`, {
          hint: 'the data team was alerted; see `dataprod runs --limit 1 --json` for the figures, fix the data or the quality settings, then run again',
        });
      }
      await rememberBuilt(home, config, state, options, runId);

      await confirmForce(options, context, state.built);
      await stage('deliver', (update) => deliverAll(home, config, state, options, connectorContext, update, abort.signal, runId), () => ({
        steps: deliverSteps([...state.receipts.entries()].flatMap(([built, receipts]) => receipts.map((receipt) => ({ built, receipt })))),
      }));
      await stage('notify', () => (options.dryRun ? Promise.resolve(void logger.info('dry run: no e-mail sent')) : notifyPartner(config, state, connectorContext, runId)));
      if (state.deliveryErrors.length > 0) {
        state.failedStage = 'deliver';
        throw deliveryFailure(state);
      }
    }
  } catch (error) {
    failure = abort.signal.aborted ? (abort.signal.reason as DataprodError) : toDataprodError(error);
    state.record.status = abort.signal.aborted ? 'interrupted' : state.record.status === 'blocked' ? 'blocked' : 'failed';
    state.record.error = { message: redact(failure.message), exit_code: failure.exitCode, stage: state.failedStage ?? null, ...(failure.hint ? { hint: failure.hint } : {}) };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (state.record.status === 'running') state.record.status = 'succeeded';

  // Record and alert even when the run failed: the record is how cron runs are seen.
  try {
    await stage('record', async () => {
      await recordCatalog(home, config, state, context);
      if (!options.dryRun) {
        const alert = await alertDataTeam(home, config, state, failure, { partner: config.partner, home, logger, secret: secretSource(config, sandbox) }, runId, now);
        if (alert) (state.record as RunRecord & { alert?: unknown }).alert = alert;
      }
    });
  } catch (error) {
    logger.warn(`record stage: ${toDataprodError(error).message}`);
  }
  await emitRun(state.record.status === 'interrupted' ? 'ABORT' : failure ? 'FAIL' : 'COMPLETE', failure?.message);
  const finishedAt = new Date();
  Object.assign(state.record, { finished_at: finishedAt.toISOString(), duration_ms: finishedAt.getTime() - startedAt.getTime() });
  if (state.warnings.length > 0) (state.record as RunRecord & { warnings?: string[] }).warnings = state.warnings;
  await (await import('../records/run-finish.js')).recordRunFinished(home, state.record, { logger }).catch((error: Error) => logger.error(`could not write the run record: ${error.message}`));
  await sandbox?.close().catch(() => undefined);
  await lock.release();

  if (failure) throw failure;
  return { data: state.record, text: describeRun(state, sandbox) };
}

// ---------------------------------------------------------------------------------
// The stages

function validateOptions(options: RunOptions, now: Date): void {
  const today = businessDate(now);
  const future = options.days?.find((day) => day >= today);
  if (future) throw new UsageError(`--date ${future} is not over yet in São Paulo (today is ${today})`, { hint: `report on a past day, e.g. --date ${yesterday(now)}` });
  if (options.month && options.month > today.slice(0, 7)) throw new UsageError(`--month ${options.month} is in the future`, { hint: 'give a past month, or the current one for the month so far' });
  if (options.force && options.dryRun) throw new UsageError('--force and --dry-run contradict each other', { hint: 'use --dry-run to see what would be sent, --force to resend' });
}

function secretSource(config: PartnerConfig, sandbox: Sandbox | undefined): (name: string) => Promise<string> {
  return sandbox ? (name) => sandbox.secret(name) : (name) => resolveSecret(config.partner, name);
}

/** Days whose silver data the due reports read (a monthly report reads its month up to yesterday). */
function daysNeeded(due: DueReport[], now: Date): string[] {
  const last = yesterday(now);
  const days = new Set<string>();
  for (const item of due) {
    if (item.report === 'daily-analytic') days.add(item.period);
    else for (const day of daysOfMonth(item.period)) if (day <= last) days.add(day);
  }
  return [...days].sort();
}

function bronzePresent(home: string, day: string): boolean {
  return sourceTables.every((table) => existsSync(join(bronzeDir(home, table, day), '_source.json')));
}

/** Creates the missing bronze days; returns the days written. */
async function extractDays(home: string, days: string[], options: RunOptions, update: (detail: string) => void, context: CommandContext): Promise<string[]> {
  const missing = days.filter((day) => !bronzePresent(home, day));
  if (missing.length === 0) {
    update('bronze is present for every day');
    return [];
  }
  const range = missing.length === 1 ? missing[0]! : `${missing.length} days, ${missing[0]} .. ${missing.at(-1)}`;
  if ((options.source ?? 'synthetic') === 'bronze') {
    throw new DataError(`no bronze data for ${range}`, { hint: `ingest the exports first, e.g. dataprod ingest --table transactions --file <export> --date ${missing[0]} (and customers, products)` });
  }
  update(`generating synthetic data for ${range}`);
  const { generateDays } = await import('../sources/synthetic.js');
  const generated = await generateDays({ home, days: missing, ...SYNTHETIC_DEFAULTS, ...options.synthetic, onlyMissing: true, logger: context.logger });
  context.logger.info(`extract: synthetic data for ${range} (the default source; real exports go in with \`dataprod ingest\` and --source bronze)`);
  return generated.generated;
}

/** Cleans the days whose silver is missing or older than their bronze: a rerun re-cleans nothing. */
async function cleanStaleDays(home: string, days: string[], update: (detail: string) => void, context: CommandContext): Promise<{ tables: Record<string, TableRows>; days: string[] }> {
  const stale = days.filter((day) =>
    sourceTables.some((table) => {
      const silver = silverFile(home, table, day);
      return !existsSync(silver) || statSync(silver).mtimeMs < statSync(join(bronzeDir(home, table, day), '_source.json')).mtimeMs;
    }),
  );
  if (stale.length === 0) {
    update('silver is up to date');
    return { tables: {}, days: [] };
  }
  const { cleanDays } = await import('../cleaning/engine.js');
  const result = await cleanDays({ home, days: stale, logger: context.logger, onProgress: update });
  const tables: Record<string, TableRows> = {};
  for (const [table, summary] of Object.entries(result.tables)) {
    if (!summary) continue;
    tables[table] = { rows_in: summary.rows_in, rows_out: summary.rows_silver, rows_quarantined: summary.rows_quarantined, rows_removed: summary.rows_duplicate };
  }
  return { tables, days: stale };
}

async function buildDue(home: string, config: PartnerConfig, due: DueReport[], secret: string, update: (detail: string) => void, context: CommandContext): Promise<Built[]> {
  const { buildReports } = await import('../reports/build-reports.js');
  const built: Built[] = [];
  for (const item of due) {
    update(`${item.report} ${item.period}`);
    const period = item.report === 'daily-analytic' ? { date: item.period } : { month: item.period };
    const result = await buildReports({ home, config, reports: [item.report], ...period, secret, logger: context.logger, now: context.now });
    built.push(...result.reports);
  }
  return built;
}

function reportRecord(built: Built, status: RunReportRecord['status']): RunReportRecord {
  const summary = built.outbox.manifest.summary;
  return { report: built.report, period: built.period, status, rows: built.rows, units: summary.units ?? summary.units_sold ?? null, revenue: summary.revenue ?? summary.gross_revenue ?? null };
}

async function applyGates(home: string, config: PartnerConfig, state: RunState, days: string[], options: RunOptions, context: CommandContext): Promise<RunGateRecord[]> {
  const { runGates } = await import('../quality/gates.js');
  const { reportDefinitions } = await import('../reports/build-reports.js');
  const { DuckSession } = await import('../lake/duckdb.js');
  const duck = await DuckSession.open();
  const results: RunGateRecord[] = [];
  try {
    for (const built of state.built) {
      const gateResults: GateResult[] = await runGates({
        home,
        config,
        package: built.outbox,
        report: built.report,
        period: built.period,
        reconciliation: built.reconciliation,
        days: built.report === 'daily-analytic' ? [built.period] : days.filter((day) => day.startsWith(built.period)),
        declaredColumns: reportDefinitions[built.report as ReportName].columns.map((column) => ({ name: column.name, type: column.type })),
        goldPath: built.gold,
        storeContract: !options.dryRun,
        runId: context.runId,
        now: context.now,
        duck,
      });
      for (const result of gateResults) results.push({ ...result, report: built.report, period: built.period });
    }
  } finally {
    duck.close();
  }
  for (const result of results.filter((item) => item.status !== 'pass')) context.logger.warn(`gate ${result.gate} ${result.status === 'fail' ? 'FAILED' : 'warns'} for ${result.report}/${result.period}: ${result.detail}`);
  return results;
}

/** Once a period passed its gates: the built marker (for partners without destinations) and the anomaly baseline. */
async function rememberBuilt(home: string, config: PartnerConfig, state: RunState, options: RunOptions, runId: string): Promise<void> {
  if (options.dryRun) return;
  const ledger = await import('../records/ledger.js');
  const history = await import('../records/history.js');
  for (const built of state.built) {
    await ledger.recordBuilt(home, { partner: config.partner, report: built.report, period: built.period }, built.outbox.manifest, { runId });
    await history.recordReportHistory(home, { partner: config.partner, report: built.report, period: built.period, figures: history.reportFigures(built.outbox.manifest), runId });
  }
}

async function confirmForce(options: RunOptions, context: CommandContext, built: Built[]): Promise<void> {
  if (!options.force || options.yes) return;
  if (!context.interactive) throw new UsageError('--force redelivers reports the partner already has, and there is no terminal to confirm it', { hint: 'add --yes to confirm' });
  const { confirm } = await import('@inquirer/prompts');
  const ok = await confirm({ message: `Redeliver ${built.map((item) => `${item.report}/${item.period}`).join(', ')} even where it was already delivered?`, default: false });
  if (!ok) throw new UsageError('redelivery not confirmed', { hint: 'run without --force to deliver only what is missing' });
}

function destinationsFor(config: PartnerConfig, report: string): DestinationOptions[] {
  return config.destinations.filter((destination) => destination.enabled && (!destination.reports || destination.reports.includes(report)));
}

/** Delivers every package to every destination that should have it, skipping what the ledger already has. */
async function deliverAll(home: string, config: PartnerConfig, state: RunState, options: RunOptions, connectorContext: ConnectorContext, update: (detail: string) => void, signal: AbortSignal, runId: string): Promise<void> {
  const { logger } = connectorContext;
  if (!config.destinations.some((destination) => destination.enabled)) {
    logger.warn(`no destination is enabled for ${config.partner}: the packages stay in the outbox; set up delivery with \`dataprod init --partner ${config.partner}\`, or try it with --sandbox`);
    return;
  }
  const { createConnector } = await import('../connectors/index.js');
  const ledger = await import('../records/ledger.js');
  const connectors = new Map<string, Connector>();
  try {
    for (const built of state.built) {
      const manifest = built.outbox.manifest;
      const bytes = manifest.files.reduce((sum, file) => sum + file.bytes, 0);
      for (const destination of destinationsFor(config, built.report)) {
        if (signal.aborted) throw signal.reason;
        const key = { partner: config.partner, report: built.report, period: built.period, destination: destination.name };
        const base = { destination: destination.name, type: destination.type, report: built.report, period: built.period };
        const previous = options.force ? null : await ledger.isDelivered(home, key, manifest);
        const beforeRotation = options.force || previous ? null : await ledger.deliveredBeforeRotation(home, key);
        if (beforeRotation) {
          const { delivery, rotation } = beforeRotation;
          state.record.deliveries.push({ ...base, status: 'skipped', files: 0, bytes: 0, retries: 0, location: delivery.location, detail: `delivered by run ${delivery.run_id} before the key rotation of ${rotation.at.slice(0, 10)}` });
          logger.info(`${destination.name}: ${built.report}/${built.period} was delivered before the pseudonymization key was rotated (${rotation.at.slice(0, 10)}); not resent under new keys (--force resends)`);
          continue;
        }
        if (previous) {
          state.record.deliveries.push({ ...base, status: 'skipped', files: 0, bytes: 0, retries: 0, location: previous.location, detail: `already delivered by run ${previous.run_id}` });
          logger.info(`${destination.name}: ${built.report}/${built.period} already delivered with the same content; skipped (--force resends)`);
          continue;
        }
        if (options.dryRun) {
          state.record.deliveries.push({ ...base, status: 'would-deliver', files: manifest.files.length, bytes, retries: 0 });
          logger.info(`dry run: would deliver ${built.report}/${built.period} to ${destination.name} (${destination.type}): ${manifest.files.length} files + manifest.json + SHA256SUMS, ${bytes} bytes`);
          continue;
        }
        update(`${built.report} ${built.period} -> ${destination.name}`);
        try {
          let connector = connectors.get(destination.name);
          if (!connector) {
            connector = await createConnector(destination, connectorContext);
            connectors.set(destination.name, connector);
          }
          // Connectors retry transient failures themselves, per file or batch, with this
          // destination's retry: block (src/connectors/retry.ts): one call here.
          const receipt = await connector.deliver(built.outbox);
          await ledger.recordDelivery(home, key, manifest, { runId, receipt, forced: Boolean(options.force) });
          state.record.deliveries.push({ ...base, status: 'delivered', files: receipt.files, bytes: receipt.bytes, retries: receipt.retries, location: receipt.location });
          state.receipts.set(built, [...(state.receipts.get(built) ?? []), receipt]);
          if (!state.updated.includes(built)) state.updated.push(built);
          logger.info(`${destination.name}: delivered ${built.report}/${built.period} to ${receipt.location}`);
        } catch (error) {
          if (signal.aborted) throw signal.reason;
          const typed = toDataprodError(error);
          state.deliveryErrors.push(typed);
          state.record.deliveries.push({ ...base, status: 'failed', files: 0, bytes: 0, retries: 0, detail: redact(`${typed.message}${typed.hint ? ` (${typed.hint})` : ''}`) });
          logger.error(`${destination.name}: ${built.report}/${built.period} not delivered: ${typed.message}`);
        }
      }
    }
  } finally {
    await Promise.all([...connectors.values()].map((connector) => connector.close().catch(() => undefined)));
  }
  state.record.reports = state.built.map((built) => reportRecord(built, state.updated.includes(built) ? 'delivered' : options.dryRun ? 'dry-run' : state.record.deliveries.some((item) => item.report === built.report && item.period === built.period && item.status === 'failed') ? 'failed' : 'skipped'));
}

function deliveryFailure(state: RunState): DataprodError {
  const failed = state.record.deliveries.filter((item) => item.status === 'failed');
  const first = state.deliveryErrors[0]!;
  const error = new DataprodError(`delivery failed: ${failed.map((item) => `${item.report}/${item.period} -> ${item.destination}`).join(', ')}: ${first.message}`, {
    hint: first.hint ?? 'run again: what was delivered is not sent twice',
  });
  // The run ends with the failing destination's own code (69 unreachable, 77 refused...).
  Object.defineProperty(error, 'exitCode', { value: first.exitCode });
  return error;
}

async function notificationChannel(config: PartnerConfig, context: ConnectorContext): Promise<Connector | undefined> {
  const channel = config.notifications.channel;
  if (!channel || !channel.enabled) return undefined;
  const { createConnector } = await import('../connectors/index.js');
  return createConnector(channel, context);
}

/** One e-mail per updated report period; a failed e-mail is logged and recorded, it never undoes a delivery. */
async function notifyPartner(config: PartnerConfig, state: RunState, context: ConnectorContext, runId: string): Promise<void> {
  if (state.updated.length === 0 || config.notifications.partner_recipients.length === 0) return;
  const channel = await notificationChannel(config, context);
  if (!channel) {
    state.warnings.push('no notification channel is enabled: the partner was not e-mailed');
    context.logger.warn(`no notification channel is enabled for ${config.partner}: the partner was not e-mailed`);
    return;
  }
  const { buildUpdateEmail } = await import('../notify/index.js');
  try {
    for (const built of state.updated) {
      const message = buildUpdateEmail({ config, packages: [built.outbox], receipts: state.receipts.get(built) ?? [], runId });
      try {
        await channel.notify!(message);
        context.logger.info(`e-mailed ${message.to.join(', ')}: ${message.subject}`);
        state.record.deliveries.push({ destination: channel.name, type: channel.type, report: built.report, period: built.period, status: 'delivered', files: 0, bytes: 0, retries: 0, detail: `notification to ${message.to.length} recipient(s)` });
      } catch (error) {
        const typed = toDataprodError(error);
        state.warnings.push(`notification for ${built.report}/${built.period} not sent: ${typed.message}`);
        state.record.deliveries.push({ destination: channel.name, type: channel.type, report: built.report, period: built.period, status: 'failed', files: 0, bytes: 0, retries: 0, detail: redact(`notification not sent: ${typed.message}`) });
        context.logger.error(`notification e-mail for ${built.report}/${built.period} not sent: ${typed.message} (the delivery stands)`);
      }
    }
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/** Tells the data team about a failure once, reminds with a count, and says when it recovered. */
async function alertDataTeam(home: string, config: PartnerConfig, state: RunState, failure: DataprodError | undefined, context: ConnectorContext, runId: string, now: Date): Promise<Record<string, unknown> | undefined> {
  const status = state.record.status;
  if (status === 'interrupted' || status === 'skipped') return undefined;
  try {
    const { decideAlert, failureFingerprint } = await import('../records/alert-state.js');
    const failing = status === 'failed' || status === 'blocked';
    const stageName = state.failedStage ?? 'run';
    const decision = await decideAlert(home, config.partner, {
      failing,
      fingerprint: failing && failure ? failureFingerprint(stageName, failure) : undefined,
      now,
      reminderHours: config.notifications.reminder_hours,
      runId,
      summary: failure ? `${stageName}: ${redact(failure.message)}` : undefined,
    });
    if (decision.action === 'none') return { action: 'none' };
    const channel = await notificationChannel(config, context);
    if (!channel) {
      context.logger.warn(`data-team ${decision.action} not e-mailed: no notification channel is enabled for ${config.partner}`);
      return { action: decision.action, sent: false, reason: 'no notification channel is enabled' };
    }
    const { buildAlertEmail } = await import('../notify/index.js');
    const message = buildAlertEmail({
      config,
      runId,
      stage: stageName,
      error: failure ? { message: failure.message, hint: failure.hint, exitCode: failure.exitCode } : { message: 'the last run succeeded' },
      failedChecks: state.record.gates.filter((gate) => gate.status !== 'pass').map((gate) => ({ name: `${gate.report}/${gate.period} ${gate.gate}`, severity: gate.status === 'fail' ? 'error' : 'warning', detail: gate.detail, value: gate.figures })),
      kind: decision.action,
      count: decision.count,
      since: decision.since,
    });
    try {
      await channel.notify!(message);
      context.logger.info(`data team ${decision.action} sent to ${message.to.join(', ')}`);
      return { action: decision.action, sent: true, to: message.to, count: decision.count };
    } finally {
      await channel.close().catch(() => undefined);
    }
  } catch (error) {
    const typed = toDataprodError(error);
    context.logger.error(`could not alert the data team: ${typed.message}`);
    return { sent: false, error: redact(typed.message) };
  }
}

async function isMonthlyDone(home: string, config: PartnerConfig, period: string): Promise<boolean> {
  const ledger = await import('../records/ledger.js');
  const destinations = destinationsFor(config, 'monthly-by-city');
  if (destinations.length === 0) return Boolean(await ledger.lastDelivered(home, config.partner, 'monthly-by-city', period, { includeBuilt: true }));
  for (const destination of destinations) {
    if (!(await ledger.lastDelivered(home, config.partner, 'monthly-by-city', period, destination.name))) return false;
  }
  return true;
}

/** Catalog entries for what the run wrote: bronze, silver, quarantine, gold and deliverables. */
async function recordCatalog(home: string, config: PartnerConfig, state: RunState, context: CommandContext): Promise<void> {
  const catalog = await import('../metadata/catalog.js');
  // Every day the run read or wrote: bronze, silver and quarantine of each (unchanged bytes keep their first record).
  const days = state.days;
  if (days.length > 0) await catalog.recordCleanDatasets(home, days, { runId: context.runId, now: context.now }).catch((error: Error) => context.logger.warn(`catalog: ${error.message}`));
  for (const built of state.built) {
    await catalog.recordPackageDatasets(home, config, { report: built.report, period: built.period, pkg: built.outbox, gold: built.gold }, { runId: context.runId, now: context.now }).catch((error: Error) => context.logger.warn(`catalog: ${error.message}`));
  }
}

function describeRun(state: RunState, sandbox: Sandbox | undefined): string {
  const record = state.record;
  const lines = [`run ${record.run_id} (${record.partner}): ${record.status}`];
  for (const built of state.built) lines.push(`  built ${built.report} ${built.period}: ${built.rows} rows -> ${built.outbox.dir}`);
  for (const delivery of record.deliveries) {
    const where = delivery.location ? ` -> ${delivery.location}` : '';
    const retries = delivery.retries ? ` (after ${delivery.retries} retr${delivery.retries === 1 ? 'y' : 'ies'})` : '';
    lines.push(`  ${delivery.status} ${delivery.report} ${delivery.period} via ${delivery.destination} (${delivery.type})${where}${retries}${delivery.detail && delivery.status !== 'delivered' ? `: ${delivery.detail}` : ''}`);
  }
  for (const warning of state.warnings) lines.push(`  warning: ${warning}`);
  if (sandbox) lines.push('', sandbox.describe());
  return lines.join('\n');
}

export type { DeliveryRecord, RunStatus };
