/**
 * StateStore: the typed edge around the state scripts. Every mutation is one Lua call that
 * validates, moves sorted sets, updates the hash, bumps `version`, appends the audit event to the
 * pool's outbox and the user-visible events to the user's stream, all atomically. Every call
 * carries an op id, so a command that ioredis resends after a reconnect cannot apply twice
 * (how a call is made: script-runner.ts).
 */
import { randomUUID } from 'node:crypto';
import { pipelineAcross, publish, type Queued } from '../infra/redis';
import { InvalidTransitionError, LimitExceededError, NotInMatchError, TextOnlyError, VersionConflictError } from './errors';
import { nameIndexKey } from './keys';
import { asState } from './queries';
import { ScriptRunner, list, type MatchMade } from './script-runner';
import { STATES, State } from './states';
import type { ChatVariants } from '../safety/text-safety';

/** What a user chose for the text they receive (README "Text safety"). */
export interface ChatPreferences {
  /** Links, e-mail addresses and phone numbers show when both users allow them. */
  allowContacts?: boolean;
  /** Offensive words are masked for this user unless false. */
  profanityFilter?: boolean;
}

export {
  PoolGuessMissedError,
  stateLimits,
  type FunnelSteps,
  type Guard,
  type MatchMade,
  type MatchMode,
  type StateLimits,
  type StoreWiring,
} from './script-runner';

export type LeaveReason = 'skip' | 'end' | 'disconnect' | 'timeout';

export class StateStore extends ScriptRunner {
  /**
   * Point the user at `pool` (only while they rest); a stale history there from an earlier stay is
   * dropped. Their hash leaves the pool they were in (depart-2.lua): it lives in one pool at a time.
   * `from`: that pool, when the caller has just read it (else it is asked).
   */
  async movePool(uid: string, pool: string, from?: string): Promise<void> {
    const current = from ?? (await this.poolOf(uid));
    if (current === pool) return;
    const left = await this.run('depart', current, this.keys.user(current, uid), { uid });
    if (!left.ok) throw new InvalidTransitionError(asState(left.state), State.IDLE);
    // Register the pool first: a block made from now on is mirrored into it by blockMirror().
    await this.redis.sadd(this.keys.pools(), pool);
    // Bring this user's blocks (both ways) into the pool, so its matching script sees them.
    const [mine, theirs] = await Promise.all([this.redis.smembers(this.keys.blocksOf(uid)), this.redis.smembers(this.keys.blockedBy(uid))]);
    const m = this.redis.multi();
    if (mine.length) m.sadd(this.keys.blocks(pool, uid), ...mine);
    for (const other of theirs) m.sadd(this.keys.blocks(pool, other), uid);
    await m.del(this.keys.events(pool, uid), this.keys.eventBytes(pool, uid)).exec();
    // The pointer last, on its own (another slot on a cluster): once it names the pool, the pool is ready.
    await this.redis.set(this.keys.userPool(uid), pool);
    // Then whoever listens to the user in the pool they left is told where they went (a bare pool name).
    await publish(this.redis, this.keys.notify(current, uid), pool);
  }

  /**
   * Mirror a block (or its removal) into Redis: the pool-independent record first, then every
   * pool's set (movePool copies the record into pools registered later). Every write is
   * idempotent and Postgres holds the block: a call that failed part-way is simply made again.
   */
  async blockMirror(uid: string, other: string, blocked: boolean): Promise<void> {
    const op = blocked ? 'sadd' : 'srem';
    const write = (key: string, member: string): Queued => [key, (p) => p[op](key, member)];
    await this.batch([write(this.keys.blocksOf(uid), other), write(this.keys.blockedBy(other), uid)]);
    await this.batch((await this.pools()).map((pool) => write(this.keys.blocks(pool, uid), other)));
  }

  private async batch(cmds: Queued[]): Promise<void> {
    const failed = (await pipelineAcross(this.redis, cmds)).find(([err]) => err);
    if (failed) throw failed[0]!;
  }

