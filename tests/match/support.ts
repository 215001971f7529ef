/**
 * Helpers for the matchmaking tests: several connected users at once, the queue as Redis holds
 * it, and a user's full event history. Everything goes through the running app's own Redis
 * connection and key layout, so the tests see exactly what the scripts wrote.
 */
import type { MatchEvent } from '../../server/events/types';
import type { OutboxRecord } from '../../server/audit/records';
import { issueToken } from '../../server/session/token';
import { State } from '../../server/state/states';
import type { TestApp } from '../support/app';
import { connectUser, type TestUser } from '../support/client';
import { ADULT_CONSENT } from '../../server/safety/age';

export const POOL = 'global';

/**
 * Subscribe from the start of a new user's history rather than "from now". tRPC acknowledges a
 * subscription (`started`) before the server's generator has read the history head, so a user
 * who enqueues right after connecting could otherwise miss their first events (reported).
 */
export const FROM_START = `${POOL}|0-0`;

/** `n` new users, each with its own session and its own WebSocket, connected in parallel. */
export async function connectMany(url: string, n: number, names: string[] = []): Promise<TestUser[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => connectUser(url, { displayName: names[i], lastEventId: FROM_START })));
}

/**
 * A session token minted with the app's secret, as session.create would issue it, without the
 * HTTP round trip (used where thousands of clients connect at once).
 */
export function mintSession(app: TestApp, userId: string): string {
  const svc = app.server.services;
  return issueToken({ sub: userId, name: `u${userId.slice(0, 6)}`, exp: Date.now() + 3_600_000, ...ADULT_CONSENT }, svc.sessionSecret);
}

/** Close every user, ignoring sockets that are already gone. */
export async function closeAll(users: TestUser[]): Promise<void> {
  await Promise.all(users.map((u) => u.close().catch(() => {})));
}

/** The WAITING queue of a pool, front first. */
export async function queue(app: TestApp, pool = POOL): Promise<string[]> {
  return (await app.server.services.store.usersIn(pool, State.WAITING, 0, 1000)).map((u) => u.userId);
}

export async function stateOf(app: TestApp, u: TestUser): Promise<State> {
  return (await app.server.services.store.getUser(u.userId)).state;
}

/** Enqueue and return the reply (the match, when one was made at once). */
export function enqueue(u: TestUser, input: { interests?: string[]; language?: string; region?: string; idempotencyKey?: string } = {}) {
  return u.api.match.enqueue.mutate(input);
}

/** The user's whole event history in Redis, with tracked ids `<pool>|<streamId>`, in order. */
export async function history(app: TestApp, uid: string, pool = POOL): Promise<Array<{ id: string; event: MatchEvent }>> {
  const entries = await app.server.services.redis.xrange(app.server.services.store.keys.events(pool, uid), '-', '+');
  return entries.map(([id, fields]) => ({ id: `${pool}|${id}`, event: JSON.parse(fields[1] ?? '{}') as MatchEvent }));
}

/** The audit records still in the pool's outbox (only meaningful with the drain stopped). */
export async function outbox(app: TestApp, pool = POOL): Promise<OutboxRecord[]> {
  const entries = await app.server.services.redis.xrange(app.server.services.store.keys.outbox(pool), '-', '+');
  return entries.map(([, fields]) => JSON.parse(fields[1] ?? '{}') as OutboxRecord);
}

/** The `matched` events a user received, in order. */
export function matchedEvents(u: TestUser): Array<Extract<MatchEvent, { type: 'matched' }>> {
  return u.events.flatMap((e) => (e.event.type === 'matched' ? [e.event] : []));
}

/** Resolves when `u` has received a `matched` event naming `partner`, and returns it. */
export function matchedWith(u: TestUser, partner: TestUser, timeoutMs = 5000) {
  return u.next('matched', (e) => e.partnerId === partner.userId, timeoutMs);
}
