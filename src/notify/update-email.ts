import { join } from 'node:path';
import type { DeliveryReceipt, Notification } from '../connectors/types.js';
import type { OutboxPackage } from '../render/package.js';
import type { PartnerConfig } from '../partners/config.js';
import { escapeHtml, formatBytes, formatInteger, formatMoney, htmlDocument, htmlFacts, htmlTable, plain } from './format.js';

/**
 * The partner's e-mail after an update: which reports and periods, rows, units and
 * revenue, every file with its size and SHA-256, and where each was delivered. It
 * carries aggregates and file facts only: no row of data, so no personal data.
 */

export interface UpdateEmailInput {
  config: PartnerConfig;
  /** The packages delivered in this run. */
  packages: OutboxPackage[];
  /** What each destination reported (files, location); matched to packages by file name. */
  receipts: DeliveryReceipt[];
  runId: string;
}

/** Manifest summary figures worth telling the partner (the rest are reconciliation internals). */
const SUMMARY_FACTS: { key: string; label: string; money?: boolean; onlyIfNonZero?: boolean }[] = [
  { key: 'orders', label: 'Orders' },
  { key: 'customers', label: 'Customers reached' },
  { key: 'cells_merged', label: 'Cells merged for privacy' },
  { key: 'cells_suppressed', label: 'Cells suppressed for privacy' },
  { key: 'suppressed_units', label: 'Units withheld for privacy', onlyIfNonZero: true },
  { key: 'suppressed_revenue', label: 'Revenue withheld for privacy', money: true, onlyIfNonZero: true },
];

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

/** Builds the update e-mail to the partner's recipients. */
export function buildUpdateEmail(input: UpdateEmailInput): Notification {
  const { config, packages, receipts, runId } = input;
  const name = config.display_name;
  const reports = packages.map((pkg) => `${pkg.manifest.report} ${pkg.manifest.period}`);
  const subject = plain(`${name}: ${reports.length > 0 ? reports.join(', ') : 'reports'} ${packages.length === 1 ? 'is' : 'are'} ready`);
  const attachments = chooseAttachments(config, packages);
  const textParts: string[] = [`Hello ${name} team,`, '', `Your data products were updated (${packages.length} report package${packages.length === 1 ? '' : 's'}).`];
  const htmlParts: string[] = [`<p>Hello ${escapeHtml(name)} team,</p>`, `<p>Your data products were updated (${packages.length} report package${packages.length === 1 ? '' : 's'}).</p>`];

  for (const pkg of packages) {
    const { manifest } = pkg;
    const summary = manifest.summary ?? {};
    const facts: [string, string][] = [
      ['Period', manifest.period],
      ['Rows', formatInteger(manifest.rows)],
      ['Units', formatInteger(summary.units)],
      ['Revenue', formatMoney(summary.revenue)],
    ];
    for (const fact of SUMMARY_FACTS) {
      const value = summary[fact.key];
      if (value === null || value === undefined || (fact.onlyIfNonZero && Number(value) === 0)) continue;
      facts.push([fact.label, fact.money ? formatMoney(value) : formatInteger(value)]);
    }
    const delivered = receiptsFor(pkg, receipts, packages.length === 1);
    textParts.push('', `${manifest.report}, period ${manifest.period}`);
    for (const [label, value] of facts) textParts.push(`  ${label}: ${value}`);
    textParts.push('  Files:');
    for (const file of manifest.files) textParts.push(`    ${file.name}  ${formatBytes(file.bytes)}  SHA-256 ${file.sha256}`);
    textParts.push('  Delivered to:');
    if (delivered.length === 0) textParts.push('    (no destination reported this package)');
    for (const receipt of delivered) textParts.push(`    ${receipt.destination} (${receipt.type}): ${receipt.location}`);

    htmlParts.push(`<h3 style="margin: 16px 0 4px;">${escapeHtml(manifest.report)}, period ${escapeHtml(manifest.period)}</h3>`);
    htmlParts.push(htmlFacts(facts));
    htmlParts.push(
      htmlTable(
        ['File', 'Size', 'SHA-256'],
        manifest.files.map((file) => [file.name, formatBytes(file.bytes), file.sha256]),
      ),
    );
    htmlParts.push(
      delivered.length === 0
        ? '<p>No destination reported this package.</p>'
        : htmlTable(
            ['Delivered to', 'Type', 'Where'],
            delivered.map((receipt) => [receipt.destination, receipt.type, receipt.location]),
          ),
    );
  }

  if (attachments.attached.length > 0 || attachments.skipped.length > 0) {
    const attachedLine = attachments.attached.length ? `Attached: ${attachments.attached.map((file) => file.filename).join(', ')}.` : '';
    const skippedLine = attachments.skipped.length ? `Not attached (over the size limit): ${attachments.skipped.map((file) => `${file.filename} (${formatBytes(file.bytes)})`).join(', ')}; fetch them from the destinations above.` : '';
    textParts.push('', ...[attachedLine, skippedLine].filter(Boolean));
    htmlParts.push(...[attachedLine, skippedLine].filter(Boolean).map((line) => `<p>${escapeHtml(line)}</p>`));
  }

  const footer = `Check a file with: sha256sum -c SHA256SUMS. This message carries aggregated figures only. Run ${runId}.`;
  textParts.push('', footer, '');
  htmlParts.push(`<p style="color: #666; font-size: 12px;">${escapeHtml(footer)}</p>`);

  return {
    kind: 'update',
    to: [...config.notifications.partner_recipients],
    subject,
    text: plain(textParts.join('\n')),
    html: htmlDocument(subject, htmlParts.join('\n')),
    ...(attachments.attached.length > 0 ? { attachments: attachments.attached.map(({ filename, path }) => ({ filename, path })) } : {}),
  };
}
