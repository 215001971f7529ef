/**
 * What the soak reads from a server's /metrics (Prometheus text): memory and the resources keeping
 * its event loop alive, all from prom-client's default metrics (server/infra/metrics.ts):
 *   process_resident_memory_bytes, nodejs_heap_size_used_bytes, nodejs_heap_size_total_bytes,
 *   nodejs_active_resources{type} (process.getActiveResourcesInfo(), grouped by type: 'Timeout'
 *   is a ref'd timer, 'TCPSocketWrap' a TCP socket: WebSocket clients, Redis and Postgres).
 * Pure, so the parsing is tested without a server.
 */

export interface ProcessFigures {
  rssMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  /** Ref'd timers ('Timeout' resources). */
  timers: number;
  /** TCP sockets ('TCPSocketWrap' resources). */
  sockets: number;
  /** Every active resource by type. */
  resources: Record<string, number>;
  wsConnections: number;
}

export class MetricsTextError extends Error {
  readonly code = 'SOAK_METRICS_TEXT';
}

const MiB = 1024 ** 2;

/** The value of an unlabelled sample `name value`, or throws when the server does not export it. */
function plain(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)`, 'm').exec(text);
  if (!m) throw new MetricsTextError(`/metrics has no ${name}`);
  return Number(m[1]);
}

export function parseProcessFigures(text: string): ProcessFigures {
  const resources: Record<string, number> = {};
  for (const m of text.matchAll(/^nodejs_active_resources\{type="([^"]+)"\} (\S+)/gm)) resources[m[1]!] = Number(m[2]);
  return {
    rssMiB: plain(text, 'process_resident_memory_bytes') / MiB,
    heapUsedMiB: plain(text, 'nodejs_heap_size_used_bytes') / MiB,
    heapTotalMiB: plain(text, 'nodejs_heap_size_total_bytes') / MiB,
    timers: resources.Timeout ?? 0,
    sockets: resources.TCPSocketWrap ?? 0,
    resources,
    wsConnections: plain(text, 'ws_connections'),
  };
}
