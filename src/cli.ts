import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'winston';
import type { CommandContext, CommandResult } from './commands/context.js';
import { dateRange, parseDate, parseMonth } from './dates.js';
import { ExitCode, UsageError, toDataprodError } from './errors.js';
// log.js (and winston with it) is loaded by the first command that runs, not for --help
// or --version: start-up stays at node's own.

const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
export const TOOL_VERSION = packageJson.version;

interface GlobalOptions {
  home?: string;
  json?: boolean;
  verbose?: boolean;
  quiet?: boolean;
  color?: boolean;
}

function integer(flag: string, min = 0) {
  return (value: string): number => {
    const number = Number(value);
    if (!Number.isInteger(number) || number < min) throw new InvalidArgumentError(`${flag} takes a whole number >= ${min}`);
    return number;
  };
}

function ratio(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0 || number > 1) throw new InvalidArgumentError('takes a number from 0 to 1, e.g. 0.03');
  return number;
}

/** All of standard input when it is piped or redirected; undefined when it is a terminal. */
async function readPipedStdin(): Promise<string | undefined> {
  if (process.stdin.isTTY) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** --date D | --from D --to D, normalised to a list of days (undefined: the command's default). */
function readDays(options: { date?: string; from?: string; to?: string }): string[] | undefined {
  if (options.date && (options.from || options.to)) throw new UsageError('--date cannot be combined with --from/--to', { hint: 'give one day with --date, or a range with --from and --to' });
  if (options.date) return [parseDate(options.date)];
  if (options.from || options.to) {
    if (!options.from || !options.to) throw new UsageError('--from and --to go together', { hint: 'e.g. --from 2026-11-01 --to 2026-11-07' });
    return dateRange(parseDate(options.from, '--from'), parseDate(options.to, '--to'));
  }
  return undefined;
}

function example(text: string): string {
  return `\nExamples:\n${text
    .trim()
    .split('\n')
    .map((line) => `  ${line.trim()}`)
    .join('\n')}\n`;
}

/** Builds the command tree; each action imports its command lazily so --help stays fast. */
export function buildProgram(): Command {
  const program = new Command('dataprod')
    .description('Turns sales data into data products for partner brands: generate or ingest -> clean -> build -> deliver.')
    // -v is the version, as in node and npm; --verbose has no short form.
    .version(TOOL_VERSION, '-v, --version', 'print the version (with --json: name, version, Node.js)')
    .option('--home <dir>', 'lake home directory (default: $DATAPROD_HOME, else ./.dataprod)')
    .option('--json', 'print a machine-readable result on stdout')
    .option('--verbose', 'debug logging and stack traces on failure')
    .option('-q, --quiet', 'only warnings and errors on stderr')
    .option('--no-color', 'no colour in terminal output')
    .showHelpAfterError('(run with --help for usage)')
    // Copied into every subcommand: its --help lists --home, --json and the others too.
    .configureHelp({ showGlobalOptions: true })
    // Set before the subcommands are added: they copy it, so a bad flag anywhere is exit 64, not 1.
    .exitOverride()
    .addHelpText(
      'after',
      example(`
        dataprod run --partner ouchhungry --sandbox     # the whole job against loopback servers
        dataprod run --partner ouchhungry --date 2026-11-20
        dataprod clean --from 2026-11-01 --to 2026-11-07 --json
      `) + '\nExit codes: 0 ok, 64 usage, 65 data, 69 unavailable, 70 internal, 73 cannot write, 75 try later, 77 permission/auth, 78 configuration.\n',
    );

  program
    .command('generate')
    .description('Write synthetic bronze CSVs (customers, products, transactions) for each day, like a nightly export.')
    .option('--from <date>', 'first day (YYYY-MM-DD; default: yesterday in São Paulo)')
    .option('--to <date>', 'last day (default: --from)')
    .option('--customers <n>', 'customers in the base', integer('--customers', 1), 5000)
    .option('--transactions-per-day <n>', 'average transactions per weekday (weekends sell more)', integer('--transactions-per-day', 0), 2000)
    .option('--dirty-rate <r>', 'share of rows given real-export dirt (nulls, bad formats, duplicates...)', ratio, 0.03)
    .option('--seed <s>', 'seed: the same seed gives the same files', integer('--seed', 0), 42)
    .addHelpText('after', example(`
      dataprod generate --from 2026-11-01 --to 2026-11-30
      dataprod generate --from 2026-11-20 --transactions-per-day 50000 --dirty-rate 0 --seed 7
    `))
    .action(dispatch('generate', (options) => {
      const from = options.from ? parseDate(options.from, '--from') : undefined;
      const to = options.to ? parseDate(options.to, '--to') : from;
      if (to && !from) throw new UsageError('--to needs --from', { hint: 'e.g. --from 2026-11-01 --to 2026-11-07' });
      return { ...options, days: from && to ? dateRange(from, to) : undefined };
    }));

  program
    .command('ingest')
    .description('Bring a real export (CSV, JSON lines or Parquet) into bronze unchanged, checking its columns.')
    .requiredOption('--table <table>', 'customers, products or transactions')
    .requiredOption('--file <file>', 'the export file')
    .option('--date <date>', 'the day it belongs to (default: yesterday in São Paulo)')
    .addOption(new Option('--format <format>', 'file format (default: from the extension and content)').choices(['csv', 'jsonl', 'parquet']))
    .option('--delimiter <char>', 'CSV delimiter (default: detected)')
    .option('--encoding <name>', 'CSV encoding: utf-8, latin-1 or utf-16 (default: detected)')
    .addHelpText('after', example(`
      dataprod ingest --table transactions --file export-2026-11-20.csv --date 2026-11-20
      dataprod ingest --table customers --file clientes.csv --delimiter ";" --encoding latin-1
    `))
    .action(dispatch('ingest', (options) => ({ ...options, date: options.date ? parseDate(options.date) : undefined, file: resolve(options.file) })));

  program
    .command('clean')
    .description('bronze -> silver (typed Parquet) + quarantine, per table and day, with a per-rule summary.')
    .option('--date <date>', 'one day (default: yesterday in São Paulo)')
    .option('--from <date>', 'first day of a range')
    .option('--to <date>', 'last day of a range')
    .addHelpText('after', example(`
      dataprod clean --date 2026-11-20
      dataprod clean --from 2026-11-01 --to 2026-11-30 --json
    `))
    .action(dispatch('clean', (options) => ({ days: readDays(options) })));

  program
    .command('build')
    .description('silver -> gold -> outbox: the partner reports, rendered, with manifest.json.')
    .requiredOption('--partner <name>', 'partner configuration to build for')
    .option('--date <date>', 'day of the daily report (default: yesterday in São Paulo)')
    .option('--month <month>', 'month of the monthly report (YYYY-MM)')
    .option('--report <report>', 'only this report (daily-analytic or monthly-by-city)')
    .option('--config <file>', 'partner configuration file (default: <home>/partners, then the bundled ones)')
    .addHelpText('after', example(`
      dataprod build --partner ouchhungry --date 2026-11-20
      dataprod build --partner ouchhungry --month 2026-10 --report monthly-by-city
    `))
    .action(dispatch('build', (options) => ({
      ...options,
      date: options.date ? parseDate(options.date) : undefined,
      month: options.month ? parseMonth(options.month) : undefined,
    })));

  program
    .command('run')
    .description('The scheduled job: extract -> clean -> build -> quality gates -> deliver -> notify -> record.')
    .requiredOption('--partner <name>', 'partner to run for')
    .option('--date <date>', 'day to report (default: yesterday in São Paulo)')
    .option('--from <date>', 'backfill from this day ...')
    .option('--to <date>', '... to this day, one day at a time')
    .option('--month <month>', 'also build and deliver this month (YYYY-MM); on the 1st the previous month is automatic')
    .option('--dry-run', 'do everything but deliver and notify; say what would be sent')
    .option('--force', 'redeliver even what the ledger says was delivered')
    .option('--yes', 'answer yes to confirmations (needed for --force without a TTY)')
    .option('--sandbox', 'start loopback SFTP, API and SMTP servers and deliver to them')
    .addOption(
      new Option('--source <source>', 'where missing days come from: synthetic (the generator) or bronze (ingested exports only; a missing day is an error)')
        .choices(['synthetic', 'bronze'])
        .env('DATAPROD_SOURCE')
        .default('synthetic'),
    )
    .option('--config <file>', 'partner configuration file')
    .addHelpText('after', example(`
      dataprod run --partner ouchhungry --sandbox
      dataprod run --partner ouchhungry                       # from cron: yesterday, and last month on the 1st
      dataprod run --partner ouchhungry --from 2026-11-01 --to 2026-11-07
      dataprod run --partner ouchhungry --month 2026-10 --dry-run
    `))
    .action(dispatch('run', (options) => ({
      ...options,
      days: readDays(options),
      month: options.month ? parseMonth(options.month) : undefined,
      dryRun: Boolean(options.dryRun),
      force: Boolean(options.force),
      yes: Boolean(options.yes),
      sandbox: Boolean(options.sandbox),
    })));

  program
    .command('test-connection')
    .description('Check each destination: DNS and TCP, TLS or host key, authentication, permission.')
    .addArgument(new Command().createArgument('<target>', 'which destinations').choices(['sftp', 'api', 'smtp', 'all']))
    .requiredOption('--partner <name>', 'partner whose destinations to check')
    .option('--sandbox', 'check against the loopback sandbox servers')
    .option('--config <file>', 'partner configuration file')
    .addHelpText('after', example(`
      dataprod test-connection sftp --partner ouchhungry
      dataprod test-connection all --partner ouchhungry --sandbox --json
    `))
    .action(dispatch('test-connection', (options, target) => ({ ...options, target, sandbox: Boolean(options.sandbox) })));

  program
    .command('secrets')
    .description('Manage secrets in the OS keychain (service "dataprod", account "<partner>/<name>").')
    .addArgument(new Command().createArgument('<action>', 'set, get, delete, list or rotate-key').choices(['set', 'get', 'delete', 'list', 'rotate-key']))
    .argument('[name]', 'secret name, e.g. sftp-private-key, api-password, pseudonym-key')
    .argument('[value]', 'value for set (default: piped stdin, else a masked prompt; avoid: it stays in shell history)')
    .option('--partner <name>', 'partner the secret belongs to', 'ouchhungry')
    .option('--from-file <file>', 'read the value from a file (private keys)')
    .option('--reveal', 'get: print the value instead of hiding it')
    .option('--yes', 'rotate-key: replace an existing pseudonymization key (every customer_key and order_key changes)')
    .addHelpText('after', example(`
      dataprod secrets rotate-key --partner ouchhungry                 # creates the pseudonymization key once
      dataprod secrets set --partner ouchhungry sftp-private-key --from-file ~/.ssh/ouchhungry_ed25519
      dataprod secrets set --partner ouchhungry api-password          # prompts, input hidden
      pass show ouchhungry/api | dataprod secrets set --partner ouchhungry api-password
      dataprod secrets get --partner ouchhungry api-password
      dataprod secrets list --partner ouchhungry
    `))
    .action(dispatch('secrets', (options, action, name, value) => {
      if (action !== 'list' && action !== 'rotate-key' && !name) throw new UsageError(`secrets ${action} needs a NAME`, { hint: `e.g. dataprod secrets ${action} --partner ${options.partner} api-password` });
      return { ...options, action, name, value, fromFile: options.fromFile ? resolve(options.fromFile) : undefined, reveal: Boolean(options.reveal), readPiped: readPipedStdin, yes: Boolean(options.yes) };
    }));

  program
    .command('init')
    .description('Create or edit a partner configuration and store its secrets (a wizard on a TTY; flags otherwise).')
    .requiredOption('--partner <name>', 'partner identifier (lower-case, dashes)')
    .option('--display-name <name>', 'name shown in e-mails')
    .option('--brands <list>', 'comma-separated brands that are the partner\'s')
    .option('--segments <list>', 'comma-separated segments the partner competes in')
    .option('--k <n>', 'k-anonymity threshold (>= 5)', integer('--k', 1))
    .option('--partner-recipients <list>', 'comma-separated e-mails told after every update')
    .option('--alert-recipients <list>', 'comma-separated e-mails of the data team')
    .option('--sftp-host <host>', 'partner SFTP host')
    .option('--sftp-port <port>', 'partner SFTP port', integer('--sftp-port', 1))
    .option('--sftp-user <user>', 'SFTP user name')
    .option('--sftp-directory <template>', 'remote directory template, e.g. /inbound/{report}/{period}/')
    .option('--sftp-fingerprint <fp>', 'pinned host key, SHA256:...')
    .option('--sftp-key-file <file>', 'private key file to store in the keychain')
    .option('--api-url <url>', 'partner API base URL (https)')
    .option('--api-user <user>', 'API user name (password auth)')
    .option('--smtp-host <host>', 'SMTP server for notifications')
    .option('--smtp-port <port>', 'SMTP port (465 TLS, 587 STARTTLS)', integer('--smtp-port', 1))
    .option('--smtp-from <address>', 'From address of notifications')
    .option('--smtp-user <user>', 'SMTP user name')
    .option('--test', 'run test-connection at the end')
    .option('--yes', 'accept defaults for everything not given (non-interactive)')
    .addHelpText('after', example(`
      dataprod init --partner ouchhungry
      dataprod init --partner acme --display-name "ACME" --brands Acme --segments biscoitos --alert-recipients dados@example.com --yes
    `))
    .action(dispatch('init', (options) => ({ ...options, test: Boolean(options.test), yes: Boolean(options.yes) })));

  program
    .command('sandbox')
    .description('Start loopback SFTP, partner API and SMTP servers that keep what they receive under <home>/sandbox/.')
    .option('--partner <name>', 'partner whose credentials the servers accept', 'ouchhungry')
    .addHelpText('after', example(`
      dataprod sandbox            # runs until Ctrl-C; prints the ports and the files to look at
    `))
    .action(dispatch('sandbox', (options) => options));

  program
    .command('runs')
    .description('Recent runs: status, periods, rows, deliveries, stage timings.')
    .option('--partner <name>', 'only this partner')
    .option('--limit <n>', 'how many', integer('--limit', 1), 20)
    .addHelpText('after', example(`
      dataprod runs --partner ouchhungry --limit 5
      dataprod runs --json | jq '.[0].stages'
    `))
    .action(dispatch('runs', (options) => options));

  program
    .command('status')
    .description('Per partner and report: last success, its age, the next due run, and what is failing now.')
    .option('--partner <name>', 'only this partner')
    .addHelpText('after', example(`
      dataprod status
    `))
    .action(dispatch('status', (options) => options));

  program
    .command('catalog')
    .description('Datasets written: schema, rows, checksum, PII class per column, tags.')
    .option('--search <term>', 'only datasets whose name, table, report, day or month, column or tag matches')
    .addHelpText('after', example(`
      dataprod catalog --search customer
    `))
    .action(dispatch('catalog', (options) => options));

  program
    .command('lineage')
    .description('Upstream and downstream of a dataset, as a tree.')
    .argument('<dataset>', 'dataset name as in `dataprod catalog`, or a file path (absolute, or relative to the working directory or the home)')
    .addHelpText('after', example(`
      dataprod lineage outbox/ouchhungry/daily-analytic/2026-11-20/ouchhungry_daily-analytic_2026-11-20.csv
      dataprod lineage silver.transactions/date=2026-11-20
    `))
    .action(dispatch('lineage', (options, dataset) => ({ ...options, dataset })));

  program
    .command('schedule')
    .description('Print crontab lines and a systemd timer for the daily and monthly jobs (America/Sao_Paulo).')
    .requiredOption('--partner <name>', 'partner to schedule')
    .option('--config <file>', 'partner configuration file')
    .addHelpText('after', example(`
      dataprod schedule --partner ouchhungry >> /tmp/crontab.txt
    `))
    .action(dispatch('schedule', (options) => options));

  program
    .command('completion')
    .description('Print a shell completion script for bash, zsh or fish.')
    .addArgument(new Argument('<shell>', 'the shell to complete in').choices(['bash', 'zsh', 'fish']))
    .addHelpText('after', example(`
      dataprod completion bash > ~/.local/share/bash-completion/completions/dataprod
      dataprod completion zsh > "\${fpath[1]}/_dataprod"
      dataprod completion fish > ~/.config/fish/completions/dataprod.fish
    `))
    // Reads nothing and writes nothing but stdout: no home, no log file.
    .action(async (shell: 'bash' | 'zsh' | 'fish') => {
      const { completionScript } = await import('./terminal/completion.js');
      process.stdout.write(completionScript(program, shell));
    });

  return program;
}

/** Commands that never write to the home (no log file either). */
const READ_ONLY_COMMANDS = new Set(['status', 'runs', 'catalog', 'lineage', 'schedule']);

type Normalise = (options: Record<string, any>, ...args: any[]) => Record<string, unknown>;

/** Wraps a command: normalise flags, open the logger, import the command, print its result. */
function dispatch(name: string, normalise: Normalise) {
  return async function action(this: Command, ...args: unknown[]): Promise<void> {
    const command = this;
    const positional = args.slice(0, -2);
    const global = command.optsWithGlobals() as GlobalOptions;
    state.global = global;
    const options = normalise(command.opts(), ...positional);
    const home = resolve(global.home ?? process.env.DATAPROD_HOME ?? '.dataprod');
    const { createLogger, newRunId, redact } = await import('./log.js');
    const runId = newRunId();
    const color = Boolean(global.color !== false && process.stderr.isTTY && !process.env.NO_COLOR);
    // Commands that only read keep no log file: looking must not change the home.
    const logger = createLogger({ home: READ_ONLY_COMMANDS.has(name) ? undefined : home, runId, verbose: global.verbose, quiet: global.quiet, color });
    state.logger = logger;
    const context: CommandContext = { home, now: new Date(), logger, runId, interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY) };
    const moduleName = name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
    const module = (await import(`./commands/${name}.js`)) as Record<string, (options: unknown, context: CommandContext) => Promise<CommandResult>>;
    const result = await module[moduleName]!(options, context);
    // `unredacted`: the person asked to see a secret (secrets get --reveal); everything else is masked.
    const show = result.unredacted ? (text: string) => text : redact;
    if (global.json) process.stdout.write(`${show(JSON.stringify(result.data, jsonReplacer, 2))}\n`);
    else if (result.text) process.stdout.write(`${show(result.text)}\n`);
    if (result.exitCode) process.exitCode = result.exitCode;
  };
}

function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value;
}

