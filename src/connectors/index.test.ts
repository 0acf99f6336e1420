import { describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import { connectorTypes, createConnector } from './index.js';
import { destinationOptions } from './options.js';
import type { ConnectorContext } from './types.js';

const context: ConnectorContext = { partner: 'acme', home: '/tmp', logger: silentLogger(), secret: async () => 'unused' };

describe('createConnector', () => {
  it.each([
    ['sftp', { name: 'partner-sftp', type: 'sftp', host: 'sftp.example.com', username: 'acme' }],
    ['api', { name: 'partner-api', type: 'api', base_url: 'https://api.example.com', auth: { type: 'bearer' } }],
    ['email', { name: 'mail', type: 'email', host: 'smtp.example.com', from: 'dataprod@example.com' }],
    ['local', { name: 'copy', type: 'local' }],
  ])('maps type: %s to its connector', async (type, raw) => {
    const connector = await createConnector(destinationOptions.parse(raw), context);
    expect(connector.type).toBe(type);
    expect(connector.name).toBe(raw.name);
    await connector.close();
  });

  it('knows every destination type of the configuration schema', () => {
    expect([...connectorTypes].sort()).toEqual([...destinationOptions.options.map((option) => option.shape.type.value)].sort());
  });
});
