import { existsSync, statSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../test/helpers.js';
import { ConfigError, UsageError } from '../errors.js';
import { deliveredBeforeRotation, readLedger, recordDelivery } from '../records/ledger.js';
import { checkPseudonymKey, decodeKey, pseudonymKeyFile, resolvePseudonymKey, rotatePseudonymKey, sandboxPseudonymKeyFile } from './pseudonym-key.js';

const GOOD = 'q3X9vJ0b2kYw7LrT5nEe1uHc8sPa4zMd6gFo0iQyWtU'; // 32 random bytes, base64url
const lookup = { noKeychain: true } as const;

describe('pseudonymization key', () => {
  let home: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ home, cleanup } = await makeTempHome('dataprod-pkey-'));
  });
  afterEach(() => cleanup());

  async function keyFile(content: string): Promise<string> {
    const path = pseudonymKeyFile(home, 'acme', 'pseudonym-key');
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content, { mode: 0o600 });
    return path;
  }

  async function refusal(promise: Promise<unknown>): Promise<ConfigError> {
    const error = await promise.then(() => null, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(78);
    return error as ConfigError;
  }

  const resolve = (env: NodeJS.ProcessEnv = {}) => resolvePseudonymKey({ partner: 'acme', name: 'pseudonym-key', home, env, ...lookup });

  it('decodes hex and base64 keys and counts their bytes', () => {
    expect(decodeKey('ab'.repeat(32)).length).toBe(32);
    expect(decodeKey(GOOD).length).toBe(32);
    expect(decodeKey(`${Buffer.alloc(32, 7).toString('base64')}`).length).toBe(32);
    expect(() => checkPseudonymKey('00'.repeat(32), 'x', 'acme')).toThrow(/repeated pattern/);
    expect(checkPseudonymKey(GOOD, 'x', 'acme')).toBe(GOOD);
  });

  it('observation 1: an empty key file under <home>/_meta/secrets/ is refused (78), not used', async () => {
    await keyFile('');
    expect((await refusal(resolve())).message).toMatch(/empty or only whitespace/);
    await keyFile('\n');
    await refusal(resolve());
    await keyFile('   \t \n');
    await refusal(resolve());
  });

  it('observation 1: an empty or newline-only _FILE and a 4-character variable are refused', async () => {
    const file = join(home, 'key');
    for (const content of ['', '\n', '\n\n']) {
      await writeFile(file, content, { mode: 0o600 });
      await chmod(file, 0o600);
      await refusal(resolve({ DATAPROD_ACME_PSEUDONYM_KEY_FILE: file }));
    }
    expect((await refusal(resolve({ DATAPROD_ACME_PSEUDONYM_KEY: 'abcd' }))).message).toMatch(/has \d+ bytes; at least 32/);
    // An empty variable does not fall through to a key file either.
    await keyFile(`${GOOD}\n`);
    await refusal(resolve({ DATAPROD_ACME_PSEUDONYM_KEY: '' }));
    // The message names the place, never the value.
    const short = await refusal(resolve({ DATAPROD_ACME_PSEUDONYM_KEY: 'abcd' }));
    expect(`${short.message} ${short.hint}`).not.toContain('abcd');
  });

  it('a good key is found in the variable, the _FILE and the home file', async () => {
    expect((await resolve({ DATAPROD_ACME_PSEUDONYM_KEY: GOOD })).key).toBe(GOOD);
    await keyFile(`${GOOD}\n`);
    expect((await resolve()).key).toBe(GOOD);
  });

  it('observation 2: no key is ever created by a lookup; missing on a partner that has delivered is 78 with the hint to restore it', async () => {
    const fresh = await refusal(resolve());
    expect(fresh.hint).toContain('dataprod secrets rotate-key --partner acme');
    expect(existsSync(pseudonymKeyFile(home, 'acme', 'pseudonym-key'))).toBe(false);
    await recordDelivery(home, { partner: 'acme', report: 'daily-analytic', period: '2026-11-20', destination: 'partner-sftp' }, { files: [], rows: 637 }, { runId: 'r1' });
    const lost = await refusal(resolve());
    expect(lost.message).toMatch(/missing.*has received reports/);
    expect(lost.hint).toMatch(/^restore the key from your backup/);
    expect(existsSync(pseudonymKeyFile(home, 'acme', 'pseudonym-key'))).toBe(false);
  });

  it('rotate-key creates a 32-byte key (mode 600), asks for --yes to replace one, and records the date in the ledger', async () => {
    const first = await rotatePseudonymKey({ partner: 'acme', name: 'pseudonym-key', home, env: {}, ...lookup, now: new Date('2026-11-01T10:00:00Z') });
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
    const key = (await readFile(first.path, 'utf8')).trim();
    expect(decodeKey(key).length).toBe(32);
    expect((await resolve()).key).toBe(key);
    const again = await rotatePseudonymKey({ partner: 'acme', name: 'pseudonym-key', home, env: {}, ...lookup }).catch((caught: unknown) => caught);
    expect(again).toBeInstanceOf(UsageError);
    const key2 = { partner: 'acme', report: 'daily-analytic', period: '2026-11-20', destination: 'partner-api' };
    await recordDelivery(home, key2, { files: [], rows: 637 }, { runId: 'r1', now: new Date('2026-11-21T09:00:00Z') });
    expect(await deliveredBeforeRotation(home, key2)).toBeNull();
    const second = await rotatePseudonymKey({ partner: 'acme', name: 'pseudonym-key', home, env: {}, ...lookup, yes: true, now: new Date('2026-11-22T10:00:00Z') });
    expect(second.previous_key_id).toBe(first.key_id);
    expect(second.key_id).not.toBe(first.key_id);
    const rotations = (await readLedger(home, 'acme')).filter((entry) => entry.kind === 'key-rotated');
    expect(rotations.map((entry) => entry.at)).toEqual(['2026-11-01T10:00:00.000Z', '2026-11-22T10:00:00.000Z']);
    expect(JSON.stringify(rotations)).not.toContain(key);
    // The day delivered on the 21st is recognised after the rotation of the 22nd.
    expect((await deliveredBeforeRotation(home, key2))?.delivery.run_id).toBe('r1');
  });

  it('rotate-key refuses when another place holds the key (it would shadow the new one)', async () => {
    await refusal(rotatePseudonymKey({ partner: 'acme', name: 'pseudonym-key', home, env: { DATAPROD_ACME_PSEUDONYM_KEY: GOOD }, ...lookup }));
  });

  it('the sandbox creates its own key once; lost after the sandbox received reports it is 78', async () => {
    const created: string[] = [];
    const sandbox = () => resolvePseudonymKey({ partner: 'acme', name: 'pseudonym-key', home, env: {}, ...lookup, sandbox: true, onCreate: (path) => created.push(path) });
    const first = await sandbox();
    expect(created).toEqual([sandboxPseudonymKeyFile(home, 'acme')]);
    expect((await sandbox()).key).toBe(first.key);
    expect(created).toHaveLength(1);
    expect(existsSync(pseudonymKeyFile(home, 'acme', 'pseudonym-key'))).toBe(false);
    await recordDelivery(home, { partner: 'acme', report: 'daily-analytic', period: '2026-11-20', destination: 'partner-sftp' }, { files: [], rows: 1 }, { runId: 'r1', location: 'sftp://sandbox@127.0.0.1:40111/inbound/' });
    await rm(sandboxPseudonymKeyFile(home, 'acme'));
    expect((await refusal(sandbox())).hint).toMatch(/^restore/);
  });
});
