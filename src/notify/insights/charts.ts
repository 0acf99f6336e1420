import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { escapeHtml } from '../format.js';

/**
 * Charts as hand-made SVG: a few bars and lines need no charting library, render the
 * same everywhere, and carry their own font name. The e-mail gets them as PNG through
 * resvg (a prebuilt native renderer), with the DejaVu Sans files loaded explicitly, so a
 * machine without X or fontconfig draws the same text.
 */

export const CHART_FONT = 'DejaVu Sans';
const FONT_STACK = `'${CHART_FONT}', Arial, Helvetica, sans-serif`;
const INK = '#1f2933';
const MUTED = '#616e7c';
const GRID = '#e4e7eb';
const PALETTE = ['#c2410c', '#0f766e', '#1d4ed8', '#a16207'];

export interface BarItem {
  label: string;
  value: number;
  /** Text printed at the bar's end (formatted value). */
  text: string;
}

export interface LineSeries {
  name: string;
  /** One value per x label; null where the period has no data. */
  values: (number | null)[];
}

function svg(width: number, height: number, title: string, body: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(title)}" font-family="${escapeHtml(FONT_STACK)}">`,
    `<title>${escapeHtml(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold" fill="${INK}">${escapeHtml(title)}</text>`,
    body,
    '</svg>',
  ].join('\n');
}

/** Cuts a label to fit a column of `max` characters. */
function fit(label: string, max: number): string {
  return label.length <= max ? label : `${label.slice(0, max - 1)}…`;
}

/** Horizontal bars, biggest first: top cities, states. */
export function barChart(title: string, items: BarItem[], options: { width?: number } = {}): string {
  const width = options.width ?? 600;
  const rowHeight = 26;
  const top = 38;
  const labelWidth = 190;
  const valueWidth = 110;
  const height = Math.max(top + items.length * rowHeight + 10, 140);
  const max = Math.max(...items.map((item) => item.value), 1);
  const span = width - labelWidth - valueWidth - 24;
  const rows = items.map((item, index) => {
    const y = top + index * rowHeight;
    const length = Math.max(2, (item.value / max) * span);
    return [
      `<text x="${labelWidth}" y="${y + 17}" font-size="12" fill="${INK}" text-anchor="end">${escapeHtml(fit(item.label, 28))}</text>`,
      `<rect x="${labelWidth + 8}" y="${y + 5}" width="${length.toFixed(1)}" height="${rowHeight - 10}" fill="${PALETTE[0]}" rx="2"/>`,
      `<text x="${(labelWidth + 14 + length).toFixed(1)}" y="${y + 17}" font-size="12" fill="${MUTED}">${escapeHtml(item.text)}</text>`,
    ].join('');
  });
  return svg(width, height, title, rows.join('\n'));
}

/** Vertical columns over periods: the partner's units. */
export function columnChart(title: string, labels: string[], values: number[], format: (value: number) => string, options: { width?: number } = {}): string {
  const width = options.width ?? 600;
  const height = 240;
  const left = 56;
  const right = 12;
  const top = 44;
  const bottom = 40;
  const max = Math.max(...values, 1);
  const plotHeight = height - top - bottom;
  const step = (width - left - right) / Math.max(values.length, 1);
  const grid = [0, 0.5, 1].map((fraction) => {
    const y = top + plotHeight * (1 - fraction);
    return `<line x1="${left}" x2="${width - right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="${GRID}"/><text x="${left - 6}" y="${(y + 4).toFixed(1)}" font-size="11" fill="${MUTED}" text-anchor="end">${escapeHtml(format(max * fraction))}</text>`;
  });
  const columns = values.map((value, index) => {
    const h = (value / max) * plotHeight;
    // A lone period is a column, not a wall.
    const barWidth = Math.min(step * 0.7, 64);
    const x = left + index * step + (step - barWidth) / 2;
    const last = index === values.length - 1;
    const label = labels[index] ?? '';
    // Every label when they fit, else every other one (and always the last).
    const showLabel = values.length <= 8 || last || (values.length - 1 - index) % 2 === 0;
    return [
      `<rect x="${x.toFixed(1)}" y="${(top + plotHeight - h).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${Math.max(h, 1).toFixed(1)}" fill="${last ? PALETTE[0] : '#f3b58f'}"/>`,
      showLabel ? `<text x="${(x + barWidth / 2).toFixed(1)}" y="${height - bottom + 16}" font-size="10" fill="${MUTED}" text-anchor="middle">${escapeHtml(label)}</text>` : '',
    ].join('');
  });
  return svg(width, height, title, [...grid, ...columns].join('\n'));
}

