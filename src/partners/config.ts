import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { destinationOptions, emailOptions, localOptions } from '../connectors/options.js';
import { ConfigError } from '../errors.js';
import { DEFAULT_LOCALE, partnerLocales } from '../notify/locale.js';
import { PARQUET_COMPRESSIONS } from '../render/parquet.js';
import { describeUnknownKey, findUnknownKeys } from './unknown-keys.js';

const email = z.string().regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'an e-mail address');

const reportFormats = z.array(z.enum(['csv', 'parquet', 'json', 'xlsx'])).min(1);

/** The partner configuration: a new partner is a new file, not new code. */
export const partnerConfigSchema = z
  .object({
    /** Identifier used in paths, secrets and ledgers. */
    partner: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    /** Name shown in e-mails and reports. */
    display_name: z.string().min(1),
    /** Language and formats of everything the partner reads (e-mail, insights, dictionary). */
    locale: z.enum(partnerLocales).default(DEFAULT_LOCALE),
    /** Which products are the partner's: by brand (and optionally manufacturer). */
    products: z.object({
      brands: z.array(z.string().min(1)).min(1),
      manufacturer: z.string().optional(),
    }),
    /** Segments the partner competes in (shares are computed within them). */
    segments: z.array(z.string().min(1)).min(1),
    reports: z
      .object({
        'daily-analytic': z.object({ enabled: z.boolean().default(true), formats: reportFormats.default(['csv', 'parquet']) }).optional(),
        'monthly-by-city': z.object({ enabled: z.boolean().default(true), formats: reportFormats.default(['csv', 'parquet']) }).optional(),
      })
      .refine((reports) => Object.keys(reports).length > 0, 'at least one report'),
    /** How files are rendered: CSV for Brazilian Excel uses ';' and a decimal comma. */
    render: z
      .object({
        csv: z
          .object({
            delimiter: z.string().length(1).default(';'),
            decimal_mark: z.enum([',', '.']).default(','),
            /** A UTF-8 byte-order mark so Excel opens accents correctly. */
            bom: z.boolean().default(true),
          })
          .default({ delimiter: ';', decimal_mark: ',', bom: true }),
        /** Parquet codec: snappy (default) is read everywhere, Power BI included; zstd is smaller. */
        parquet: z.object({ compression: z.enum(PARQUET_COMPRESSIONS).default('snappy') }).default({ compression: 'snappy' }),
      })
      .default({ csv: { delimiter: ';', decimal_mark: ',', bom: true }, parquet: { compression: 'snappy' } }),
    privacy: z.object({
      /** Minimum distinct customers behind a shared cell (k-anonymity); below 5 is refused. */
      k: z.number().int().min(5, 'k below 5 is not a safe suppression threshold').default(11),
      /** Name of the secret keying the HMAC pseudonyms (order_key, customer_key). */
      pseudonymization_secret: z.string().default('pseudonym-key'),
    }),
    notifications: z.object({
      /** How e-mails go out: an SMTP server, or a local directory of .eml files. */
      channel: z.discriminatedUnion('type', [emailOptions, localOptions]).optional(),
      /** The partner's people told after every update. */
      partner_recipients: z.array(email).default([]),
      /** The data team alerted on any failure. */
      data_team_recipients: z.array(email).min(1),
      /** A repeated failure re-alerts at most this often (hours), with a count. */
      reminder_hours: z.number().positive().default(24),
    }),
    destinations: z.array(destinationOptions).default([]),
    quality: z
      .object({
        /** Block delivery when a table's quarantine rate exceeds this. */
        max_quarantine_rate: z.number().min(0).max(1).default(0.05),
        /** Volume and revenue must stay within ±band of the trailing same-weekday median. */
        anomaly_band: z.number().positive().default(0.5),
        /** Same weekdays of history needed before the anomaly check applies. */
        anomaly_min_history: z.number().int().min(1).default(3),
        /** Anomaly: `block` delivery, or only `warn`. */
        anomaly_action: z.enum(['block', 'warn']).default('block'),
      })
      .default({ max_quarantine_rate: 0.05, anomaly_band: 0.5, anomaly_min_history: 3, anomaly_action: 'block' }),
    schedule: z
      .object({
        daily: z.string().default('30 6 * * *'),
        monthly: z.string().default('0 7 1 * *'),
      })
      .default({ daily: '30 6 * * *', monthly: '0 7 1 * *' }),
    /** OpenLineage: events always go to <home>/_meta/lineage/events.jsonl; also POSTed here when set (else $DATAPROD_LINEAGE_URL). */
    lineage: z
      .object({
        /** e.g. http://marquez.internal:5000/api/v1/lineage */
        endpoint: z.string().url().optional(),
      })
      .optional(),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.destinations.forEach((destination, index) => {
      if (seen.has(destination.name)) ctx.addIssue({ code: 'custom', path: ['destinations', index, 'name'], message: `duplicate destination name ${destination.name}` });
      seen.add(destination.name);
      if (destination.type === 'sftp' && destination.auth === 'password' && !destination.password_secret) {
        ctx.addIssue({ code: 'custom', path: ['destinations', index, 'password_secret'], message: 'auth: password needs password_secret' });
      }
    });
  });

