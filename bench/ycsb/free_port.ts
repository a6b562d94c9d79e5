/** Free TCP ports on 127.0.0.1, found by letting the kernel pick them and releasing them. */
import { createServer, type Server } from 'node:net';

/** `count` distinct free ports (held open together so the kernel cannot hand one out twice). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  });
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  if (ports.some((port) => port === 0)) throw new Error('the kernel assigned no port');
  return ports;
}
