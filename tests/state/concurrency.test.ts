import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { OutboxRecord } from '../../server/audit/records';
import { checkConsistency } from '../../server/state/consistency';
import { toUserState, type UserState } from '../../server/state/queries';
import { POOL, openStore, type StoreFixture } from './fixtures/store';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '../..');
const WORKER = join(HERE, 'fixtures/churn-worker.ts');
const USERS_PER_WORKER = 500;
const CHURN_MS = 3000;

interface WorkerResult {
  ops: number;
  applied: number;
  refused: number;
  failures: number;
  errors: string[];
  observed: Record<string, number[]>;
}

interface Worker {
  ready: Promise<void>;
  done: Promise<WorkerResult>;
  go(): void;
}

/** A churn worker in its own OS process (`npx tsx`), started by `go()` once every worker is ready. */
function startWorker(fx: StoreFixture, worker: number): Worker {
  const args = { url: fx.url, env: fx.env, prefix: fx.prefix, worker, users: USERS_PER_WORKER, actors: 50, durationMs: CHURN_MS };
  const child = spawn('npx', ['tsx', WORKER, JSON.stringify(args)], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    if (out.startsWith('ready\n')) onReady();
  });
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const done = new Promise<WorkerResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as WorkerResult);
      else reject(new Error(`churn worker ${worker} exited with ${code}:\n${err.slice(-2000)}`));
    });
  });
  // An early crash must fail the test instead of leaving it waiting for `ready`.
  return { ready: Promise.race([ready, done.then(() => undefined)]), done, go: () => child.stdin.end('go\n') };
}

async function allUsers(fx: StoreFixture): Promise<Map<string, UserState>> {
  const users = new Map<string, UserState>();
  for (const w of [1, 2]) {
    const pipe = fx.redis.pipeline();
    const ids = Array.from({ length: USERS_PER_WORKER }, (_, i) => `w${w}-${i}`);
    for (const uid of ids) pipe.hgetall(fx.store.keys.user(POOL, uid));
    const res = (await pipe.exec())!;
    ids.forEach((uid, i) => {
      const h = res[i]![1] as Record<string, string>;
      if (h.state) users.set(uid, toUserState(uid, POOL, h));
    });
  }
  return users;
}

async function outboxRecords(fx: StoreFixture): Promise<OutboxRecord[]> {
  const out: OutboxRecord[] = [];
  let start = '-';
  for (;;) {
    const page = await fx.redis.xrange(fx.store.keys.outbox(POOL), start, '+', 'COUNT', 5000);
    for (const [, f] of page) out.push(JSON.parse(f[1]!) as OutboxRecord);
    if (page.length < 5000) return out;
    start = `(${page.at(-1)![0]}`;
  }
}

describe('two server processes churning 1,000 users on one Redis', () => {
  it('leaves every user consistent, every pair whole, versions growing and one audit record per transition', { timeout: 60_000 }, async () => {
    await using fx = await openStore();
    const workers = [startWorker(fx, 1), startWorker(fx, 2)];
    await Promise.all(workers.map((w) => w.ready));
    for (const w of workers) w.go();
    const results = await Promise.all(workers.map((w) => w.done));

    for (const r of results) {
      expect(r.errors).toEqual([]);
      expect(r.failures).toBe(0);
      expect(r.applied).toBeGreaterThan(200);
    }

    // Every user is in exactly one state set, the one their hash names; nobody is left mid-way.
    const check = await checkConsistency(fx.redis, fx.store, POOL, false);
    expect(check.inconsistent).toEqual([]);
    const users = await allUsers(fx);
    expect(check.scanned).toBe(users.size);
    expect([...users.values()].filter((u) => u.state === 'DISCONNECTING')).toEqual([]);

    // No pair is half-moved: both sides point at each other, share the match and the state.
    for (const u of users.values()) {
      if (u.state !== 'CONNECTING' && u.state !== 'IN_CALL') continue;
      const p = users.get(u.matchedWith ?? '');
      expect({ uid: u.userId, partner: p?.matchedWith, matchId: p?.matchId, state: p?.state }).toEqual({
        uid: u.userId,
        partner: u.userId,
        matchId: u.matchId,
        state: u.state,
      });
    }

    // Versions only grew, as each worker saw them, and never beyond what Redis holds.
    for (const r of results) {
      for (const [uid, seen] of Object.entries(r.observed)) {
        expect(seen, uid).toEqual([...seen].sort((a, b) => a - b));
        // A user whose only calls were refused before anything was created has no hash: version 0.
        expect(seen.at(-1)!, uid).toBeLessThanOrEqual(users.get(uid)?.version ?? 0);
      }
    }

    // Exactly one outbox record per applied transition: versions 1..v for every user.
    const records = await outboxRecords(fx);
    const transitions = records.filter((r): r is Extract<OutboxRecord, { kind: 'transition' }> => r.kind === 'transition');
    const total = [...users.values()].reduce((sum, u) => sum + u.version, 0);
    expect(transitions).toHaveLength(total);
    const versions = new Map<string, number[]>();
    for (const t of transitions) versions.set(t.userId, [...(versions.get(t.userId) ?? []), t.version]);
    for (const u of users.values()) expect(versions.get(u.userId) ?? [], u.userId).toEqual(Array.from({ length: u.version }, (_, i) => i + 1));

    // The two processes really met: some matches paired users of different workers.
    const crossed = records.filter((r) => r.kind === 'match_created' && r.userA.slice(0, 3) !== r.userB.slice(0, 3));
    expect(crossed.length).toBeGreaterThan(0);
  });
});
