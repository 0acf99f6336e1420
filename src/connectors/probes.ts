import { connect as connectTcp } from 'node:net';

/** Opens and closes a TCP connection: the `tcp` row of a connector's check(). */
export function tcpProbe(host: string, port: number, timeout: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host, port, timeout });
    socket.once('connect', () => {
      socket.destroy();
      resolve(`connected to ${host}:${port}`);
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`no TCP answer from ${host}:${port} within ${timeout} ms`));
    });
    socket.once('error', (error: NodeJS.ErrnoException) => reject(new Error(`cannot connect to ${host}:${port}: ${error.code ?? error.message}`)));
  });
}
