import type { Notification } from '../connectors/types.js';
import type { PartnerConfig } from '../partners/config.js';
import { EXIT_CODE_MEANINGS, escapeHtml, htmlDocument, htmlFacts, htmlTable, plain } from './format.js';

/**
 * The data team's e-mail when a run fails (alert), keeps failing (reminder, with a
 * count) or works again (recovery): what failed, in which stage, the error, the run id
 * and what to do. Deciding which of the three to send belongs to the alert policy in
 * src/ops; this only writes the message.
 */

/** A failed (or warning) check, as quality gates report them; only `name` is required. */
export interface AlertCheck {
  name: string;
  /** error (blocks delivery) or warning (soft check). */
  severity?: string;
  /** One line on what was found. */
  detail?: string;
  message?: string;
  /** The observed figure and the limit it broke, when the check has them. */
  value?: unknown;
  threshold?: unknown;
}

export interface AlertEmailInput {
  config: PartnerConfig;
  runId: string;
  /** The stage that failed (extract, clean, build, quality, deliver, notify, ...). */
  stage: string;
  error: { message: string; hint?: string; exitCode?: number };
  failedChecks?: AlertCheck[];
  kind: 'alert' | 'reminder' | 'recovery';
  /** Consecutive failed runs (reminder), or how many failed before this recovery. */
  count?: number;
  /** When the failure started (ISO time or date). */
  since?: string;
}

function shorten(text: string, length: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > length ? `${line.slice(0, length - 3)}...` : line;
}

function figure(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Builds the alert, reminder or recovery e-mail to the data team. */
export function buildAlertEmail(input: AlertEmailInput): Notification {
  const { config, runId, stage, error, failedChecks = [], kind, count, since } = input;
  const partner = config.partner;
  const exit = error.exitCode !== undefined ? `exit ${error.exitCode}${EXIT_CODE_MEANINGS[error.exitCode] ? `, ${EXIT_CODE_MEANINGS[error.exitCode]}` : ''}` : undefined;
  const runs = count !== undefined ? `${count} consecutive failed run${count === 1 ? '' : 's'}` : undefined;
  let subject: string;
  let lead: string;
  if (kind === 'alert') {
    subject = `[dataprod] FAILED ${partner}: ${stage}${error.exitCode !== undefined ? ` (exit ${error.exitCode})` : ''}: ${shorten(error.message, 90)}`;
    lead = `The ${stage} stage of the ${partner} run failed.`;
  } else if (kind === 'reminder') {
    subject = `[dataprod] STILL FAILING ${partner}: ${stage}${runs ? `, ${runs}` : ''}${since ? ` since ${since}` : ''}`;
    lead = `The ${stage} stage of the ${partner} run is still failing${runs ? `: ${runs}` : ''}${since ? ` since ${since}` : ''}. This is a reminder, not a new failure.`;
  } else {
    subject = `[dataprod] RECOVERED ${partner}: ${stage} works again`;
    lead = `The ${stage} stage of the ${partner} run succeeded again${runs ? ` after ${runs}` : ''}${since ? ` (failing since ${since})` : ''}. The last failure was:`;
  }
  const facts: [string, string][] = [
    ['Partner', `${config.display_name} (${partner})`],
    ['Stage', stage],
    ['Run id', runId],
    [kind === 'recovery' ? 'Last error' : 'Error', error.message],
  ];
  if (exit) facts.push(['Exit code', exit]);
  if (kind !== 'recovery' && error.hint) facts.push(['What to do', error.hint]);
  if (runs && kind !== 'alert') facts.push(['Consecutive failures', String(count)]);
  if (since) facts.push([kind === 'recovery' ? 'Failing since' : 'Since', since]);

  const checkRows = failedChecks.map((check) => [check.name, check.severity ?? 'error', check.detail ?? check.message ?? '', figure(check.value), figure(check.threshold)]);
  const text = [
    lead,
    '',
    ...facts.map(([label, value]) => `${label}: ${value}`),
    ...(checkRows.length
      ? ['', kind === 'recovery' ? 'Checks that had failed:' : 'Failed checks:', ...checkRows.map(([name, severity, detail, value, threshold]) => `  - ${name} [${severity}]${detail ? `: ${detail}` : ''}${value ? ` (value ${value}${threshold ? `, limit ${threshold}` : ''})` : ''}`)]
      : []),
    '',
    `Details: dataprod runs --partner ${partner}, and the log of run ${runId} under <home>/_meta/logs/.`,
    '',
  ].join('\n');

  const html = htmlDocument(
    subject,
    [
      `<p>${escapeHtml(lead)}</p>`,
      htmlFacts(facts),
      checkRows.length ? `<p><strong>${kind === 'recovery' ? 'Checks that had failed' : 'Failed checks'}</strong></p>${htmlTable(['Check', 'Severity', 'Detail', 'Value', 'Limit'], checkRows)}` : '',
      `<p style="color: #666; font-size: 12px;">Details: <code>dataprod runs --partner ${escapeHtml(partner)}</code>, and the log of run ${escapeHtml(runId)} under &lt;home&gt;/_meta/logs/.</p>`,
    ]
      .filter(Boolean)
      .join('\n'),
  );

  return { kind, to: [...config.notifications.data_team_recipients], subject: plain(subject), text: plain(text), html };
}
