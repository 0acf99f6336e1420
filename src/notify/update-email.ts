import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeliveryReceipt, Notification } from '../connectors/types.js';
import type { OutboxPackage } from '../render/package.js';
import type { PartnerConfig } from '../partners/config.js';
import { escapeHtml, plain } from './format.js';
import { INSIGHTS_JSON, describeChanges, headlineRows, insightCharts, packageTitle, svgToPng, type Chart, type Insights } from './insights/index.js';
import { localeFormat, type LocaleFormat } from './locale.js';
import { messagesFor, type Messages } from './messages/index.js';

/**
 * The partner's one e-mail per run, sent after every delivery: headline figures with
 * their change, two or three charts as inline PNG, "o que mudou" in plain sentences,
 * where each package went and which destination did not get it, the privacy merging in
 * one sentence, and the checksums as a footnote. In the partner's locale, with a
 * plain-text part saying the same. Aggregates and file facts only: no personal data.
 */

/** A destination that should have received a package and did not. */
export interface DeliveryFailure {
  destination: string;
  type: string;
  report: string;
  period: string;
  /** Why, in one line (the connector's message). */
  reason: string;
}

export interface UpdateEmailInput {
  config: PartnerConfig;
  /** The packages delivered in this run (to at least one destination). */
  packages: OutboxPackage[];
  /** What each destination reported (files, location); matched to packages by file name. */
  receipts: DeliveryReceipt[];
  /** Deliveries of these packages that failed. */
  failures?: DeliveryFailure[];
  runId: string;
  /** Marks subject and body [sandbox]. */
  sandbox?: boolean;
}

const MAX_CHARTS = 3;

/** Receipts that carried this package: by file name (API batches are named after the package too). */
function receiptsFor(pkg: OutboxPackage, receipts: DeliveryReceipt[], onlyPackage: boolean): DeliveryReceipt[] {
  if (onlyPackage) return receipts;
  const { partner, report, period } = pkg.manifest;
  const stem = `${partner}_${report}_${period}`;
  const names = new Set(pkg.manifest.files.map((file) => file.name));
  return receipts.filter((receipt) => receipt.files.some((file) => names.has(file.name) || file.name.startsWith(stem)) || (receipt.location.includes(`/${report}/`) && receipt.location.includes(period)));
}

interface Attachments {
  attached: { filename: string; path: string; bytes: number }[];
  skipped: { filename: string; bytes: number }[];
}

/** Data files to attach when the channel allows it, within its size cap (off by default). */
function chooseAttachments(config: PartnerConfig, packages: OutboxPackage[]): Attachments {
  const channel = config.notifications.channel;
  const result: Attachments = { attached: [], skipped: [] };
  if (!channel || channel.type !== 'email' || !channel.attachments) return result;
  let total = 0;
  for (const pkg of packages) {
    for (const file of pkg.manifest.files) {
      if (total + file.bytes > channel.attachment_max_bytes) {
        result.skipped.push({ filename: file.name, bytes: file.bytes });
        continue;
      }
      total += file.bytes;
      result.attached.push({ filename: file.name, path: join(pkg.dir, file.name), bytes: file.bytes });
    }
  }
  return result;
}

/** The package's insights.json, when the package has one (packages built before insights existed do not). */
function readInsights(pkg: OutboxPackage): Insights | null {
  const path = join(pkg.dir, INSIGHTS_JSON);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Insights;
  } catch {
    return null;
  }
}

/** Dates in the subject: "01/12/2026" or "02/12/2026 e novembro de 2026". */
function periodList(packages: OutboxPackage[], fmt: LocaleFormat): string {
  const labels = [...new Set(packages.map((pkg) => fmt.period(pkg.manifest.period)))];
  return new Intl.ListFormat(fmt.locale, { style: 'long', type: 'conjunction' }).format(labels);
}

/** Up to three charts for the message: the first package's units and share, then cities or states. */
function chooseCharts(items: { insights: Insights | null }[], fmt: LocaleFormat, msgs: Messages): Chart[] {
  const all = items.flatMap((item, index) => (item.insights ? insightCharts(item.insights, fmt, msgs).map((chart) => ({ ...chart, id: `${chart.id}-${index}` })) : []));
  const chosen: Chart[] = [];
  for (const prefix of ['units-trend', 'segment-share']) {
    const chart = all.find((candidate) => candidate.id.startsWith(prefix));
    if (chart) chosen.push(chart);
  }
  // States (monthly) tell more than a day's cities.
  const places = all.filter((candidate) => candidate.id.startsWith('places'));
  const place = places.find((candidate) => candidate.title === msgs.chart.states) ?? places[0];
  if (place) chosen.push(place);
  return chosen.slice(0, MAX_CHARTS);
}

