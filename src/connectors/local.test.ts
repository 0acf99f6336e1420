import { readdir, readFile, rm, mkdir, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTempHome } from '../../test/helpers.js';
import { TerminalError, TransientError } from '../errors.js';
import { silentLogger } from '../log.js';
import { describeConnectorContract, writeContractPackage } from '../../test/connectors/contract.js';
import { createLocalConnector } from './local.js';
import { localOptions } from './options.js';
import type { ConnectorContext } from './types.js';
import type { OutboxPackage } from '../render/package.js';

const fastRetry = { max_attempts: 4, base_delay_ms: 1, max_delay_ms: 5 };

function contextFor(home: string): ConnectorContext {
  return { partner: 'acme', home, logger: silentLogger(), secret: async (name) => Promise.reject(new Error(`no secret ${name} in these tests`)) };
}

function targetDir(home: string, pkg: OutboxPackage): string {
  return join(home, 'deliveries', pkg.manifest.partner, pkg.manifest.report, pkg.manifest.period);
}

describeConnectorContract('local', async ({ home, fault }) => {
  const connector = createLocalConnector(
    localOptions.parse({ name: 'local-copy', type: 'local', retry: fastRetry, fail: fault?.kind, fail_times: fault?.kind === 'transient' ? fault.times : undefined }),
    contextFor(home),
  );
  return {
    connector,
    listDelivered: (pkg) => readdir(targetDir(home, pkg)).catch(() => []),
    readDelivered: (pkg, name) => readFile(join(targetDir(home, pkg), name)),
    faultsFired: () => connector.faultsInjected,
    close: () => connector.close(),
  };
});

describe('local connector', () => {
  it('delivers under an absolute directory template and reports where', async () => {
    const { home, cleanup } = await makeTempHome();
    try {
      const pkg = await writeContractPackage(home);
      const connector = createLocalConnector(localOptions.parse({ name: 'abs', type: 'local', directory: join(home, 'elsewhere', '{report}', '{period}') }), contextFor(home));
      const receipt = await connector.deliver(pkg);
      expect(receipt.location).toBe(join(home, 'elsewhere', 'daily-analytic', '2026-11-20'));
      expect((await readdir(receipt.location)).sort()).toEqual(['SHA256SUMS', 'acme_daily-analytic_2026-11-20.csv', 'acme_daily-analytic_2026-11-20.json', 'manifest.json']);
    } finally {
      await cleanup();
    }
  });

  it('gives up after max_attempts transient failures, with the TransientError', async () => {
    const { home, cleanup } = await makeTempHome();
    try {
      const pkg = await writeContractPackage(home);
      const connector = createLocalConnector(localOptions.parse({ name: 'flaky', type: 'local', fail: 'transient', retry: { max_attempts: 3, base_delay_ms: 1, max_delay_ms: 2 } }), contextFor(home));
      await expect(connector.deliver(pkg)).rejects.toBeInstanceOf(TransientError);
      expect(connector.faultsInjected).toBe(3);
      expect(await readdir(targetDir(home, pkg))).toEqual([]);
    } finally {
      await cleanup();
    }
  });

  it('refuses a package whose file no longer matches its manifest', async () => {
    const { home, cleanup } = await makeTempHome();
    try {
      const pkg = await writeContractPackage(home);
      await rm(join(pkg.dir, pkg.manifest.files[1]!.name));
      const connector = createLocalConnector(localOptions.parse({ name: 'l', type: 'local' }), contextFor(home));
      await expect(connector.deliver(pkg)).rejects.toThrow(/missing acme_daily-analytic_2026-11-20.json/);
    } finally {
      await cleanup();
    }
  });

  it('rejects a directory template that could leave its root', () => {
    expect(() => createLocalConnector(localOptions.parse({ name: 'l', type: 'local', directory: '../{report}' }), contextFor('/tmp'))).toThrow(/no "\.\."/);
  });

  it('check() fails with 77 when the directory cannot be written', async () => {
    if (process.getuid?.() === 0) return; // root writes anywhere: covered by the SFTP and OpenSSH tests
    const { home, cleanup } = await makeTempHome();
    try {
      await mkdir(join(home, 'locked'));
      await chmod(join(home, 'locked'), 0o500);
      const connector = createLocalConnector(localOptions.parse({ name: 'l', type: 'local', directory: 'locked/{report}' }), contextFor(home));
      const rows = await connector.check();
      expect(rows.find((row) => row.check === 'permission')).toMatchObject({ ok: false, exitCode: 77 });
    } finally {
      await cleanup();
    }
  });

  it('notify() writes an .eml file under <base>/notifications/', async () => {
    const { home, cleanup } = await makeTempHome();
    try {
      const connector = createLocalConnector(localOptions.parse({ name: 'mailbox', type: 'local', directory: 'mail/{partner}/{report}' }), contextFor(home));
      const receipt = await connector.notify!({ kind: 'alert', to: ['dados@example.com'], subject: 'dataprod: acme daily-analytic 2026-11-20 não entregue', text: 'stage: deliver', html: '<p>stage: deliver</p>' });
      expect(receipt.location.startsWith(join(home, 'mail', 'acme', 'notifications'))).toBe(true);
      const text = await readFile(receipt.location, 'utf8');
      expect(text).toContain('To: dados@example.com');
      expect(text).toContain('stage: deliver');
      expect(text).toMatch(/Subject: =\?UTF-8\?B\?/);
    } finally {
      await cleanup();
    }
  });

  it('a terminal fault on notify() is thrown at once', async () => {
    const { home, cleanup } = await makeTempHome();
    try {
      const connector = createLocalConnector(localOptions.parse({ name: 'l', type: 'local', fail: 'terminal' }), contextFor(home));
      await expect(connector.notify!({ kind: 'update', to: [], subject: 's', text: 't', html: 'h' })).rejects.toBeInstanceOf(TerminalError);
      expect(connector.faultsInjected).toBe(1);
    } finally {
      await cleanup();
    }
  });
});
