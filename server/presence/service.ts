/**
 * PresenceService: turns connection signals into state changes.
 *
 * A user is connected here while they hold a WebSocket or a live event subscription (match.events,
 * which over HTTP is an SSE stream) on this process.
 *
 * Signals: a socket or stream closing (noticed at once), WebSocket pings unanswered (server/http/keepalive.ts
 * terminates the socket once it has been silent HEARTBEAT_TIMEOUT_MS, within an interval after),
 * heartbeats, and last-seen going stale when the
 * process holding a socket died (one sweep per pool over the `seen` set, never a timer per
 * connection). A drop starts a reconnect grace (RECONNECT_GRACE_MS): the partner hears
 * `partner_reconnecting`, then `partner_back` if the user returns to any process in time, or
 * `partner_left` (reason `disconnect`) and is re-queued at the front. A page that says it is going
 * (`leave`, from session.leave) gets LEAVE_GRACE_MS instead. All of it is atomic Lua and
 * conditional on state, so several signals about one drop act once.
 */
import type { Logger } from '../infra/logger';
import type { StateStore } from '../state/store';
import { PeriodicJob, type JobReporter } from '../shared/periodic';

export interface Socket {
  once(event: 'close', fn: () => void): unknown;
  close(code?: number, reason?: string): void;
}

// A grace-expiry sweep runs this long after the deadline, so the deadline has surely passed in Redis.
const GRACE_SLACK_MS = 2;

export interface PresenceOptions {
  graceMs: number;
  /** The grace after `session.leave` (the page said it is going): LEAVE_GRACE_MS. */
  leaveGraceMs: number;
  /** Told after each run of the refresh and the sweep (metrics). */
  onJobRun?: JobReporter;
  timeoutMs: number;
  refreshMs: number;
  sweepMs: number;
}

export class PresenceService<S extends Socket = Socket> {
  private readonly sockets = new Map<string, Set<S>>();
  /** Open event streams per user (match.events, over WebSocket or HTTP/SSE). */
  private readonly streams = new Map<string, number>();
  private readonly refreshJob: PeriodicJob<void>;
  private readonly sweepJob: PeriodicJob<void>;
  private readonly oneShots = new Set<NodeJS.Timeout>();
  private closing = false;

  constructor(
    private readonly store: StateStore,
    private readonly opts: PresenceOptions,
    private readonly log: Logger,
    private readonly hooks: { onSweep?(r: { silent: number; disconnected: number; back: number }): void } = {},
  ) {
    this.refreshJob = new PeriodicJob({ name: 'presence refresh', intervalMs: opts.refreshMs, log, onRun: opts.onJobRun }, () => this.refresh());
    this.sweepJob = new PeriodicJob({ name: 'presence sweep', intervalMs: opts.sweepMs, log, onRun: opts.onJobRun }, () => this.sweep());
  }

  /** Open sockets of `uid` on this process. */
  connections(uid: string): number {
    return this.sockets.get(uid)?.size ?? 0;
  }

  /** Hands each open socket of `uid` on this process to `close`. */
  closeAll(uid: string, close: (socket: S) => void): void {
    for (const s of [...(this.sockets.get(uid) ?? [])]) close(s);
  }

  /** A socket authenticated as `uid` opened on this process. */
  attach(uid: string, socket: S): void {
    let set = this.sockets.get(uid);
    if (!set) this.sockets.set(uid, (set = new Set()));
    set.add(socket);
    void this.signal(uid, 'seen');
    socket.once('close', () => {
      set.delete(socket);
      if (set.size > 0) return;
      this.sockets.delete(uid);
      this.goneIfLast(uid);
    });
  }

  /**
   * A live event subscription of `uid` (match.events) counts as a connection until `signal`
   * aborts: over HTTP (SSE) it is the only one the user has; over WebSocket it ends with its socket.
   */
  holdStream(uid: string, signal: AbortSignal): void {
    if (signal.aborted) return;
    this.streams.set(uid, (this.streams.get(uid) ?? 0) + 1);
    if (!this.sockets.has(uid)) void this.signal(uid, 'seen');
    signal.addEventListener(
      'abort',
      () => {
        const n = (this.streams.get(uid) ?? 1) - 1;
        if (n > 0) return void this.streams.set(uid, n);
        this.streams.delete(uid);
        this.goneIfLast(uid);
      },
      { once: true },
    );
  }

  /** The user's last socket or stream on this process ended: a drop (unless another remains). */
  private goneIfLast(uid: string): void {
    if (this.sockets.has(uid) || this.streams.has(uid)) return;
    // During our own shutdown clients move to another process: not a drop.
    if (this.closing) return;
    // Act the moment the grace runs out (a short one after session.leave), not at the next periodic sweep.
    void this.signal(uid, 'dropped').then((dueInMs) => this.sweepAt((dueInMs ?? this.opts.graceMs) + GRACE_SLACK_MS));
  }

