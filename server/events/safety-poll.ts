/**
 * SafetyPoll: the event hub's safety net for a lost notification. Every `everyMs` each watched
 * user's stream is checked again, from one process-wide interval spread over POLL_SLICES steps.
 * A step asks Redis two things for its whole slice, pipelined: the users' pools (one MGET on one
 * Redis) and the newest id of each history; the hub then wakes only a stream with something after
 * its cursor (or follows a user into another pool).
 */
import { pipelineAcross, type Queued, type RedisClient } from '../infra/redis';
import type { Keys } from '../state/keys';
import type { PoolLookup } from './hub';

const POLL_SLICES = 15;

/** What one check found for a user: their pool, and their history's newest id (null: none, or unreadable with `failed`). */
export type Checked = (uid: string, pool: string, newest: string | null, failed: boolean) => void;

export class SafetyPoll {
  private timer: NodeJS.Timeout | undefined;
  private cursor: Iterator<string> | null = null;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly pools: PoolLookup,
    private readonly everyMs: number,
    /** The watched users (the hub's map of streams by user). */
    private readonly watched: ReadonlyMap<string, unknown>,
    private readonly checked: Checked,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.slice(), this.everyMs / POLL_SLICES);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.cursor = null;
  }

  /** Checks the next 1/POLL_SLICES of the users, so each is checked every `everyMs`. */
  private slice(): void {
    let quota = Math.ceil(this.watched.size / POLL_SLICES);
    const uids: string[] = [];
    this.cursor ??= this.watched.keys();
    while (quota-- > 0) {
      let r = this.cursor.next();
      if (r.done) {
        this.cursor = this.watched.keys();
        r = this.cursor.next();
        if (r.done) break;
      }
      uids.push(r.value);
    }
    if (uids.length) void this.check(uids);
  }

  private async check(uids: string[]): Promise<void> {
    let pools: string[];
    let heads: Array<[Error | null, unknown]>;
    try {
      pools = await this.pools.poolsOf(uids);
      heads = await pipelineAcross(
        this.redis,
        uids.map((uid, i): Queued => {
          const key = this.keys.events(pools[i]!, uid);
          return [key, (p) => p.xrevrange(key, '+', '-', 'COUNT', 1)];
        }),
      );
    } catch {
      return; // Redis unreachable: the streams retry by themselves, and the next round checks again
    }
    uids.forEach((uid, i) => {
      const [err, newest] = heads[i] ?? [null, []];
      this.checked(uid, pools[i]!, err ? null : ((newest as Array<[string, string[]]>)[0]?.[0] ?? null), err !== null);
    });
  }
}
