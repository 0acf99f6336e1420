import type { DestinationOptions, DestinationType } from './options.js';
import type { Connector, ConnectorContext } from './types.js';

export type { CheckResult, Connector, ConnectorContext, DeliveryReceipt, Notification } from './types.js';
export type { OutboxPackage, PackageManifest } from '../render/package.js';
export type { DestinationOptions, DestinationType } from './options.js';

/** Every destination type the registry knows. */
export const connectorTypes: readonly DestinationType[] = ['sftp', 'api', 'email', 'local'];

/**
 * Maps a destination's `type:` to its implementation. Each connector is imported on
 * first use, so ssh2, got and nodemailer load only when a destination of that type is
 * actually used (and `dataprod --help` stays fast).
 */
export async function createConnector(options: DestinationOptions, context: ConnectorContext): Promise<Connector> {
  switch (options.type) {
    case 'sftp': {
      const { createSftpConnector } = await import('./sftp.js');
      return createSftpConnector(options, context);
    }
    case 'api': {
      const { createApiConnector } = await import('./api.js');
      return createApiConnector(options, context);
    }
    case 'email': {
      const { createEmailConnector } = await import('./email.js');
      return createEmailConnector(options, context);
    }
    case 'local': {
      const { createLocalConnector } = await import('./local.js');
      return createLocalConnector(options, context);
    }
    default: {
      const unknown: never = options;
      throw new Error(`unknown destination type ${(unknown as { type: string }).type}`);
    }
  }
}