  /**
   * The user's page is going (session.leave, a beacon on `pagehide`, to any process): their
   * connection loss, already noticed or still to come, ends their match after LEAVE_GRACE_MS
   * unless the same session is back first (a reload). Throws when Redis is away (the caller says so).
   */
  async leave(uid: string): Promise<void> {
    const r = await this.store.inUserPool(uid, (pool, guess) => this.store.presence({ uid, pool, guess, mode: 'leaving', ...this.graces() }));
    // A grace cut short here runs out here: the process that saw the drop waits for the long one.
    if (r.dueInMs !== null) this.sweepAt(r.dueInMs + GRACE_SLACK_MS);
  }

  private graces() {
    return { graceMs: this.opts.graceMs, leaveGraceMs: this.opts.leaveGraceMs, timeoutMs: this.opts.timeoutMs };
  }

  /**
   * End a user's session now (a security violation, a ban, an operator's disconnect): revoke their
   * token, close their sockets on this process with `close`, and take them out of any match or
   * queue (the partner is re-queued at the front). Every process closes the user's sockets when the
   * revocation is published; this one closes its own at once too, in case its subscriber
   * connection is down and misses the message. The audit trail names `actor` (`security`, or
   * `operator:<name>` for a console disconnect, whose words are in operator_actions).
   */
  async endSession(uid: string, reason: string, revokeForMs: number, close: (socket: S) => void, actor = 'security'): Promise<void> {
    await this.store.revoke(uid, reason, revokeForMs);
    this.closeAll(uid, close);
    const pool = await this.store.poolOf(uid);
    const me = await this.store.getUser(uid, pool);
    if (me.matchId && (me.state === 'CONNECTING' || me.state === 'IN_CALL')) {
      await this.store.leave({ uid, pool, reason: 'disconnect', matchId: me.matchId, actor });
    } else if (me.state === 'WAITING') {
      await this.store.cancel({ uid, pool, reason: 'session_ended', actor });
    }
  }

  /** Tells Redis; resolves with when a grace this started runs out (ms from now), or null. */
  async signal(uid: string, mode: 'seen' | 'dropped'): Promise<number | null> {
    try {
      const r = await this.store.inUserPool(uid, (pool, guess) => this.store.presence({ uid, pool, guess, mode, ...this.graces() }));
      return r.dueInMs;
    } catch (err) {
      // Redis down: the sweep after it returns catches this user by their stale last-seen.
      this.log.warn({ err, uid, mode }, 'presence signal failed');
      return null;
    }
  }

  start(): void {
    this.refreshJob.start();
    this.sweepJob.start();
  }

  /** Stop sweeping; sockets closing from now on are not drops (see attach). Resolves once a run in progress has ended. */
  async stop(): Promise<void> {
    this.closing = true;
    for (const t of this.oneShots) clearTimeout(t);
    this.oneShots.clear();
    await Promise.all([this.refreshJob.stop(), this.sweepJob.stop()]);
  }

  private sweepAt(delayMs: number): void {
    if (this.closing) return;
    const t = setTimeout(() => {
      this.oneShots.delete(t);
      void this.sweepJob.runNow(); // joins a sweep in progress
    }, delayMs);
    t.unref();
    this.oneShots.add(t);
  }

  /** Mark every user with a live socket or stream here as seen, in one batch per pool. */
  async refresh(): Promise<void> {
    const uids = [...new Set([...this.sockets.keys(), ...this.streams.keys()])];
    const at = this.store.now();
    try {
      for (let i = 0; i < uids.length; i += 1000) {
        const chunk = uids.slice(i, i + 1000);
        const pools = await this.store.poolsOf(chunk);
        const byPool = new Map<string, string[]>();
        chunk.forEach((u, j) => {
          const p = pools[j]!;
          const list = byPool.get(p);
          if (list) list.push(u);
          else byPool.set(p, [u]);
        });
        await this.store.touch(byPool, at);
      }
    } catch (err) {
      this.log.warn({ err }, 'presence refresh failed');
    }
  }

  async sweep(): Promise<void> {
    try {
      for (const pool of await this.store.active.list()) {
        const r = await this.store.graces(pool, this.graces());
        if (r.silent.length || r.disconnected.length || r.back.length) {
          this.log.info({ pool, silent: r.silent.length, disconnected: r.disconnected.length, back: r.back.length }, 'presence sweep');
        }
        this.hooks.onSweep?.({ silent: r.silent.length, disconnected: r.disconnected.length, back: r.back.length });
      }
    } catch (err) {
      this.log.warn({ err }, 'presence sweep failed');
    }
  }
}
