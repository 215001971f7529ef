/**
 * KeepAlive: finds dead WebSockets (a peer gone without a close: a pulled cable, a sleeping
 * laptop, a killed process behind a NAT) with one interval for all sockets.
 *
 * Every `pingMs` each socket not heard from since the last sweep gets a WebSocket ping frame,
 * which the peer's WebSocket stack answers by itself (browsers and `ws` alike: no JSON, no
 * application code on either side). A socket whose last pong is `timeoutMs` old (at least two
 * sweeps) is terminated; its 'close' then reaches tRPC and presence as any drop does.
 * Per socket this costs one small integer on the socket and one shared 'pong' listener: no timer
 * or closure per connection.
 */
import type { WebSocket } from 'ws';

const HEARD = Symbol('keepalive.heard');
type Watched = WebSocket & { [HEARD]: number };
const OPEN = 1;

export interface KeepAliveOptions {
  pingMs: number;
  timeoutMs: number;
}

export class KeepAlive {
  /** Sweeps so far: a socket stores the sweep it was last heard in. */
  private readonly clock = { sweeps: 0 };
  private readonly limit: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly onPong: (this: WebSocket) => void;

  constructor(
    private readonly sockets: Iterable<WebSocket>,
    private readonly opts: KeepAliveOptions,
  ) {
    this.limit = Math.max(2, Math.ceil(opts.timeoutMs / opts.pingMs));
    this.onPong = heardAt(this.clock);
  }

  /** Watch a new socket (it counts as heard now). */
  watch(ws: WebSocket): void {
    (ws as Watched)[HEARD] = this.clock.sweeps;
    ws.on('pong', this.onPong);
    this.start();
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sweep(), this.opts.pingMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass over the sockets: ping the quiet ones, terminate the silent ones. */
  sweep(): void {
    const now = ++this.clock.sweeps;
    for (const ws of this.sockets) {
      if (ws.readyState !== OPEN) continue;
      const silent = now - ((ws as Watched)[HEARD] ?? now);
      if (silent >= this.limit) ws.terminate();
      else if (silent > 0) ws.ping();
    }
  }
}

/** One 'pong' listener shared by every socket (the socket is `this`). */
function heardAt(clock: { sweeps: number }): (this: WebSocket) => void {
  return function (this: WebSocket) {
    (this as Watched)[HEARD] = clock.sweeps;
  };
}
