/**
 * The soak's paced load (the default): people arrive at a steady `rate` per second (open loop: arrival k is due at k / rate whatever happened before),
 * each on the next server in turn, and live through bench/soak/user-flow.ts: 1 to 3 calls, a
 * share of them leaving by skip, and a share vanishing mid-call without leaving.
 */
import type { MatchEvent } from '../../server/events/types';
import { randomUUID } from 'node:crypto';
import { FROM_START, openConnection, type FlowConnection } from '../flow/connection';
import { FlowTimeout, Inbox } from './inbox';
import type { LoadStats, SoakLoad } from './load';
import { runUser, type FlowCounts, type UserPlan } from './user-flow';

interface OwnCounts extends FlowCounts {
  users: number;
  active: number;
  /** People whose session ended by an error, by code (a timeout: `timeout:<step>`). */
  errors: Record<string, number>;
}

// People present when the arrivals stop get this long to finish their calls before their sockets are closed.
const DRAIN_MS = 60_000;

export interface LoadOptions {
  urls: () => string[];
  secret: string;
  rate: number;
  /** Share of people who leave their calls by skip rather than end. */
  skip: number;
  /** Share of people who vanish in one of their calls. */
  absent: number;
}

const TICK_MS = 100;

export function plan(random: () => number, o: Pick<LoadOptions, 'skip' | 'absent'>): UserPlan {
  const calls = 1 + Math.floor(random() * 3);
  return {
    calls,
    absentAt: random() < o.absent ? Math.floor(random() * calls) : null,
    holdMs: 1000 + Math.floor(random() * 3000),
    skip: random() < o.skip,
  };
}

/** A failure's stable code: the app's code when the server gave one, else the error's name. */
export function errorCode(e: unknown): string {
  if (e instanceof FlowTimeout) return `timeout:${e.step}`;
  const data = (e as { data?: { appCode?: string; code?: string } } | null)?.data;
  return data?.appCode ?? data?.code ?? (e instanceof Error ? e.name : 'unknown');
}

export function pacedLoad(o: LoadOptions): SoakLoad {
  const counts: OwnCounts = {
    users: 0,
    active: 0,
    errors: {},
    callsStarted: 0,
    inCall: 0,
    completed: 0,
    aborted: 0,
    abortedBy: {},
    skips: 0,
    ends: 0,
    absent: 0,
    chats: 0,
  };
  const open = new Set<FlowConnection>();
  const frames = { sent: 0, received: 0 };
  let timer: NodeJS.Timeout | undefined;
  const fail = (code: string) => (counts.errors[code] = (counts.errors[code] ?? 0) + 1);

  async function person(url: string) {
    counts.users++;
    counts.active++;
    const inbox = new Inbox();
    let client: FlowConnection | null = null;
    try {
      // bench/flow's connection: its close() ends the socket at once, as a closing tab does (tRPC's
      // own close() waits for calls in flight, and one sent to a server killed under it never ends).
      client = await openConnection({
        url,
        secret: o.secret,
        userId: randomUUID(),
        lastEventId: FROM_START,
        onEvent: (_id, e: MatchEvent) => inbox.push(e),
        onError: () => undefined,
        frames,
      });
      open.add(client);
      await runUser(client.api, inbox, plan(Math.random, o), counts);
    } catch (e) {
      fail(client ? errorCode(e) : `connect:${errorCode(e)}`);
    } finally {
      counts.active--;
      if (client) {
        open.delete(client);
        client.close();
      }
    }
  }

  return {
    async start() {
      const t0 = Date.now();
      let started = 0;
      timer = setInterval(() => {
        const due = Math.floor(((Date.now() - t0) / 1000) * o.rate);
        const urls = o.urls();
        for (; started < due; started++) void person(urls[started % urls.length]!);
      }, TICK_MS);
    },
    async stop() {
      clearInterval(timer);
      const deadline = Date.now() + DRAIN_MS;
      while (counts.active > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      for (const c of open) c.close();
      open.clear();
    },
    stats: (): LoadStats => ({
      calls: counts.completed,
      errors: Object.values(counts.errors).reduce((a, b) => a + b, 0),
      online: counts.active,
      detail: { ...counts, errors: { ...counts.errors }, abortedBy: { ...counts.abortedBy } },
    }),
  };
}
