/**
 * Fault-injecting TCP proxy for tests (a small stand-in for toxiproxy).
 *
 * Listens on 127.0.0.1 (random port) and forwards every connection to
 * `targetHost:targetPort`. The mode can change at any time and applies to
 * chunks as they arrive, on existing and new connections alike:
 *  - pass:        forward bytes unchanged.
 *  - latency(ms): hold every chunk `ms` before forwarding, in both directions
 *                 (so a request/response round trip costs at least 2*ms).
 *                 Order is preserved; FIN is delayed like data.
 *  - reset:       every open connection is reset (TCP RST to both ends) and
 *                 new ones are accepted then reset at once.
 *  - blackhole:   connections are accepted and kept open, but nothing is
 *                 forwarded either way; bytes received meanwhile are discarded
 *                 (like toxiproxy's timeout toxic with timeout 0). Switching
 *                 back to pass resumes forwarding of NEW bytes only.
 * `resetAll()` resets the open connections without changing the mode.
 *
 *   await using proxy = await startFaultProxy({ targetHost: '127.0.0.1', targetPort: 6379 });
 *   new Redis({ host: '127.0.0.1', port: proxy.port });
 *   proxy.setMode('latency', 200);
 */
import net from 'node:net';

export type FaultMode = { kind: 'pass' } | { kind: 'latency'; ms: number } | { kind: 'reset' } | { kind: 'blackhole' };

export interface FaultProxyOptions {
  targetHost: string;
  targetPort: number;
}

export interface FaultProxy {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly mode: FaultMode;
  setMode(mode: 'pass' | 'reset' | 'blackhole'): void;
  setMode(mode: 'latency', ms: number): void;
  /** Resets (RST) every open connection; the mode is unchanged. */
  resetAll(): void;
  /** Number of client connections currently proxied. */
  readonly connectionCount: number;
  /** Counters since start: connections accepted and reset, bytes discarded by blackhole. */
  readonly stats: { readonly accepted: number; readonly reset: number; readonly droppedBytes: number };
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** One client connection and its upstream twin, with an ordered queue per direction. */
interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  queues: [Lane, Lane];
  timers: Set<NodeJS.Timeout>;
  dead: boolean;
}
interface Lane {
  tail: Promise<void>;
  pending: number;
}

class FaultProxyServer implements FaultProxy {
  readonly host = '127.0.0.1' as const;
  port = 0;
  mode: FaultMode = { kind: 'pass' };
  readonly stats = { accepted: 0, reset: 0, droppedBytes: 0 };
  private readonly server: net.Server;
  private readonly pairs = new Set<Pair>();

  constructor(private readonly target: FaultProxyOptions) {
    this.server = net.createServer({ allowHalfOpen: true }, (client) => this.accept(client));
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, this.host, () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  get connectionCount(): number {
    return this.pairs.size;
  }

  setMode(mode: 'pass' | 'reset' | 'blackhole' | 'latency', ms = 0): void {
    if (mode === 'latency') {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`latency must be >= 0 ms, got ${ms}`);
      this.mode = { kind: 'latency', ms };
    } else {
      this.mode = { kind: mode };
    }
    if (mode === 'reset') this.resetAll();
  }

  resetAll(): void {
    for (const pair of [...this.pairs]) this.kill(pair, true);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const pair of [...this.pairs]) this.kill(pair, false);
    await closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private accept(client: net.Socket): void {
    this.stats.accepted += 1;
    if (this.mode.kind === 'reset') {
      this.stats.reset += 1;
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect({ host: this.target.targetHost, port: this.target.targetPort, allowHalfOpen: true });
    const lane = (): Lane => ({ tail: Promise.resolve(), pending: 0 });
    const pair: Pair = { client, upstream, queues: [lane(), lane()], timers: new Set(), dead: false };
    this.pairs.add(pair);
    this.forward(pair, client, upstream, 0);
    this.forward(pair, upstream, client, 1);
  }

  private forward(pair: Pair, from: net.Socket, to: net.Socket, direction: 0 | 1): void {
    from.on('data', (chunk: Buffer) => {
      if (this.mode.kind === 'blackhole') {
        this.stats.droppedBytes += chunk.length;
        return;
      }
      this.schedule(pair, direction, () => to.write(chunk));
    });
    from.on('end', () => {
      if (this.mode.kind === 'blackhole') return;
      this.schedule(pair, direction, () => to.end());
    });
    from.on('error', () => this.kill(pair, true));
    from.on('close', (hadError: boolean) => {
      if (hadError) this.kill(pair, true);
      else this.schedule(pair, direction, () => this.kill(pair, false));
    });
  }

  /** Runs `action` after the current latency, behind anything queued earlier in that direction. */
  private schedule(pair: Pair, direction: 0 | 1, action: () => void): void {
    if (pair.dead) return;
    const lane = pair.queues[direction];
    const delayMs = this.mode.kind === 'latency' ? this.mode.ms : 0;
    if (delayMs === 0 && lane.pending === 0) {
      action();
      return;
    }
    const due = Date.now() + delayMs;
    lane.pending += 1;
    lane.tail = lane.tail
      .then(() => this.sleep(pair, due - Date.now()))
      .then(() => {
        if (!pair.dead) action();
      })
      .finally(() => {
        lane.pending -= 1;
      });
  }

  private sleep(pair: Pair, ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        pair.timers.delete(timer);
        resolve();
      }, ms);
      pair.timers.add(timer);
    });
  }

  private kill(pair: Pair, reset: boolean): void {
    if (pair.dead) return;
    pair.dead = true;
    this.pairs.delete(pair);
    if (reset) this.stats.reset += 1;
    for (const timer of pair.timers) clearTimeout(timer);
    pair.timers.clear();
    for (const socket of [pair.client, pair.upstream]) {
      socket.on('error', () => undefined);
      if (socket.destroyed) continue;
      // resetAndDestroy() needs an established socket; a still-connecting one is just destroyed.
      if (reset && !socket.connecting) socket.resetAndDestroy();
      else socket.destroy();
    }
  }
}

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  return new FaultProxyServer(opts).listen();
}
