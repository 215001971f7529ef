/**
 * KeepAlive: finds dead WebSockets (a peer gone without a close: a pulled cable, a sleeping
 * laptop, a killed process behind a NAT) with one interval for all sockets.
 *
 * Each socket is visited about once every `pingMs`. A socket not heard from (no pong) for half
 * an interval gets a WebSocket ping frame, which the peer's WebSocket stack answers by itself
 * (browsers and `ws` alike: no JSON, no application code on either side). A socket is terminated
 * at a visit only when both hold: its last pong (or its opening) is `timeoutMs` old (raised to
 * two intervals at least), and a ping has been waiting for its answer for half an interval. That
 * is usually within one interval after `timeoutMs` (two if many sockets closed meanwhile, and
 * longer in wall time when the event loop lags: ages are counted in timer ticks). Its 'close' then
 * reaches tRPC and presence as any drop does. Ages are counted in ticks, not visits: where a
 * socket falls in a pass shifts as sockets come and go, and that must never cut short the time
 * a peer has to answer.
 *
 * A pass over the sockets is spread over the interval in ticks of TICK_MS, each visiting its
 * share of the sockets: a ping is a socket write (about 25 µs here), so pinging 10,000 quiet
 * sockets in one go would stall the event loop for a quarter of a second every interval, and
 * every request that arrived meanwhile would wait for it. At the default 3 s interval a tick
 * visits 1/120 of the sockets (about 2 ms of work at 10,000). The pongs come back spread out the
 * same way.
 * Per socket this costs two small integers on the socket and one shared 'pong' listener: no timer
 * or closure per connection.
 */
import type { WebSocket } from 'ws';

const HEARD = Symbol('keepalive.heard');
/** The tick of the first ping since the socket was last heard (outstanding while > HEARD). */
const PINGED = Symbol('keepalive.pinged');
type Watched = WebSocket & { [HEARD]: number; [PINGED]: number };
const OPEN = 1;
/** How often a tick visits its share of the sockets; a pass is `pingMs / TICK_MS` ticks. */
const TICK_MS = 25;

/** What KeepAlive needs of a socket (a `ws` WebSocket). */
export type KeptSocket = Pick<WebSocket, 'readyState' | 'ping' | 'terminate' | 'on'>;

export interface KeepAliveOptions {
  pingMs: number;
  timeoutMs: number;
}

export class KeepAlive {
  /** Ticks so far: a socket stores the tick it was last heard in. */
  private readonly clock = { ticks: 0 };
  /** Ticks per pass (per `pingMs`). */
  readonly slices: number;
  /** Quiet this many ticks: pinged at its visit; this many, with a ping unanswered for pingAfter: terminated. */
  private readonly pingAfter: number;
  private readonly deadAfter: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly onPong: (this: WebSocket) => void;
  /** Where the current pass is, and how many sockets each of its ticks visits. */
  private cursor: Iterator<KeptSocket> | null = null;
  private perTick = 0;

  constructor(
    private readonly sockets: { readonly size: number } & Iterable<KeptSocket>,
    private readonly opts: KeepAliveOptions,
  ) {
    this.slices = Math.max(1, Math.round(opts.pingMs / TICK_MS));
    this.pingAfter = Math.max(1, Math.floor(this.slices / 2));
    this.deadAfter = Math.max(2 * this.slices, Math.ceil((opts.timeoutMs / opts.pingMs) * this.slices));
    this.onPong = heardAt(this.clock);
  }

  /** Watch a new socket (it counts as heard now). */
  watch(ws: KeptSocket): void {
    (ws as Watched)[HEARD] = this.clock.ticks;
    (ws as Watched)[PINGED] = -1;
    ws.on('pong', this.onPong);
    this.start();
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.opts.pingMs / this.slices);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * One tick: visit the next share of the sockets. Every `slices`-th tick starts a pass, whose
   * ticks each visit 1/slices of the sockets there were at its start, so every one of those is
   * visited once per pass. (The Set's iterator also reaches sockets added during the pass when a
   * tick has room left: a visit more, which pings them if they have been quiet long enough.)
   */
  tick(): void {
    if (this.clock.ticks++ % this.slices === 0) {
      this.cursor = this.sockets[Symbol.iterator]();
      this.perTick = Math.ceil(this.sockets.size / this.slices);
    }
    if (!this.cursor) return;
    for (let i = 0; i < this.perTick; i++) {
      const next = this.cursor.next();
      if (next.done) {
        this.cursor = null;
        return;
      }
      this.visit(next.value as Watched);
    }
  }

  private visit(ws: Watched): void {
    if (ws.readyState !== OPEN) return;
    const now = this.clock.ticks;
    const heard = ws[HEARD] ?? now;
    const quiet = now - heard;
    if (quiet < this.pingAfter) return;
    const waiting = ws[PINGED] > heard;
    if (quiet >= this.deadAfter && waiting && now - ws[PINGED] >= this.pingAfter) return void ws.terminate();
    if (!waiting) ws[PINGED] = now;
    ws.ping();
  }
}

/** One 'pong' listener shared by every socket (the socket is `this`). */
function heardAt(clock: { ticks: number }): (this: WebSocket) => void {
  return function (this: WebSocket) {
    (this as Watched)[HEARD] = clock.ticks;
  };
}
