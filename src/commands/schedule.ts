import { fileURLToPath } from 'node:url';
import { BUSINESS_TIME_ZONE } from '../dates.js';
import { cronLogPath, systemdLogPath } from '../lake/layout.js';
import { cronToOnCalendar, nextCronTime } from '../run/cron.js';
import { enabledReports, readPartnerConfig } from '../partners/config.js';
import type { CommandContext, CommandResult } from './context.js';
import { formatLocalTime } from './runs.js';

export interface ScheduleOptions {
  /** Partner to schedule. */
  partner: string;
  /** Partner configuration file overriding the lookup. */
  config?: string;
}

export interface ScheduledJob {
  job: 'daily' | 'monthly';
  /** Reports this job is for. */
  reports: string[];
  cron: string;
  on_calendar: string[];
  next_run: string;
}

export interface ScheduleResult {
  partner: string;
  time_zone: string;
  node: string;
  bin: string;
  home: string;
  log_file: string;
  jobs: ScheduledJob[];
  crontab: string;
  systemd: { service: { name: string; content: string }; timer: { name: string; content: string } };
}

/** The entry script of this installation (bin/dataprod.js beside src/ or dist/). */
export function binPath(): string {
  return fileURLToPath(new URL('../../bin/dataprod.js', import.meta.url));
}

/** Quotes a word for /bin/sh when it needs it. */
function shellQuote(word: string): string {
  return /^[A-Za-z0-9_\/.:=@+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Quotes a word for a systemd Exec line (and escapes % specifiers). */
function systemdQuote(word: string): string {
  const escaped = word.replace(/%/g, '%%');
  return /^[A-Za-z0-9_\/.:=@+,-]+$/.test(escaped) ? escaped : `"${escaped.replace(/(["\\])/g, '\\$1')}"`;
}

/**
 * `dataprod schedule --partner P`: crontab lines (CRON_TZ=America/Sao_Paulo) and a systemd
 * service + timer for the daily and monthly jobs, with absolute paths and a log file. No
 * flock: `dataprod run` takes its own per-partner lock and exits 75 when it is held.
 */
export async function schedule(options: ScheduleOptions, context: CommandContext): Promise<CommandResult<ScheduleResult>> {
  const { config } = readPartnerConfig(context.home, options.partner, options.config);
  const partner = config.partner;
  const node = process.execPath;
  const bin = binPath();
  const home = context.home;
  const logFile = cronLogPath(home, partner);
  const reports = enabledReports(config);
  const jobs: ScheduledJob[] = [];
  const daily = reports.filter((report) => report !== 'monthly-by-city');
  if (daily.length) jobs.push({ job: 'daily', reports: daily, cron: config.schedule.daily, on_calendar: cronToOnCalendar(config.schedule.daily), next_run: nextCronTime(config.schedule.daily, context.now).toISOString() });
  if (reports.includes('monthly-by-city')) {
    jobs.push({ job: 'monthly', reports: ['monthly-by-city'], cron: config.schedule.monthly, on_calendar: cronToOnCalendar(config.schedule.monthly), next_run: nextCronTime(config.schedule.monthly, context.now).toISOString() });
  }
  const args = [node, bin, '--home', home, 'run', '--partner', partner, ...(options.config ? ['--config', options.config] : [])];
  // In crontab a bare % ends the command: escape it.
  const command = args.map(shellQuote).join(' ').replace(/%/g, '\\%');
  const describeJob = (job: ScheduledJob): string =>
    job.job === 'daily'
      ? `# daily at ${job.cron} (São Paulo): yesterday's ${job.reports.join(', ')}${reports.includes('monthly-by-city') ? ', and from the 1st last month\'s monthly-by-city until it is delivered' : ''}`
      : `# monthly at ${job.cron} (São Paulo): last month's monthly-by-city, a second chance should the daily job have failed (already delivered means nothing is sent again)`;

  const crontab = [
    `# dataprod: ${config.display_name} (${partner}); times are ${BUSINESS_TIME_ZONE}.`,
    '# Install: run `crontab -e` and add these lines below what is already there.',
    '# No flock needed: a run that finds the partner locked exits 75 and the next tick catches up.',
    '# cronie (RHEL, Fedora, Arch) honours CRON_TZ; where `man 5 crontab` does not list it, cron uses the',
    '# system time zone: use the systemd timer below instead, or run the host in America/Sao_Paulo.',
    `CRON_TZ=${BUSINESS_TIME_ZONE}`,
    ...jobs.flatMap((job) => [describeJob(job), `${job.cron} ${command} >> ${shellQuote(logFile).replace(/%/g, '\\%')} 2>&1`]),
    '',
  ].join('\n');

  const unit = `dataprod-${partner}`;
  const systemdLog = systemdLogPath(home, partner);
  const service = [
    `# ~/.config/systemd/user/${unit}.service (or /etc/systemd/system/ with User=)`,
    '[Unit]',
    `Description=dataprod scheduled run for ${config.display_name}`,
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${args.map(systemdQuote).join(' ')}`,
    '# 75: another run holds the partner lock; the next tick tries again.',
    'SuccessExitStatus=75',
    `StandardOutput=append:${systemdLog}`,
    `StandardError=append:${systemdLog}`,
    '# SIGTERM stops the run cleanly (nothing partial left behind, recorded as interrupted).',
    'KillSignal=SIGTERM',
    'TimeoutStopSec=120',
    '# On a host without a keychain, secrets can come from systemd credentials:',
    `#LoadCredential=${partner}-sftp-private-key:/etc/dataprod/${partner}-sftp-private-key`,
    '',
  ].join('\n');
  const timer = [
    `# ~/.config/systemd/user/${unit}.timer`,
    '# Enable: systemctl --user daemon-reload && systemctl --user enable --now ' + `${unit}.timer`,
    '# (and loginctl enable-linger $USER so it runs while nobody is logged in)',
    '# Check: systemctl --user list-timers; systemd-analyze calendar "<OnCalendar value>"',
    '[Unit]',
    `Description=dataprod daily and monthly runs for ${config.display_name} (${BUSINESS_TIME_ZONE})`,
    '',
    '[Timer]',
    ...jobs.flatMap((job) => job.on_calendar.map((calendar) => `OnCalendar=${calendar}`)),
    '# A run missed while the machine was off happens at the next boot.',
    'Persistent=true',
    `Unit=${unit}.service`,
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');

  const result: ScheduleResult = {
    partner,
    time_zone: BUSINESS_TIME_ZONE,
    node,
    bin,
    home,
    log_file: logFile,
    jobs,
    crontab,
    systemd: { service: { name: `${unit}.service`, content: service }, timer: { name: `${unit}.timer`, content: timer } },
  };
  const next = jobs.map((job) => `# next ${job.job} run: ${formatLocalTime(job.next_run)} (São Paulo)`).join('\n');
  const text = [crontab, next, '', `# ----- ${unit}.service -----`, service, `# ----- ${unit}.timer -----`, timer].join('\n');
  return { data: result, text };
}