  /**
   * `minVersion`: when the user comes from another pool, their version there (it carries on here).
   * `allowed`: the states the caller declared (Precondition); the script refuses any other with
   * WRONG_STATE. `guess`: `pool` is a guess (poolHint); a wrong one throws PoolGuessMissedError.
   */
  async enqueue(a: {
    uid: string;
    pool: string;
    name?: string;
    interests?: string[];
    op?: string;
    minVersion?: number;
    guess?: boolean;
    allowed?: readonly State[];
    /** Text-safety choices, kept on the user's hash for relay (absent: contacts hidden, filter on). */
    chat?: ChatPreferences;
    /** Hide this user's address from partners (signal relay; absent: hidden). */
    privacy?: boolean;
  }) {
    const r = await this.run('enqueue', a.pool, this.keys.user(a.pool, a.uid), {
      uid: a.uid,
      name: a.name ?? '',
      nameKey: a.name ? nameIndexKey(a.name) : undefined,
      interests: (a.interests ?? []).join(','),
      op: this.op(a.uid, a.op),
      mids: [randomUUID()],
      minVersion: a.minVersion,
      guess: a.guess,
      allowed: a.allowed,
      chat: a.chat,
      privacy: a.privacy,
    });
    if (!r.ok) throw new InvalidTransitionError(asState(r.state), State.WAITING);
    return { state: asState(r.state), version: Number(r.version), match: (r.match as MatchMade | null) ?? null };
  }

  async cancel(a: { uid: string; pool: string; op?: string; reason?: string; actor?: string; guess?: boolean; allowed?: readonly State[] }) {
    const r = await this.run('cancel', a.pool, this.keys.user(a.pool, a.uid), {
      uid: a.uid,
      op: this.op(a.uid, a.op),
      reason: a.reason,
      actor: a.actor,
      guess: a.guess,
      allowed: a.allowed,
    });
    if (!r.ok) throw new InvalidTransitionError(asState(r.state), State.IDLE);
    return { state: asState(r.state), version: Number(r.version) };
  }

  async leave(a: { uid: string; pool: string; reason: LeaveReason; matchId?: string; op?: string; actor?: string; guess?: boolean }) {
    const r = await this.run('leave', a.pool, this.keys.user(a.pool, a.uid), {
      uid: a.uid,
      matchId: a.matchId,
      reason: a.reason,
      op: this.op(a.uid, a.op),
      mids: [randomUUID(), randomUUID()],
      actor: a.actor,
      guess: a.guess,
    });
    if (!r.ok) throw new NotInMatchError();
    return {
      state: asState(r.state),
      already: r.already === true,
      /** The match this call ended (none when it was already over). */
      ended: (r.ended as string | undefined) ?? null,
      partnerId: (r.partnerId as string | null) ?? null,
      matches: list<MatchMade>(r.matches),
    };
  }

  async joined(a: { uid: string; pool: string; matchId: string; guess?: boolean; allowed?: readonly State[] }) {
    const r = await this.run('joined', a.pool, this.keys.user(a.pool, a.uid), { uid: a.uid, matchId: a.matchId, guess: a.guess, allowed: a.allowed });
    if (!r.ok) throw new NotInMatchError(asState(r.state));
    return { state: asState(r.state), both: r.both === true };
  }

  /** Handle passed CONNECTING deadlines in a pool. */
  async expire(pool: string, batch = 100) {
    const r = await this.run('expire', pool, this.keys.deadlines(pool), { batch, mids: uuids(batch) });
    return { expired: list<string>(r.expired), matches: list<MatchMade>(r.matches) };
  }

  /** Safety-net match attempt over the oldest waiting users of a pool. */
  async sweep(pool: string, batch = 50) {
    const r = await this.run('sweep', pool, this.keys.state(pool, State.WAITING), { batch, mids: uuids(Math.ceil(batch / 2)) });
    return { matches: list<MatchMade>(r.matches) };
  }

  /** Undo a match whose call could not be set up: both back at their places, told, and tried again at once. */
  async rollback(a: { pool: string; matchId: string; reason?: string }) {
    const r = await this.run('rollback', a.pool, this.keys.match(a.pool, a.matchId), { matchId: a.matchId, reason: a.reason, mids: uuids(2) });
    return { ok: r.ok, users: list<string>(r.users), matches: list<MatchMade>(r.matches) };
  }