const CELL = 'border:1px solid #e4e7eb;padding:5px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere;word-break:break-word;';
const NUM = 'border:1px solid #e4e7eb;padding:5px 8px;text-align:right;vertical-align:top;';

function htmlTable(headers: string[], rows: string[][], numeric: boolean[] = [], extra = ''): string {
  const head = headers.map((header, index) => `<th style="${numeric[index] ? NUM : CELL}background:#fbf3ee;">${escapeHtml(header)}</th>`).join('');
  const body = rows.map((row) => `<tr>${row.map((cell, index) => `<td style="${numeric[index] ? NUM : CELL}">${escapeHtml(cell)}</td>`).join('')}</tr>`).join('\n');
  return `<table role="presentation" style="border-collapse:collapse;width:100%;margin:8px 0;${extra}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** Builds the run's one update e-mail to the partner's recipients (charts rendered to PNG here). */
export function buildUpdateEmail(input: UpdateEmailInput): Notification {
  const { config, packages, receipts, runId } = input;
  const fmt = localeFormat(config.locale);
  const msgs = messagesFor(config.locale);
  const name = config.display_name;
  const tag = input.sandbox ? `${msgs.sandboxTag} ` : '';
  const subject = plain(`${tag}${name} · ${msgs.subjectUpdated(periodList(packages, fmt))}`);
  const attachments = chooseAttachments(config, packages);
  const items = packages.map((pkg) => ({
    pkg,
    insights: readInsights(pkg),
    title: packageTitle(pkg.manifest.report, pkg.manifest.period, fmt, msgs),
    delivered: receiptsFor(pkg, receipts, packages.length === 1),
    failed: (input.failures ?? []).filter((failure) => failure.report === pkg.manifest.report && failure.period === pkg.manifest.period),
  }));
  const charts = chooseCharts(items, fmt, msgs);
  const inline = charts.map((chart) => ({ cid: `${chart.id}@dataprod`, filename: `${chart.id}.png`, contentType: 'image/png', content: svgToPng(chart.svg), title: chart.title }));

  const text: string[] = [`${tag}${msgs.greeting(name)}`, '', msgs.intro(packages.length)];
  const html: string[] = [
    `<h1 style="font-size:20px;margin:0 0 8px;">${escapeHtml(`${tag}${name} · ${msgs.subjectUpdated(periodList(packages, fmt))}`)}</h1>`,
    `<p>${escapeHtml(msgs.greeting(name))}<br>${escapeHtml(msgs.intro(packages.length))}</p>`,
  ];

  for (const item of items) {
    const { insights } = item;
    text.push('', item.title.toUpperCase());
    html.push(`<h2 style="font-size:17px;margin:20px 0 6px;border-bottom:2px solid #c2410c;padding-bottom:3px;">${escapeHtml(item.title)}</h2>`);
    if (insights) {
      const kind = insights.period_kind;
      const rows = headlineRows(insights, fmt, msgs);
      for (const row of rows) text.push(`  ${row.label}: ${row.value} (${row.previous} ${msgs.vsPrevious[kind]}; ${row.before} ${msgs.vsBefore[insights.compared.before_kind]})`);
      html.push(
        htmlTable(
          [msgs.columns.figure, msgs.columns.value, msgs.vsPrevious[kind], msgs.vsBefore[insights.compared.before_kind]],
          rows.map((row) => [row.label, row.value, row.previous, row.before]),
          [false, true, true, true],
        ),
      );
      const sentences = describeChanges(insights, fmt, msgs);
      text.push('', `  ${msgs.whatChanged}:`, ...sentences.map((sentence) => `  - ${sentence}`));
      html.push(`<p style="margin:10px 0 2px;font-weight:bold;">${escapeHtml(msgs.whatChanged)}</p><ul style="margin:2px 0 8px;padding-left:20px;">${sentences.map((sentence) => `<li>${escapeHtml(sentence)}</li>`).join('')}</ul>`);
      if (insights.coverage.days_present < insights.coverage.days_expected) {
        const note = msgs.partialPeriod(insights.coverage.days_present, insights.coverage.days_expected);
        text.push(`  ${note}`);
        html.push(`<p><strong>${escapeHtml(note)}</strong></p>`);
      }
    } else {
      const summary = item.pkg.manifest.summary;
      const facts: [string, string][] = [
        [msgs.metric.units, fmt.integer(summary.units)],
        [msgs.metric.revenue, fmt.money(summary.revenue)],
      ];
      for (const [label, value] of facts) text.push(`  ${label}: ${value}`);
      html.push(htmlTable([msgs.columns.figure, msgs.columns.value], facts, [false, true]));
    }
    // Where it went, and where it did not.
    text.push('', `  ${msgs.sections.delivery}:`);
    const lines: { text: string; failed: boolean }[] = [
      ...item.delivered.map((receipt) => ({ text: msgs.delivered(receipt.destination, receipt.type, receipt.location), failed: false })),
      ...item.failed.map((failure) => ({ text: msgs.notDelivered(failure.destination, failure.type, failure.reason), failed: true })),
    ];
    if (lines.length === 0) lines.push({ text: msgs.noDestination, failed: true });
    for (const line of lines) text.push(`  - ${line.text}`);
    html.push(`<p style="margin:10px 0 2px;font-weight:bold;">${escapeHtml(msgs.sections.delivery)}</p><ul style="margin:2px 0 8px;padding-left:20px;">${lines.map((line) => `<li style="overflow-wrap:anywhere;word-break:break-word;${line.failed ? 'color:#b42318;font-weight:bold;' : ''}">${escapeHtml(line.text)}</li>`).join('')}</ul>`);
  }

  if (inline.length > 0) {
    html.push(...inline.map((image) => `<div data-chart="${escapeHtml(image.filename)}" style="margin:12px 0;border:1px solid #e4e7eb;"><img src="cid:${escapeHtml(image.cid)}" alt="${escapeHtml(image.title)}" width="600" style="display:block;width:100%;max-width:600px;height:auto;"></div>`));
    text.push('', ...inline.map((image) => `[${image.title}: ${image.filename}]`));
  }

  // Privacy in one sentence: the monthly merges cells; the daily only pseudonymises.
  const monthly = items.find((item) => item.pkg.manifest.report === 'monthly-by-city');
  const summary = monthly?.pkg.manifest.summary;
  const privacy = monthly
    ? msgs.privacySentence(config.privacy.k, fmt.integer(summary?.cells_merged ?? 0), fmt.integer(summary?.cells_suppressed ?? 0))
    : msgs.privacyDaily(config.privacy.k);
  text.push('', `${msgs.sections.privacy}: ${privacy}`, '', msgs.insightsNote);
  html.push(`<p><strong>${escapeHtml(msgs.sections.privacy)}:</strong> ${escapeHtml(privacy)}</p>`, `<p>${escapeHtml(msgs.insightsNote)}</p>`);

  if (attachments.attached.length > 0 || attachments.skipped.length > 0) {
    const lines = [
      attachments.attached.length ? msgs.attachedFiles(attachments.attached.map((file) => file.filename).join(', ')) : '',
      attachments.skipped.length ? msgs.notAttached(attachments.skipped.map((file) => `${file.filename} (${fmt.bytes(file.bytes)})`).join(', ')) : '',
    ].filter(Boolean);
    text.push('', ...lines);
    html.push(...lines.map((line) => `<p>${escapeHtml(line)}</p>`));
  }

  // Footnote: checksums, small, after everything a person reads first.
  text.push('', `${msgs.sections.files}`, msgs.checksumsNote);
  html.push(`<h3 style="font-size:13px;margin:24px 0 4px;color:#616e7c;">${escapeHtml(msgs.sections.files)}</h3><p style="font-size:12px;color:#616e7c;margin:0;">${escapeHtml(msgs.checksumsNote)}</p>`);
  for (const item of items) {
    text.push(`  ${item.title}`);
    for (const file of item.pkg.manifest.files) text.push(`    ${file.name}  ${fmt.bytes(file.bytes)}  ${file.sha256}`);
    html.push(
      htmlTable(
        [msgs.columns.file, msgs.columns.size, 'SHA-256'],
        item.pkg.manifest.files.map((file) => [file.name, fmt.bytes(file.bytes), file.sha256]),
        [false, true, false],
        'font-size:11px;color:#616e7c;table-layout:fixed;',
      ),
    );
  }
  const footer = msgs.footer(runId);
  text.push('', footer, '');
  html.push(`<p style="color:#616e7c;font-size:12px;">${escapeHtml(footer)}</p>`);

  return {
    kind: 'update',
    to: [...config.notifications.partner_recipients],
    subject,
    text: plain(text.join('\n')),
    html: emailDocument(subject, html.join('\n'), fmt.locale),
    ...(inline.length > 0 ? { inline: inline.map(({ cid, filename, contentType, content }) => ({ cid, filename, contentType, content })) } : {}),
    ...(attachments.attached.length > 0 ? { attachments: attachments.attached.map(({ filename, path }) => ({ filename, path })) } : {}),
  };
}

/** A mail-client-friendly document: inline styles, one 640 px column that shrinks on phones. */
function emailDocument(title: string, body: string, locale: string): string {
  return [
    '<!doctype html>',
    `<html lang="${locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${escapeHtml(title)}</title></head>`,
    '<body style="margin:0;padding:0;background:#f5f7fa;">',
    '<div style="max-width:640px;margin:0 auto;padding:16px;background:#ffffff;font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#1f2933;line-height:1.45;">',
    body,
    '</div></body></html>',
  ].join('\n');
}
