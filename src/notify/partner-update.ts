import type { Logger } from 'winston';
import type { Connector, DeliveryReceipt } from '../connectors/types.js';
import { toDataprodError } from '../errors.js';
import { redact } from '../log.js';
import type { PartnerConfig } from '../partners/config.js';
import type { DeliveryRecord } from '../records/run-store.js';
import type { OutboxPackage } from '../render/package.js';
import { buildUpdateEmail, type DeliveryFailure } from './update-email.js';

/**
 * The notify stage's one job for the partner: after every delivery of a run, one e-mail
 * for all the packages delivered, naming the destinations that failed. A failed e-mail
 * is logged and recorded; it never undoes a delivery.
 */

export interface PartnerUpdateInput {
  config: PartnerConfig;
  /** Packages delivered to at least one destination in this run, in build order. */
  packages: OutboxPackage[];
  /** Every receipt of those deliveries. */
  receipts: DeliveryReceipt[];
  /** The run's delivery records so far: the failed ones are named in the e-mail. */
  deliveries: readonly DeliveryRecord[];
  /** The notification channel, or undefined when none is enabled. */
  channel: Connector | undefined;
  runId: string;
  sandbox: boolean;
  logger: Logger;
}

export interface PartnerUpdateResult {
  /** Delivery records to append (one per package for the e-mail), empty when nothing was sent or tried. */
  records: DeliveryRecord[];
  warnings: string[];
}

/** The failed deliveries of these packages, as the e-mail names them. */
export function failuresOf(packages: OutboxPackage[], deliveries: readonly DeliveryRecord[]): DeliveryFailure[] {
  const keys = new Set(packages.map((pkg) => `${pkg.manifest.report}/${pkg.manifest.period}`));
  return deliveries
    .filter((item) => item.status === 'failed' && keys.has(`${item.report}/${item.period}`))
    .map((item) => ({ destination: item.destination, type: item.type, report: item.report, period: item.period, reason: (item.detail ?? 'not delivered').split(' (')[0]! }));
}

/** Sends the run's one partner e-mail. */
export async function sendPartnerUpdate(input: PartnerUpdateInput): Promise<PartnerUpdateResult> {
  const { config, packages, channel, logger } = input;
  if (packages.length === 0 || config.notifications.partner_recipients.length === 0) return { records: [], warnings: [] };
  if (!channel) {
    logger.warn(`no notification channel is enabled for ${config.partner}: the partner was not e-mailed`);
    return { records: [], warnings: ['no notification channel is enabled: the partner was not e-mailed'] };
  }
  const message = buildUpdateEmail({ config, packages, receipts: input.receipts, failures: failuresOf(packages, input.deliveries), runId: input.runId, sandbox: input.sandbox });
  const base = (pkg: OutboxPackage) => ({ destination: channel.name, type: channel.type, report: pkg.manifest.report, period: pkg.manifest.period, files: 0, bytes: 0, retries: 0 });
  try {
    await channel.notify!(message);
    logger.info(`e-mailed ${message.to.join(', ')}: ${message.subject}`);
    return { records: packages.map((pkg) => ({ ...base(pkg), status: 'delivered' as const, detail: `one notification for the run to ${message.to.length} recipient(s)` })), warnings: [] };
  } catch (error) {
    const typed = toDataprodError(error);
    logger.error(`the partner e-mail was not sent: ${typed.message} (the deliveries stand)`);
    return {
      records: packages.map((pkg) => ({ ...base(pkg), status: 'failed' as const, detail: redact(`notification not sent: ${typed.message}`) })),
      warnings: [`the partner e-mail was not sent: ${typed.message}`],
    };
  }
}
