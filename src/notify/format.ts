import { redact } from '../log.js';

/**
 * Small helpers shared by the e-mail builders. Every value that reaches a message goes
 * through `redact` (no secret value can leave in an e-mail) and, in HTML, `escapeHtml`.
 */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(value: unknown): string {
  return redact(String(value ?? '')).replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

/** Redacted plain text. */
export function plain(value: unknown): string {
  return redact(String(value ?? ''));
}

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, '.');
}

/** An integer the Brazilian way: 12.345. */
export function formatInteger(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  const text = String(value).trim();
  if (/^-?\d+$/.test(text)) return `${text.startsWith('-') ? '-' : ''}${groupThousands(text.replace('-', ''))}`;
  const number = Number(text);
  return Number.isFinite(number) ? new Intl.NumberFormat('pt-BR', { maximumFractionDigits: 2 }).format(number) : text;
}

/**
 * Money in reais, R$ 12.345,67. A decimal string (how DuckDB hands a DECIMAL over) is
 * formatted digit by digit, so the e-mail shows exactly the figure in the files.
 */
export function formatMoney(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  const text = String(value).trim();
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (match && (match[3] ?? '').length <= 2) {
    return `${match[1]}R$ ${groupThousands(match[2]!)},${(match[3] ?? '').padEnd(2, '0')}`;
  }
  const number = Number(text);
  if (!Number.isFinite(number)) return text;
  return new Intl.NumberFormat('pt-BR', { style: 'currency', currency: 'BRL' }).format(number).replace(/\u00a0/g, ' ');
}

/** Sizes as 1.2 MB (1.234.567 bytes). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '-';
  const units = ['bytes', 'kB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]} (${formatInteger(bytes)} bytes)`;
}

/** What each exit code means, for alerts read by people. */
export const EXIT_CODE_MEANINGS: Record<number, string> = {
  0: 'ok',
  64: 'usage error',
  65: 'data error or failed quality gate',
  69: 'a remote service is unavailable',
  70: 'internal error',
  73: 'cannot write output',
  75: 'temporary failure, try later',
  77: 'permission or authentication refused',
  78: 'configuration error',
};

/** A minimal, mail-client-friendly HTML document (inline styles, no external resources). */
export function htmlDocument(title: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title></head>`,
    '<body style="font-family: Arial, Helvetica, sans-serif; font-size: 14px; color: #222; line-height: 1.4;">',
    body,
    '</body></html>',
  ].join('\n');
}

/** An HTML table; cells are escaped here. */
export function htmlTable(header: string[], rows: unknown[][]): string {
  const cell = 'style="border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top;"';
  const head = header.map((name) => `<th ${cell}>${escapeHtml(name)}</th>`).join('');
  const body = rows.map((row) => `<tr>${row.map((value) => `<td ${cell}>${escapeHtml(value)}</td>`).join('')}</tr>`).join('\n');
  return `<table style="border-collapse: collapse; margin: 8px 0;"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** An HTML definition list of label/value pairs; values are escaped here. */
export function htmlFacts(facts: [string, unknown][]): string {
  return `<table style="border-collapse: collapse; margin: 8px 0;">${facts
    .map(([label, value]) => `<tr><th style="text-align: left; padding: 2px 12px 2px 0; vertical-align: top;">${escapeHtml(label)}</th><td style="padding: 2px 0;">${escapeHtml(value)}</td></tr>`)
    .join('')}</table>`;
}
