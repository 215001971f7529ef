/**
 * The last resort for an error no handler caught. Every entry point handles its own errors
 * (HTTP routes, WebSocket messages, jobs), so one that gets here is a bug in how one request or
 * job was handled, not a reason to drop every socket, match and queue this process holds: it is
 * logged and counted (`uncaught_errors_total`), and the process keeps serving. Errors before the
 * server is up still end start-up (main.ts).
 */
import type { Logger } from './logger';
import type { Metrics } from './metrics';

export function installLastResort(log: Logger, metrics: Metrics, proc: NodeJS.Process = process): () => void {
  const onException = (err: Error) => {
    metrics.uncaughtErrors.inc({ kind: 'exception' });
    log.error({ err }, 'uncaught error: logged and counted, still serving');
  };
  const onRejection = (reason: unknown) => {
    metrics.uncaughtErrors.inc({ kind: 'rejection' });
    log.error({ err: reason }, 'unhandled rejection: logged and counted, still serving');
  };
  proc.on('uncaughtException', onException);
  proc.on('unhandledRejection', onRejection);
  return () => {
    proc.off('uncaughtException', onException);
    proc.off('unhandledRejection', onRejection);
  };
}