  /** One step of the transition table for one user, optionally compare-and-set on `expectedVersion`. */
  async transition(a: { uid: string; pool: string; to: State; expectedVersion?: number; reason?: string; actor?: string; op?: string }) {
    const r = await this.run('transition', a.pool, this.keys.user(a.pool, a.uid), {
      uid: a.uid,
      to: a.to,
      expectedVersion: a.expectedVersion,
      reason: a.reason,
      actor: a.actor,
      op: this.op(a.uid, a.op),
    });
    if (!r.ok && r.error === 'VERSION_CONFLICT') throw new VersionConflictError(a.expectedVersion ?? -1, Number(r.version));
    if (!r.ok) throw new InvalidTransitionError(asState(r.state), a.to);
    return { from: asState(r.from), state: asState(r.state), version: Number(r.version) };
  }

  /** Deliver the deferred `matched` events of a match whose call is ready (LiveKit room made). */
  async announce(a: {
    pool: string;
    matchId: string;
    mode: 'direct' | 'livekit';
    room?: string;
    forA?: Record<string, unknown>;
    forB?: Record<string, unknown>;
  }) {
    const r = await this.run('announce', a.pool, this.keys.match(a.pool, a.matchId), { ...a, op: `announce:${a.matchId}` });
    return { ok: r.ok };
  }

  /**
   * Refuse this user's session tokens for `ttlMs` (ended for a security violation), and tell every
   * process to close the user's sockets (`revocations` channel).
   */
  async revoke(uid: string, reason: string, ttlMs: number): Promise<void> {
    await this.redis.multi().set(`${this.keys.root}:revoked:${uid}`, reason, 'PX', ttlMs).publish(this.keys.revocations(), uid).exec();
  }

  /** Stop (or resume) making matches in a pool; a pause expires by itself after `ttlMs`. */
  async pausePool(pool: string, reason: string, ttlMs: number): Promise<void> {
    await this.redis.set(`${this.keys.poolPrefix(pool)}paused`, reason, 'PX', ttlMs);
  }
  async resumePool(pool: string): Promise<void> {
    await this.redis.del(`${this.keys.poolPrefix(pool)}paused`);
  }

  async force(a: {
    uid: string;
    pool: string;
    to: State;
    actor: string;
    reason: string;
    score?: number;
    fields?: Record<string, string | number>;
    notice?: { code: string; message: string };
    /** The version to continue from, when higher than the hash's (a restore after a data loss). */
    minVersion?: number;
    /** A cluster pool's rebuild (pool-epochs.ts): runs while the pool's other calls are held. */
    rebuild?: boolean;
  }) {
    const r = await this.run('force', a.pool, this.keys.user(a.pool, a.uid), { ...a, op: this.op(a.uid, undefined) });
    return { from: asState(r.from), state: asState(r.state), version: Number(r.version) };
  }

  /**
   * An operator ends a match (close-2.lua): both users still in it rest, told `notice`; nobody is
   * re-queued. Throws NotInMatchError when the match is over or unknown in `pool`.
   */
  async close(a: { pool: string; matchId: string; actor: string; reason: string; notice: { code: string; message: string } }) {
    // An op id of the server's own: a resent command applies once, a second operator's call is refused.
    const r = await this.run('close', a.pool, this.keys.match(a.pool, a.matchId), { ...a, op: this.op(`close-${a.matchId}`, undefined) });
    if (!r.ok) throw new NotInMatchError();
    return { users: list<string>(r.users) };
  }

  /** An operator's notice to a user (a warning), added to their event history; no change of state. */
  async notify(a: { uid: string; pool: string; notice: { code: string; message: string } }) {
    await this.run('notify', a.pool, this.keys.user(a.pool, a.uid), { uid: a.uid, notice: a.notice, op: this.op(a.uid, undefined) });
  }

  async repair(a: { uid: string; pool: string }) {
    const r = await this.run('repair', a.pool, this.keys.user(a.pool, a.uid), { uid: a.uid, states: STATES });
    return { removed: list<State>(r.removed), added: (r.added as State | null) ?? null, lobby: (r.lobby as 'added' | 'removed' | null) ?? null };
  }

