import { renderTable as renderRows } from '../terminal/table.js';
import { createConnector } from '../connectors/index.js';
import type { DestinationOptions } from '../connectors/options.js';
import type { CheckResult, ConnectorContext } from '../connectors/types.js';
import { ConfigError, DataprodError, ExitCode, toDataprodError } from '../errors.js';
import { readPartnerConfig, type PartnerConfig } from '../partners/config.js';
import { resolveSecret } from '../secrets/index.js';
import type { CommandContext, CommandResult } from './context.js';

export type ConnectionTarget = 'sftp' | 'api' | 'smtp' | 'all';

export interface TestConnectionOptions {
  /** Which destinations: sftp, api, smtp (the e-mail notification channel) or all. */
  target: ConnectionTarget;
  /** Partner whose configuration is checked. */
  partner: string;
  /** Start the loopback sandbox for this command and check against it. */
  sandbox?: boolean;
  /** Partner configuration file (default: <home>/partners, then the bundled ones). */
  config?: string;
}

/** One row of the report (and of --json). */
export interface ConnectionCheckRow {
  destination: string;
  type: string;
  check: string;
  status: 'pass' | 'fail' | 'skipped';
  ms: number;
  /** The precise cause of a failure, or what passed. */
  detail: string;
  hint?: string;
  /** Exit code of a failure: 69 unreachable, 77 permission/auth, 78 configuration. */
  exit_code?: number;
}

/** The destinations a target covers; smtp means the e-mail notification channel (and any e-mail destination). */
export function destinationsFor(config: PartnerConfig, target: ConnectionTarget): DestinationOptions[] {
  const channel = config.notifications.channel;
  switch (target) {
    case 'sftp':
    case 'api':
      return config.destinations.filter((destination) => destination.type === target);
    case 'smtp':
      return [...(channel?.type === 'email' ? [channel] : []), ...config.destinations.filter((destination) => destination.type === 'email')];
    case 'all':
      return [...config.destinations, ...(channel ? [channel] : [])];
  }
}

function rowFrom(destination: DestinationOptions, result: CheckResult): ConnectionCheckRow {
  return {
    destination: destination.name,
    type: destination.type,
    check: result.check,
    status: result.ok ? 'pass' : 'fail',
    ms: result.ms,
    detail: result.detail,
    ...(result.hint ? { hint: result.hint } : {}),
    ...(result.ok ? {} : { exit_code: result.exitCode ?? ExitCode.unavailable }),
  };
}

/** Runs check() on one destination; anything thrown becomes a failed row rather than ending the command. */
async function checkDestination(destination: DestinationOptions, context: ConnectorContext): Promise<ConnectionCheckRow[]> {
  let connector;
  try {
    connector = await createConnector(destination, context);
  } catch (error) {
    const failure = toDataprodError(error);
    return [{ destination: destination.name, type: destination.type, check: 'config', status: 'fail', ms: 0, detail: failure.message, hint: failure.hint, exit_code: failure.exitCode }];
  }
  try {
    return (await connector.check()).map((result) => rowFrom(destination, result));
  } catch (error) {
    const failure = error instanceof DataprodError ? error : toDataprodError(error);
    return [{ destination: destination.name, type: destination.type, check: 'check', status: 'fail', ms: 0, detail: failure.message, hint: failure.hint, exit_code: failure.exitCode }];
  } finally {
    await connector.close().catch(() => undefined);
  }
}

function renderTable(rows: ConnectionCheckRow[]): string {
  const head = ['destination', 'check', 'result', 'ms', 'cause / detail', 'hint'];
  const cells = rows.map((row) => [row.destination, row.check, row.status === 'fail' ? `FAIL ${row.exit_code}` : row.status, String(row.ms), row.detail, row.hint ?? '']);
  return renderRows(cells, { head, wrap: [4, 5] });
}

/**
 * `dataprod test-connection <sftp|api|smtp|all> --partner P [--sandbox]`: DNS, TCP, TLS
 * or host key, authentication and permission for each configured destination, one row
 * per check. Exits with the first failure's code (69 unreachable, 77 permission or
 * authentication, 78 configuration).
 */
export async function testConnection(options: TestConnectionOptions, context: CommandContext): Promise<CommandResult<ConnectionCheckRow[]>> {
  let { config } = readPartnerConfig(context.home, options.partner, options.config);
  let secret = (name: string) => resolveSecret(options.partner, name);
  let sandbox: import('../sandbox/index.js').Sandbox | undefined;
  if (options.sandbox) {
    const { startSandbox } = await import('../sandbox/index.js');
    sandbox = await startSandbox({ home: context.home, partner: options.partner, logger: context.logger });
    config = sandbox.applyTo(config);
    secret = (name) => sandbox!.secret(name);
    context.logger.info(`checking against the sandbox: ${sandbox.describe().split('\n')[0]}`);
  }
  try {
    const destinations = destinationsFor(config, options.target);
    if (destinations.length === 0) {
      const what = options.target === 'smtp' ? 'e-mail notification channel' : options.target === 'all' ? 'destination' : `${options.target} destination`;
      throw new ConfigError(`partner ${options.partner} has no ${what} configured`, { hint: `add one with: dataprod init --partner ${options.partner}` });
    }
    const connectorContext: ConnectorContext = { partner: options.partner, home: context.home, logger: context.logger, secret };
    const rows: ConnectionCheckRow[] = [];
    for (const destination of destinations) {
      if (!destination.enabled) {
        rows.push({
          destination: destination.name,
          type: destination.type,
          check: 'enabled',
          status: 'skipped',
          ms: 0,
          detail: `disabled: run dataprod init --partner ${options.partner}`,
          hint: 'or try the whole path against loopback servers with --sandbox',
        });
        continue;
      }
      context.logger.info(`checking ${destination.type} destination ${destination.name}`);
      rows.push(...(await checkDestination(destination, connectorContext)));
    }

    const failures = rows.filter((row) => row.status === 'fail');
    const checked = rows.filter((row) => row.status !== 'skipped');
    let exitCode: number | undefined;
    let summary: string;
    if (failures.length > 0) {
      exitCode = failures[0]!.exit_code ?? ExitCode.unavailable;
      summary = `${failures.length} of ${checked.length} checks failed; first failure: ${failures[0]!.destination} ${failures[0]!.check} (exit ${exitCode})`;
    } else if (checked.length === 0) {
      exitCode = ExitCode.config;
      summary = `nothing was checked: every selected destination is disabled (run dataprod init --partner ${options.partner}, or add --sandbox)`;
    } else {
      summary = `all ${checked.length} checks passed`;
    }
    return { data: rows, text: `${renderTable(rows)}\n${summary}`, ...(exitCode ? { exitCode } : {}) };
  } finally {
    await sandbox?.close();
  }
}
