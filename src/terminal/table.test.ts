import { describe, expect, it } from 'vitest';
import { renderTable, wrapText } from './table.js';

const widthOf = (line: string) => [...line].length;

describe('renderTable', () => {
  const head = ['destination', 'check', 'status', 'detail'];
  const rows = [
    ['partner-sftp', 'host-key', 'ok', 'SHA256:0fJ2l1Yw3mQ5m3kZt4mVb0o9Qe1x2M7sWq5cZr8uT0A matches the pinned fingerprint'],
    ['partner-api', 'auth', 'FAIL 77', 'the token endpoint refused the client id and secret: check DATAPROD_OUCHHUNGRY_API_PASSWORD'],
  ];

  it('keeps lines within the width and wraps sentences inside their own column', () => {
    const text = renderTable(rows, { head, wrap: [3], width: 80 });
    const lines = text.split('\n');
    for (const line of lines) expect(widthOf(line), line).toBeLessThanOrEqual(80);
    const detailStart = lines[0]!.indexOf('detail');
    // Every continuation line of a wrapped detail starts in the detail column, not at the left edge.
    const continuation = lines.filter((line) => line.startsWith(' '));
    expect(continuation.length).toBeGreaterThan(0);
    for (const line of continuation) expect(line.search(/\S/)).toBe(detailStart);
    // The words of the sentence are all there, in order.
    const detail = lines
      .slice(2)
      .map((line) => line.slice(detailStart).trim())
      .join(' ');
    expect(detail).toContain('check DATAPROD_OUCHHUNGRY_API_PASSWORD');
  });

  it('prints rows as records when the columns cannot fit, still within the width', () => {
    const text = renderTable([['a'.repeat(50), 'x'.repeat(45)]], { head: ['path', 'value'], width: 40 });
    const lines = text.split('\n');
    for (const line of lines) expect(widthOf(line)).toBeLessThanOrEqual(40);
    expect(lines[0]).toMatch(/^path   a+$/);
    expect(lines.some((line) => line.startsWith('value  x'))).toBe(true);
  });

  it('prints tab-separated rows for --format plain', () => {
    expect(renderTable([['a b', 1]], { head: ['name', 'n'], format: 'plain' })).toBe('name\tn\na b\t1');
  });

  it('leaves a table that fits as it is', () => {
    expect(renderTable([['x', 'y']], { head: ['a', 'b'], width: 80 })).toBe('a  b\n─  ─\nx  y');
  });
});

describe('wrapText', () => {
  it('breaks at spaces and splits a word longer than the column', () => {
    expect(wrapText('one two three', 7)).toEqual(['one two', 'three']);
    expect(wrapText('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
  });
});
