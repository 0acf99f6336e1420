import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PackageFile } from '../../render/package.js';
import type { DuckSession } from '../../lake/duckdb.js';
import type { PartnerConfig, ReportName } from '../../partners/config.js';
import { hashFile } from '../../render/manifest.js';
import type { ReportColumn } from '../../reports/types.js';
import { localeFormat } from '../locale.js';
import { messagesFor } from '../messages/index.js';
import { computeInsights, type Insights } from './compute.js';
import { buildDictionary } from './dictionary.js';
import { describeChanges, packageTitle, renderInsightsPage } from './present.js';

export { computeInsights, comparisonPeriods, trendPeriods, type Insights, type Metric, type RankedItem, type SegmentInsight } from './compute.js';
export { buildDictionary, type Dictionary, type DictionaryEntry } from './dictionary.js';
export { describeChanges, headlineRows, insightCharts, packageTitle, renderInsightsPage, type Chart } from './present.js';
export { barChart, columnChart, lineChart, svgToPng, chartFontFiles } from './charts.js';

/** Names of the documents every package carries beside its data files. */
export const INSIGHTS_JSON = 'insights.json';
export const INSIGHTS_HTML = 'insights.html';
export const DICTIONARY_JSON = 'dictionary.json';

export interface PackageDocumentsInput {
  duck: DuckSession;
  home: string;
  config: PartnerConfig;
  report: ReportName;
  period: string;
  gold: string;
  columns: readonly ReportColumn[];
  summary: Record<string, number | string | null>;
}

/** What insights.json holds: the figures, plus the sentences and title in the partner's locale. */
export interface InsightsDocument extends Insights {
  locale: string;
  title: string;
  highlights: string[];
}

/**
 * Writes insights.json, insights.html and dictionary.json into a package directory that
 * is still temporary, and returns their manifest entries. The content depends only on the
 * data (no clock), so an unchanged period renders identical bytes.
 */
export async function writePackageDocuments(dir: string, input: PackageDocumentsInput): Promise<PackageFile[]> {
  const locale = input.config.locale;
  const fmt = localeFormat(locale);
  const msgs = messagesFor(locale);
  const insights = await computeInsights(input);
  const dictionary = buildDictionary(input.report, input.columns, locale, input.config.privacy.k);
  const document: InsightsDocument = { ...insights, locale, title: packageTitle(input.report, input.period, fmt, msgs), highlights: describeChanges(insights, fmt, msgs) };
  const written: [string, string, string][] = [
    [INSIGHTS_JSON, `${JSON.stringify(document, null, 2)}\n`, 'insights'],
    [INSIGHTS_HTML, renderInsightsPage({ insights, dictionary, displayName: input.config.display_name, fmt, msgs }), 'html'],
    [DICTIONARY_JSON, `${JSON.stringify(dictionary, null, 2)}\n`, 'dictionary'],
  ];
  const files: PackageFile[] = [];
  for (const [name, content, format] of written) {
    const path = join(dir, name);
    await writeFile(path, content);
    files.push({ name, ...(await hashFile(path)), format, rows: 0 });
  }
  return files;
}