  /**
   * Relay chat, typing, the sender's media state or a WebRTC signal to the partner in `matchId` (or record the call's media path). `masks`: the chat text's
   * masked variants (safety/text-safety.ts), of which the script gives the partner the one both
   * users' preferences call for.
   */
  async relay(a: {
    uid: string;
    pool: string;
    matchId: string;
    kind: 'chat' | 'typing' | 'media' | 'signal' | 'path';
    text?: string;
    masks?: ChatVariants;
    typing?: boolean;
    /** kind 'media': what the sender is sending now. */
    audio?: boolean;
    video?: boolean;
    /** kind 'media': the sender's video could not connect (they go on by text). */
    failed?: boolean;
    data?: unknown;
    /** kind 'signal': `data` without the sender's own addresses, relayed instead when the sender hides them (enqueue `privacy`). */
    hidden?: unknown;
    /** kind 'path': the call's media path as the sender's client saw it (counted once per match). */
    path?: 'relay' | 'direct';
    clientMessageId?: string;
    guess?: boolean;
  }) {
    const r = await this.run('relay', a.pool, this.keys.user(a.pool, a.uid), {
      uid: a.uid,
      matchId: a.matchId,
      kind: a.kind,
      text: a.text,
      masks: a.masks,
      typing: a.typing,
      audio: a.audio,
      video: a.video,
      failed: a.failed,
      data: a.data,
      hidden: a.hidden,
      path: a.path,
      cmid: a.clientMessageId,
      op: a.clientMessageId ? `${a.uid}:chat:${a.clientMessageId}` : undefined,
      guess: a.guess,
    });
    if (!r.ok && r.error === 'TOO_MANY_SIGNALS') throw new LimitExceededError('TOO_MANY_SIGNALS', { max: r.max });
    if (!r.ok && r.error === 'TEXT_ONLY') throw new TextOnlyError();
    if (!r.ok) throw new NotInMatchError();
    return { duplicate: r.duplicate === true };
  }

  /**
   * A connection signal: `seen` (live socket or heartbeat; ends a grace), `dropped` (starts one) or
   * `leaving` (the page is going: the grace, running or to come, is `leaveGraceMs`; presence-2.lua).
   * `timeoutMs`: how long after a `leaving` a drop still counts as that leave.
   */
  async presence(a: Graces & { uid: string; pool: string; mode: 'seen' | 'dropped' | 'leaving'; guess?: boolean }) {
    const r = await this.run('presence', a.pool, this.keys.user(a.pool, a.uid), { ...a, mids: a.mode === 'seen' ? [randomUUID()] : [] });
    return {
      changed: r.changed === true,
      matches: list<MatchMade>(r.matches),
      /** A grace now runs out this long from now (a drop, or a leave that cut one short). */
      dueInMs: typeof r.dueInMs === 'number' ? r.dueInMs : null,
    };
  }

  /** One presence sweep of a pool: silent drops, and graces that ran out. */
  async graces(pool: string, a: Graces & { batch?: number }) {
    const batch = a.batch ?? 200;
    const r = await this.run('graces', pool, `${this.keys.poolPrefix(pool)}seen`, { ...a, batch, mids: uuids(batch) });
    return {
      silent: list<string>(r.silent),
      disconnected: list<string>(r.disconnected),
      back: list<string>(r.back),
      matches: list<MatchMade>(r.matches),
    };
  }

  /**
   * Refresh last-seen for many users at once (one ZADD per pool). `at`: when they were known to be
   * connected (taken before any await, so a socket that closed since never looks newer than its drop).
   */
  async touch(byPool: Map<string, string[]>, at: number): Promise<void> {
    const cmds: Queued[] = [];
    for (const [pool, uids] of byPool) {
      const key = `${this.keys.poolPrefix(pool)}seen`;
      if (uids.length) cmds.push([key, (p) => p.zadd(key, ...uids.flatMap((u) => [at, u]))]);
    }
    await pipelineAcross(this.redis, cmds);
  }
}

/** The reconnect graces (RECONNECT_GRACE_MS, LEAVE_GRACE_MS) and the silence that is a drop (HEARTBEAT_TIMEOUT_MS). */
export interface Graces {
  graceMs: number;
  leaveGraceMs: number;
  timeoutMs: number;
}

function uuids(n: number): string[] {
  return Array.from({ length: n }, () => randomUUID());
}