export type PartnerConfig = z.infer<typeof partnerConfigSchema>;
export type ReportName = 'daily-analytic' | 'monthly-by-city';

/** Folder of the partner files shipped with the tool. */
export const bundledPartnersDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'partners');

/** Where a partner's file may be: <home>/partners (written by `init`), then the bundled ones. */
export function partnerConfigCandidates(home: string, partner: string): string[] {
  return [join(home, 'partners', `${partner}.yaml`), join(bundledPartnersDir, `${partner}.yaml`)];
}

export function listPartners(home: string): string[] {
  const names = new Set<string>();
  for (const dir of [join(home, 'partners'), bundledPartnersDir]) {
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir)) if (file.endsWith('.yaml')) names.add(file.slice(0, -5));
  }
  return [...names].sort();
}

export interface LoadedPartnerConfig {
  config: PartnerConfig;
  /** The file it came from. */
  file: string;
}

/** Finds and validates a partner's configuration; `file` overrides the lookup. */
export function readPartnerConfig(home: string, partner: string, file?: string): LoadedPartnerConfig {
  const candidates = file ? [resolve(file)] : partnerConfigCandidates(home, partner);
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) {
    const known = listPartners(home);
    throw new ConfigError(`no configuration for partner "${partner}" (looked in ${candidates.join(', ')})`, {
      hint: known.length ? `known partners: ${known.join(', ')}; or create one with: dataprod init --partner ${partner}` : `create one with: dataprod init --partner ${partner}`,
    });
  }
  let text: string;
  try {
    text = readFileSync(found, 'utf8');
  } catch (error) {
    // A directory given as --config (EISDIR), an unreadable file: configuration, not a bug.
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(`cannot read the partner configuration ${found}: ${code === 'EISDIR' ? 'it is a directory' : (error as Error).message.split('\n')[0]}`, {
      cause: error,
      hint: 'give the path of the partner YAML file itself',
    });
  }
  const config = parsePartnerConfig(text, found);
  if (!file && config.partner !== partner) {
    throw new ConfigError(`${found}: partner: is "${config.partner}" but the file is named for "${partner}"`, { hint: 'make the file name and the partner field agree' });
  }
  return { config, file: found };
}

/** Parses YAML and validates it, reporting every problem at once with its field path. */
export function parsePartnerConfig(text: string, file: string): PartnerConfig {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    const first = document.errors[0]!;
    throw new ConfigError(`${file}: invalid YAML: ${first.message.split('\n')[0]}`, { hint: 'fix the YAML syntax at the position shown' });
  }
  let value: unknown;
  try {
    // The yaml library caps alias expansion (an "alias bomb" of nested anchors) and throws.
    value = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new ConfigError(`${file}: invalid YAML: ${(error as Error).message.split('\n')[0]}`, { cause: error, hint: 'write the values out instead of nesting anchors and aliases' });
  }
  const result = partnerConfigSchema.safeParse(value);
  const unknown = findUnknownKeys(partnerConfigSchema, value).map((key) => describeUnknownKey(key, formatPath));
  if (result.success && unknown.length === 0) return result.data;
  const problems = [...(result.success ? [] : result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`)), ...unknown];
  throw new ConfigError(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems.join('; ')}`, {
    hint: 'fix the fields named; `dataprod init` can rewrite the file',
  });
}

function formatPath(path: PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`)).join('');
}

/** The partner's enabled reports in a stable order. */
export function enabledReports(config: PartnerConfig): ReportName[] {
  return (['daily-analytic', 'monthly-by-city'] as const).filter((name) => config.reports[name]?.enabled !== false && config.reports[name] !== undefined);
}