const state: { global: GlobalOptions; logger?: Logger } = { global: {} };

/** The one place that exits: prints one line for a failure and maps it to its exit code. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  let exitCode = 0;
  const args = argv.slice(2);
  if (args.includes('--json') && args.some((arg) => arg === '-v' || arg === '--version') && !args.some((arg) => program.commands.some((command) => command.name() === arg))) {
    process.stdout.write(`${JSON.stringify({ name: 'dataprod', version: TOOL_VERSION, node: process.versions.node })}\n`);
    process.exit(0);
  }
  // No command on a terminal: the interactive menu. Without a terminal (cron, pipes), help and 64 as before.
  const homeOnly = args.length === 0 || (args.length === 2 && args[0] === '--home');
  if (homeOnly && process.stdin.isTTY && process.stdout.isTTY) {
    try {
      const { menu } = await import('./commands/menu.js');
      await menu({ home: resolve(args[1] ?? process.env.DATAPROD_HOME ?? '.dataprod') });
      process.exit(0);
    } catch (error) {
      // Ctrl-C at a prompt: leave quietly, as a shell would.
      if ((error as Error)?.name === 'ExitPromptError') process.exit(130);
      throw error;
    }
  }
  try {
    await program.parseAsync(argv);
    exitCode = Number(process.exitCode ?? 0);
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed its message (and help for --help/--version).
      exitCode = error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? 0 : ExitCode.usage;
    } else {
      const failure = toDataprodError(error);
      const { redact } = await import('./log.js');
      const line = `dataprod: ${failure.message}${failure.hint ? ` (${failure.hint})` : ''}`;
      process.stderr.write(`${redact(line)}\n`);
      if (state.global.verbose) process.stderr.write(`${redact(String((error as Error)?.stack ?? error))}\n`);
      if (state.global.json) process.stdout.write(`${redact(JSON.stringify({ error: { message: failure.message, hint: failure.hint, exit_code: failure.exitCode, type: failure.name } }))}\n`);
      // The line above is the terminal's copy; the run's JSON log gets the details.
      if (state.logger) {
        const { default: winston } = await import('winston');
        for (const transport of state.logger.transports) if (transport instanceof winston.transports.Console) transport.silent = true;
      }
      state.logger?.error(failure.message, { exit_code: failure.exitCode, hint: failure.hint, stack: (error as Error)?.stack });
      exitCode = failure.exitCode;
    }
  }
  if (state.logger) await (await import('./log.js')).closeLogger(state.logger);
  // A pipe takes stdout asynchronously: let a large --json answer reach it before exiting.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  // Connectors and servers can leave sockets open; the result is final, so exit now.
  process.exit(exitCode);
}
