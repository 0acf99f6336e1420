import { escapeHtml } from '../format.js';
import type { LocaleFormat } from '../locale.js';
import type { Messages } from '../messages/index.js';
import { barChart, columnChart, lineChart } from './charts.js';
import type { Insights, Metric, RankedItem } from './compute.js';
import type { Dictionary } from './dictionary.js';

/**
 * Turns computed insights into what a partner reads: the "o que mudou" sentences, the
 * charts, and the self-contained insights.html page (inline CSS and SVG, no script, no
 * external resource, readable offline).
 */

export interface Chart {
  id: string;
  title: string;
  svg: string;
}

const METRICS = ['units', 'revenue', 'orders', 'customers', 'avg_ticket'] as const;
type MetricName = (typeof METRICS)[number];

function formatMetric(name: MetricName, value: Metric['value'] | null, fmt: LocaleFormat): string {
  if (value === null) return fmt.integer(null);
  return name === 'revenue' || name === 'avg_ticket' ? fmt.money(value) : fmt.integer(value);
}

function againstPrevious(insights: Insights, msgs: Messages): string {
  return insights.period_kind === 'day' ? msgs.against.previousDay : msgs.against.previousMonth;
}

function againstBefore(insights: Insights, msgs: Messages): string {
  return insights.compared.before_kind === 'month' ? msgs.against.monthBefore : msgs.against.yearBefore;
}

/** Period labels for chart axes. */
function axisLabel(period: string, fmt: LocaleFormat): string {
  return period.length === 7 ? fmt.shortMonth(period) : fmt.shortDate(period);
}

/** Headline rows: figure, value, change vs previous, change vs the same period before. */
export function headlineRows(insights: Insights, fmt: LocaleFormat, msgs: Messages): { name: MetricName; label: string; value: string; previous: string; before: string }[] {
  return METRICS.map((name) => {
    const metric = insights.metrics[name];
    return {
      name,
      label: msgs.metric[name],
      value: formatMetric(name, metric.value, fmt),
      previous: metric.change === null ? '–' : fmt.change(metric.change),
      before: metric.change_before === null ? '–' : fmt.change(metric.change_before),
    };
  });
}

/** "O que mudou": short plain sentences, most telling first. */
export function describeChanges(insights: Insights, fmt: LocaleFormat, msgs: Messages): string[] {
  const sentences: string[] = [];
  const { metrics } = insights;
  const useBefore = metrics.units.change === null && metrics.units.change_before !== null;
  const against = useBefore ? againstBefore(insights, msgs) : againstPrevious(insights, msgs);
  for (const name of ['revenue', 'units', 'avg_ticket'] as const) {
    const value = useBefore ? metrics[name].change_before : metrics[name].change;
    if (value === null) continue;
    const direction = Math.abs(value) < 0.005 ? 'flat' : value > 0 ? 'up' : 'down';
    sentences.push(msgs.sentence.metricChange(name, direction, fmt.change(direction === 'flat' ? value : Math.abs(value)).replace(/^[+-]/, ''), against));
  }
  if (metrics.units.change === null && metrics.units.change_before === null) sentences.push(msgs.sentence.noHistory);
  for (const segment of insights.segments) {
    if (segment.share_units === null) continue;
    sentences.push(msgs.sentence.share(segment.segment, fmt.percent(segment.share_units), segment.share_units_change === null ? null : fmt.points(segment.share_units_change), againstPrevious(insights, msgs)));
  }
  for (const segment of insights.segments) {
    if (segment.price_index === null || segment.partner_avg_price === null) continue;
    sentences.push(msgs.sentence.price(segment.segment, fmt.money(segment.partner_avg_price), fmt.money(segment.segment_avg_price), fmt.percent(Math.abs(segment.price_index)), segment.price_index >= 0));
  }
  const state = insights.states[0];
  if (state?.share_units) sentences.push(msgs.sentence.topState(state.label, fmt.percent(state.share_units)));
  const city = insights.top_cities[0];
  if (city?.share_units && !state) sentences.push(msgs.sentence.topCity(city.label, fmt.percent(city.share_units)));
  const growingCity = insights.growing_cities[0];
  if (growingCity?.change) sentences.push(msgs.sentence.growingCity(growingCity.label, fmt.change(growingCity.change)));
  const growingProduct = insights.growing_products[0];
  if (growingProduct?.change) sentences.push(msgs.sentence.growingProduct(growingProduct.label, fmt.change(growingProduct.change)));
  return sentences;
}

