import { alertStatePath } from '../lake/layout.js';
import { readJsonFile, writeJsonFile } from './jsonl.js';

/** The failure a partner is in now, as remembered between runs. */
export interface CurrentFailure {
  fingerprint: string;
  /** When this failure was first seen. */
  since: string;
  /** Consecutive failing runs with this fingerprint. */
  count: number;
  /** Last time the data team was told (alert or reminder). */
  last_notified_at: string;
  last_run_id?: string;
  /** One line for `status`: stage and message of the latest occurrence. */
  summary?: string;
}

export interface AlertState {
  partner: string;
  failing: CurrentFailure | null;
  /** The last failure that recovered, for `status`. */
  last_recovery?: { fingerprint: string; since: string; recovered_at: string; count: number };
}

export type AlertDecision =
  | { action: 'alert'; fingerprint: string; since: string; count: 1; replaces?: string }
  | { action: 'reminder'; fingerprint: string; since: string; count: number }
  | { action: 'recovery'; fingerprint: string; since: string; count: number }
  | { action: 'none'; fingerprint?: string; since?: string; count?: number };

export interface DecideAlertInput {
  /** Did this run fail (or get blocked)? */
  failing: boolean;
  /** What failed, so a different failure alerts again: see failureFingerprint. Ignored when not failing. */
  fingerprint?: string;
  now: Date;
  /** Re-alert a repeated failure at most this often (config.notifications.reminder_hours). Default 24. */
  reminderHours?: number;
  runId?: string;
  /** Stage and message, kept for `status`. */
  summary?: string;
}

export async function readAlertState(home: string, partner: string): Promise<AlertState> {
  return readJsonFile<AlertState>(alertStatePath(home, partner), { partner, failing: null });
}

/**
 * The shape of a failure, stable across runs: the stage, the error class and the message
 * with numbers, quoted values, paths, run ids and times blanked. "SFTP timeout after 20013
 * ms" and "... 20020 ms" are the same failure; a gate failing for another reason is not.
 */
export function failureFingerprint(stage: string, error: { name?: string; message?: string } | string): string {
  const name = typeof error === 'string' ? 'Error' : (error.name ?? 'Error');
  const message = typeof error === 'string' ? error : (error.message ?? '');
  const shape = message
    .replace(/\d{8}T\d{6}Z-[0-9a-f]+/g, '<run>')
    .replace(/\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?/g, '<date>')
    .replace(/"[^"]*"|'[^']*'/g, '<value>')
    .replace(/(?:\/[\w.@%+=:-]+)+\/?/g, '<path>')
    .replace(/\b[0-9a-f]{12,}\b/gi, '<hex>')
    .replace(/\d+(?:[.,]\d+)?/g, '#')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 200);
  return `${stage}|${name}|${shape}`;
}

/**
 * Decides what to tell the data team after a run, and remembers it:
 * - a new failure (or a different one): 'alert';
 * - the same failure again: 'none', or 'reminder' with the count once reminder_hours
 *   have passed since the last message;
 * - a pass after a failure: one 'recovery'; a pass after a pass: 'none'.
 * The state is written before returning, so a crash while sending errs on the side of
 * silence until the next reminder rather than repeating alerts on every tick.
 */
export async function decideAlert(home: string, partner: string, input: DecideAlertInput): Promise<AlertDecision> {
  const state = await readAlertState(home, partner);
  const now = input.now.toISOString();
  const reminderMs = (input.reminderHours ?? 24) * 3_600_000;
  let decision: AlertDecision;
  if (input.failing) {
    const fingerprint = input.fingerprint ?? 'unknown';
    const current = state.failing;
    if (!current || current.fingerprint !== fingerprint) {
      state.failing = { fingerprint, since: now, count: 1, last_notified_at: now, last_run_id: input.runId, summary: input.summary };
      decision = { action: 'alert', fingerprint, since: now, count: 1, ...(current ? { replaces: current.fingerprint } : {}) };
    } else {
      current.count += 1;
      current.last_run_id = input.runId;
      if (input.summary) current.summary = input.summary;
      if (input.now.getTime() - Date.parse(current.last_notified_at) >= reminderMs) {
        current.last_notified_at = now;
        decision = { action: 'reminder', fingerprint, since: current.since, count: current.count };
      } else {
        decision = { action: 'none', fingerprint, since: current.since, count: current.count };
      }
    }
  } else if (state.failing) {
    const { fingerprint, since, count } = state.failing;
    state.last_recovery = { fingerprint, since, recovered_at: now, count };
    state.failing = null;
    decision = { action: 'recovery', fingerprint, since, count };
  } else {
    return { action: 'none' };
  }
  state.partner = partner;
  await writeJsonFile(alertStatePath(home, partner), state);
  return decision;
}