/** Lines over periods, 0..max scaled: share of segment. */
export function lineChart(title: string, labels: string[], series: LineSeries[], format: (value: number) => string, options: { width?: number } = {}): string {
  const width = options.width ?? 600;
  const height = 250;
  const left = 56;
  const right = 28;
  const top = 44;
  const bottom = 58;
  const all = series.flatMap((item) => item.values.filter((value): value is number => value !== null));
  const max = Math.min(1, Math.max(...all, 0.01) * 1.15);
  const plotHeight = height - top - bottom;
  const step = (width - left - right) / Math.max(labels.length - 1, 1);
  const xAt = (index: number) => left + (labels.length === 1 ? (width - left - right) / 2 : index * step);
  const yAt = (value: number) => top + plotHeight * (1 - value / max);
  const grid = [0, 0.5, 1].map((fraction) => {
    const y = top + plotHeight * (1 - fraction);
    return `<line x1="${left}" x2="${width - right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="${GRID}"/><text x="${left - 6}" y="${(y + 4).toFixed(1)}" font-size="11" fill="${MUTED}" text-anchor="end">${escapeHtml(format(max * fraction))}</text>`;
  });
  const xLabels = labels.map((label, index) =>
    labels.length <= 8 || index === labels.length - 1 || (labels.length - 1 - index) % 2 === 0
      ? `<text x="${xAt(index).toFixed(1)}" y="${height - bottom + 16}" font-size="10" fill="${MUTED}" text-anchor="middle">${escapeHtml(label)}</text>`
      : '',
  );
  const lines = series.map((item, seriesIndex) => {
    const color = PALETTE[seriesIndex % PALETTE.length]!;
    const points = item.values.flatMap((value, index) => (value === null ? [] : [`${xAt(index).toFixed(1)},${yAt(value).toFixed(1)}`]));
    const dots = item.values.map((value, index) => (value === null ? '' : `<circle cx="${xAt(index).toFixed(1)}" cy="${yAt(value).toFixed(1)}" r="3.5" fill="${color}"/>`));
    const legendY = height - 14;
    const legendX = left + seriesIndex * 200;
    return [
      points.length > 1 ? `<polyline points="${points.join(' ')}" fill="none" stroke="${color}" stroke-width="2.5"/>` : '',
      ...dots,
      `<rect x="${legendX}" y="${legendY - 9}" width="12" height="12" fill="${color}"/><text x="${legendX + 18}" y="${legendY + 1}" font-size="12" fill="${INK}">${escapeHtml(fit(item.name, 24))}</text>`,
    ].join('');
  });
  return svg(width, height, title, [...grid, ...xLabels, ...lines].join('\n'));
}

let fontFiles: string[] | undefined;

/** The bundled DejaVu Sans files (regular and bold) from the dejavu-fonts-ttf package. */
export function chartFontFiles(): string[] {
  if (!fontFiles) {
    const root = dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json'));
    fontFiles = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((name) => join(root, 'ttf', name));
  }
  return fontFiles;
}

type ResvgModule = typeof import('@resvg/resvg-js');
let resvgModule: ResvgModule | undefined;

/**
 * An SVG chart as PNG for e-mail clients that do not show SVG; twice the size for sharp
 * screens. Synchronous (resvg renders in-thread); the native module loads on first use.
 */
export function svgToPng(svgText: string): Buffer {
  resvgModule ??= createRequire(import.meta.url)('@resvg/resvg-js') as ResvgModule;
  const resvg = new resvgModule.Resvg(svgText, {
    fitTo: { mode: 'zoom', value: 2 },
    background: '#ffffff',
    font: { loadSystemFonts: false, fontFiles: chartFontFiles(), defaultFontFamily: CHART_FONT, sansSerifFamily: CHART_FONT },
  });
  return Buffer.from(resvg.render().asPng());
}