/** The charts of a package: units over time, share of segment over time, and cities or states. */
export function insightCharts(insights: Insights, fmt: LocaleFormat, msgs: Messages): Chart[] {
  const charts: Chart[] = [];
  if (insights.trend.length > 0) {
    charts.push({
      id: 'units-trend',
      title: msgs.chart.units,
      svg: columnChart(msgs.chart.units, insights.trend.map((point) => axisLabel(point.period, fmt)), insights.trend.map((point) => point.units), (value) => fmt.integer(value)),
    });
  }
  const periods = [...new Set(insights.segments.flatMap((segment) => segment.trend.map((point) => point.period)))].sort();
  if (periods.length > 0) {
    const title = msgs.sections.share;
    charts.push({
      id: 'segment-share',
      title,
      svg: lineChart(
        title,
        periods.map((period) => axisLabel(period, fmt)),
        insights.segments.map((segment) => ({ name: segment.segment, values: periods.map((period) => segment.trend.find((point) => point.period === period)?.share_units ?? null) })),
        (value) => fmt.percent(value, 0),
      ),
    });
  }
  const places = insights.states.length > 0 ? insights.states.slice(0, 10) : insights.top_cities;
  if (places.length > 0) {
    const title = insights.states.length > 0 ? msgs.chart.states : msgs.chart.topCities;
    charts.push({ id: 'places', title, svg: barChart(title, places.map((item) => ({ label: item.label, value: item.units, text: fmt.integer(item.units) }))) });
  }
  return charts;
}

/** The report's title in the locale, with its period: "Relatório diário analítico — 01/12/2026". */
export function packageTitle(report: string, period: string, fmt: LocaleFormat, msgs: Messages): string {
  return msgs.pageTitle(msgs.reportTitle[report] ?? report, fmt.period(period));
}

