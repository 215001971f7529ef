import net from 'node:net';

/**
 * Returns a TCP port on 127.0.0.1 that was free a moment ago: binds port 0,
 * reads the port the kernel picked, closes the socket.
 *
 * The port is NOT reserved. Another process (or another vitest worker) can take
 * it before the caller binds it, so callers that start servers must detect
 * "address already in use" and retry with a fresh port (the redis and postgres
 * helpers in this folder do).
 */
export function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`freePort: unexpected server address ${String(address)}`));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/** True when something accepts TCP connections on 127.0.0.1:`port` now (a started server is listening). */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
