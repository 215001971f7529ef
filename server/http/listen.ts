/** Listening on a port, with the failures a person can fix said in one plain line. */
import type { Server } from 'node:http';
import { StartupError } from '../infra/embedded-redis';

export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((ok, fail) => {
    const onError = (e: NodeJS.ErrnoException) => {
      const where = `${host}:${port}`;
      if (e.code === 'EADDRINUSE') fail(new StartupError(`port ${port} is already in use on ${host}: stop what runs there, or set PORT to a free port.`));
      else if (e.code === 'EACCES') fail(new StartupError(`no permission to listen on ${where}: use a port above 1023, or set PORT.`));
      else if (e.code === 'EADDRNOTAVAIL') fail(new StartupError(`${host} is not an address of this machine: set HOST (e.g. 0.0.0.0).`));
      else fail(e);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      ok();
    });
  });
}
