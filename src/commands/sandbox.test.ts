import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { makeTempHome, testContext } from '../../test/helpers.js';
import { readPartnerConfig } from '../partners/config.js';
import { startSandbox, type Sandbox } from '../sandbox/index.js';
import { sandbox } from './sandbox.js';

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('startSandbox', () => {
  it('points every destination and the notification channel at loopback servers, with pinned keys and sandbox secrets', async () => {
    const { home, cleanup } = await makeTempHome();
    const running = await startSandbox({ home, partner: 'ouchhungry' });
    try {
      const { config } = readPartnerConfig(home, 'ouchhungry');
      const applied = running.applyTo(config);
      const sftp = applied.destinations.find((destination) => destination.type === 'sftp')!;
      expect(sftp).toMatchObject({ enabled: true, host: '127.0.0.1', port: running.sftp.port, host_fingerprints: [running.sftp.fingerprint], private_key_secret: 'sftp-private-key' });
      const api = applied.destinations.find((destination) => destination.type === 'api')!;
      expect(api).toMatchObject({ enabled: true, base_url: running.api.url, auth: { type: 'password', username: 'dataprod', password_secret: 'api-password' } });
      expect(applied.notifications.channel).toMatchObject({ type: 'email', enabled: true, host: running.smtp.host, port: running.smtp.port, security: 'none' });
      // The original is untouched.
      expect(config.destinations.every((destination) => !destination.enabled)).toBe(true);
      expect(await running.secret('sftp-private-key')).toContain('OPENSSH PRIVATE KEY');
      expect((await running.secret('api-password')).length).toBeGreaterThan(16);
      expect(running.describe()).toContain(`${home}/sandbox/sftp/`);
      expect(running.describe()).toContain(running.sftp.fingerprint);
    } finally {
      await running.close();
      await cleanup();
    }
  });

  it('keeps the same host key and client key across restarts', async () => {
    const { home, cleanup } = await makeTempHome();
    try {
      const first = await startSandbox({ home, partner: 'ouchhungry' });
      const key = await first.secret('sftp-private-key');
      await first.close();
      const second = await startSandbox({ home, partner: 'ouchhungry' });
      expect(second.sftp.fingerprint).toBe(first.sftp.fingerprint);
      expect(await second.secret('sftp-private-key')).toBe(key);
      await second.close();
    } finally {
      await cleanup();
    }
  });
});

describe('dataprod sandbox', () => {
  it('serves until stopped, then closes its servers and says what arrived', async () => {
    const { home, cleanup } = await makeTempHome();
    try {
      const controller = new AbortController();
      let ready: Sandbox | undefined;
      const result = await sandbox(
        {
          partner: 'ouchhungry',
          signal: controller.signal,
          onReady: async (running) => {
            ready = running;
            expect(await canConnect(running.sftp.port)).toBe(true);
            controller.abort();
          },
        },
        testContext(home),
      );
      expect(ready).toBeDefined();
      expect(await canConnect(ready!.sftp.port)).toBe(false);
      expect(result.data.sftp.root).toBe(`${home}/sandbox/sftp`);
      expect(result.data.received).toEqual({ sftp_files: 0, api_requests: 0, mail_messages: 0 });
      expect(result.text).toContain('sandbox stopped');
    } finally {
      await cleanup();
    }
  });
});
