import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { bundledPartnersDir, listPartners, parsePartnerConfig, readPartnerConfig } from './config.js';
import { closestName } from './unknown-keys.js';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'dataprod-config-'));
});
afterEach(async () => rm(home, { recursive: true, force: true }));

const bundled = () => readPartnerConfig(home, 'ouchhungry');
const bundledText = async () => (await import('node:fs/promises')).readFile(join(bundledPartnersDir, 'ouchhungry.yaml'), 'utf8');

function problemOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('no error');
}

describe('partner configuration (issue 8, observation 6)', () => {
  it('accepts every bundled partner file', () => {
    for (const partner of listPartners(home)) expect(readPartnerConfig(home, partner).config.partner).toBe(partner);
    expect(bundled().config.partner).toBe('ouchhungry');
  });

  it('refuses unknown keys with their path and a "did you mean", together with the other problems', async () => {
    const text = (await bundledText()).replace(/^(\s*)enabled: (true|false)/m, '$1enable: false').replace(/^display_name:/m, 'dispaly_name: x\ndisplay_name:');
    expect(text).toContain('enable: false');
    const error = problemOf(() => parsePartnerConfig(text.replace(/max_quarantine_rate: [0-9.]+/, 'max_quarantine_rate: 2'), 'p.yaml'));
    expect(error.exitCode).toBe(78);
    expect(error.message).toMatch(/^p\.yaml: \d+ problems: /);
    expect(error.message).toContain('dispaly_name: unknown key (did you mean "display_name"?)');
    expect(error.message).toMatch(/(destinations\[\d+\]|reports\.[a-z-]+)\.enable: unknown key \(did you mean "enabled"\?\)/);
    expect(error.message).toContain('quality.max_quarantine_rate');
  });

  it('a YAML alias bomb and a directory as --config are configuration errors (78), not bugs', async () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]', 'e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]'].join('\n');
    expect(problemOf(() => parsePartnerConfig(bomb, 'bomb.yaml')).message).toMatch(/bomb\.yaml: invalid YAML: .*alias/i);
    const error = problemOf(() => readPartnerConfig(home, 'ouchhungry', home));
    expect(error.message).toContain('it is a directory');
    await writeFile(join(home, 'x.yaml'), 'partner: [');
    expect(problemOf(() => readPartnerConfig(home, 'ouchhungry', join(home, 'x.yaml'))).message).toMatch(/invalid YAML/);
  });

  it('suggests only plausible names', () => {
    expect(closestName('enable', ['enabled', 'reports'])).toBe('enabled');
    expect(closestName('zzzzzz', ['enabled', 'reports'])).toBeUndefined();
  });
});