function table(headers: string[], rows: string[][], numeric: boolean[] = []): string {
  const head = headers.map((header, index) => `<th${numeric[index] ? ' class="num"' : ''}>${escapeHtml(header)}</th>`).join('');
  const body = rows.map((row) => `<tr>${row.map((cell, index) => `<td${numeric[index] ? ' class="num"' : ''}>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function rankedTable(items: RankedItem[], first: string, fmt: LocaleFormat, msgs: Messages, growth: boolean): string {
  if (items.length === 0) return `<p class="muted">${escapeHtml(msgs.nothingYet)}</p>`;
  const headers = [msgs.columns.rank, first, msgs.columns.units, msgs.columns.revenue, growth ? msgs.columns.change : msgs.columns.share];
  const rows = items.map((item, index) => [String(index + 1), item.label, fmt.integer(item.units), fmt.money(item.revenue), growth ? fmt.change(item.change ?? null) : fmt.percent(item.share_units ?? null)]);
  return table(headers, rows, [true, false, true, true, true]);
}

/** The page's CSS: readable from 320 px phones to desktops, no text wider than its box. */
export const PAGE_CSS = `
*{box-sizing:border-box}
body{margin:0;font-family:'DejaVu Sans',Arial,Helvetica,sans-serif;color:#1f2933;background:#f5f7fa;line-height:1.45;font-size:15px}
main{max-width:960px;margin:0 auto;padding:16px}
h1{font-size:1.45em;margin:8px 0 4px}
h2{font-size:1.15em;margin:24px 0 8px;border-bottom:2px solid #c2410c;padding-bottom:4px}
p,li,td,th{overflow-wrap:anywhere}
.muted{color:#616e7c;font-size:.9em}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:10px}
.card{background:#fff;border:1px solid #e4e7eb;border-radius:8px;padding:10px 12px}
.card .label{font-size:.85em;color:#616e7c}
.card .value{font-size:1.35em;font-weight:bold}
.card .delta{font-size:.8em;color:#616e7c}
.chart{background:#fff;border:1px solid #e4e7eb;border-radius:8px;padding:6px;margin:10px 0}
.chart svg{display:block;width:100%;height:auto}
table{border-collapse:collapse;width:100%;background:#fff;margin:8px 0;font-size:.9em}
th,td{border:1px solid #e4e7eb;padding:5px 7px;text-align:left;vertical-align:top}
th{background:#fbf3ee}
.num{text-align:right;white-space:nowrap}
.dictionary{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:10px}
.column{background:#fff;border:1px solid #e4e7eb;border-radius:8px;padding:8px 12px}
.column h3{font-size:1em;margin:0 0 6px;overflow-wrap:anywhere}
dl{margin:0;display:grid;grid-template-columns:minmax(90px,auto) 1fr;gap:3px 10px;font-size:.9em}
dt{color:#616e7c}dd{margin:0;overflow-wrap:anywhere}
@media (max-width:520px){body{font-size:14px}th,td{padding:4px}.num{white-space:normal}}
`;

export interface PageInput {
  insights: Insights;
  dictionary: Dictionary;
  displayName: string;
  fmt: LocaleFormat;
  msgs: Messages;
  /** Sandbox runs say so on every page. */
  sandbox?: boolean;
}

/** insights.html: one self-contained page per package. */
export function renderInsightsPage(input: PageInput): string {
  const { insights, dictionary, fmt, msgs } = input;
  const title = `${input.sandbox ? `${msgs.sandboxTag} ` : ''}${input.displayName} · ${packageTitle(insights.report, insights.period, fmt, msgs)}`;
  const cards = headlineRows(insights, fmt, msgs)
    .map(
      (row) =>
        `<div class="card" data-metric="${row.name}"><div class="label">${escapeHtml(row.label)}</div><div class="value">${escapeHtml(row.value)}</div>` +
        `<div class="delta">${escapeHtml(`${row.previous} ${msgs.vsPrevious[insights.period_kind]}`)}</div>` +
        `<div class="delta">${escapeHtml(`${row.before} ${msgs.vsBefore[insights.compared.before_kind]}`)}</div></div>`,
    )
    .join('\n');
  const charts = insightCharts(insights, fmt, msgs)
    .map((chart) => `<figure class="chart" data-chart="${chart.id}" style="margin:10px 0">${chart.svg}</figure>`)
    .join('\n');
  const sentences = describeChanges(insights, fmt, msgs);
  const privacy = insights.report === 'monthly-by-city' ? msgs.privacySentence(insights.privacy.k, fmt.integer(insights.privacy.cells_merged), fmt.integer(insights.privacy.cells_suppressed)) : msgs.privacyDaily(insights.privacy.k);
  const withheld = insights.privacy.suppressed_units > 0 ? ` ${msgs.withheld(fmt.integer(insights.privacy.suppressed_units), fmt.money(insights.privacy.suppressed_revenue))} ${msgs.totalsNote}` : '';
  const partial = insights.coverage.days_present < insights.coverage.days_expected ? `<p><strong>${escapeHtml(msgs.partialPeriod(insights.coverage.days_present, insights.coverage.days_expected))}</strong></p>` : '';
  const prices = table(
    [msgs.columns.segment, msgs.columns.partnerPrice, msgs.columns.segmentPrice, msgs.columns.difference, msgs.columns.share],
    insights.segments.map((segment) => [segment.segment, fmt.money(segment.partner_avg_price), fmt.money(segment.segment_avg_price), fmt.change(segment.price_index), fmt.percent(segment.share_units)]),
    [false, true, true, true, true],
  );
  // One block per column rather than a seven-column table: it reads the same on a phone.
  const dictionaryBlocks = dictionary.columns
    .map((entry) => {
      const facts: [string, string | null][] = [
        [msgs.columns.meaning, entry.meaning],
        [msgs.columns.unit, entry.unit],
        [msgs.columns.timeZone, entry.time_zone],
        [msgs.columns.allowed, entry.allowed_values],
        [msgs.columns.privacyRule, entry.privacy],
      ];
      const rows = facts.filter(([, value]) => value !== null).map(([label, value]) => `<dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd>`);
      return `<div class="column" data-column="${escapeHtml(entry.column)}"><h3><code>${escapeHtml(entry.column)}</code> <span class="muted">${escapeHtml(entry.type)}</span></h3><dl>${rows.join('')}</dl></div>`;
    })
    .join('\n');
  const sections = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="muted">${escapeHtml(msgs.generatedFrom)}</p>`,
    partial,
    `<h2>${escapeHtml(msgs.sections.headline)}</h2>`,
    `<div class="cards">${cards}</div>`,
    `<h2>${escapeHtml(msgs.whatChanged)}</h2>`,
    `<ul>${sentences.map((sentence) => `<li>${escapeHtml(sentence)}</li>`).join('')}</ul>`,
    charts,
    `<h2>${escapeHtml(msgs.sections.price)}</h2>`,
    prices,
    `<h2>${escapeHtml(msgs.sections.topCities)}</h2>`,
    rankedTable(insights.top_cities, msgs.columns.city, fmt, msgs, false),
    `<h2>${escapeHtml(msgs.sections.growingCities)}</h2>`,
    rankedTable(insights.growing_cities, msgs.columns.city, fmt, msgs, true),
    `<h2>${escapeHtml(msgs.sections.topProducts)}</h2>`,
    rankedTable(insights.top_products, msgs.columns.product, fmt, msgs, false),
    `<h2>${escapeHtml(msgs.sections.growingProducts)}</h2>`,
    rankedTable(insights.growing_products, msgs.columns.product, fmt, msgs, true),
    ...(insights.states.length > 0 ? [`<h2>${escapeHtml(msgs.sections.states)}</h2>`, rankedTable(insights.states, msgs.columns.state, fmt, msgs, false)] : []),
    `<h2>${escapeHtml(msgs.sections.privacy)}</h2>`,
    `<p>${escapeHtml(privacy + withheld)}</p>`,
    `<h2 id="dictionary">${escapeHtml(msgs.sections.dictionary)}</h2>`,
    `<p>${escapeHtml(msgs.dictionaryIntro)}</p>`,
    `<div class="dictionary">${dictionaryBlocks}</div>`,
  ];
  return [
    '<!doctype html>',
    `<html lang="${fmt.locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${escapeHtml(title)}</title><style>${PAGE_CSS}</style></head>`,
    `<body><main>`,
    sections.filter(Boolean).join('\n'),
    '</main></body></html>',
    '',
  ].join('\n');
}
