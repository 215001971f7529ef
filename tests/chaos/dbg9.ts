import { Redis } from 'ioredis';
import { StateStore } from '../../server/state/store';
import { TEST_LIMITS, manualClock } from '../state/fixtures/store';
const redis = new Redis('redis://127.0.0.1:6379');
const clock = manualClock();
const prefix = `tdbg${Date.now()}`;
const store = new StateStore(redis, prefix, { ...TEST_LIMITS, recentMax: 0, relaxMs: 0 }, clock);
const pool = 'global';
await store.enqueue({ uid: 'x', pool });
const m = await store.enqueue({ uid: 'y', pool });
console.log('x-y match', m.match?.matchId);
clock.advance(5000);
await store.enqueue({ uid: 'w', pool }); // w waits, queued at t+5000
clock.advance(-3000); // x's skip runs at an earlier clock reading than w's enqueue (two servers, skewed clocks; or the same ms)
const r = await store.leave({ uid: 'x', pool, reason: 'skip', matchId: m.match!.matchId }).catch((e: Error) => 'ERR ' + String((e.cause as Error)?.message ?? e).slice(0, 120));
console.log('leave ->', JSON.stringify(r));
const ob = await redis.xrange(`${prefix}:{p:global}:outbox`, '-', '+');
for (const [, f] of ob) { const e = JSON.parse(f[1]!); if (e.kind === 'transition') console.log(' outbox', e.userId, 'v' + e.version, e.from, '->', e.to, e.matchId?.slice(0, 8)); else console.log(' outbox', e.kind, e.matchId?.slice(0,8)); }
for (const u of ['x', 'y', 'w']) { const s = await store.getUser(u, pool); console.log(u, s.state, 'v' + s.version, 'match', s.matchId?.slice(0, 8), 'with', s.matchedWith); }
let cursor = '0'; do { const [n, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000); cursor = n; if (keys.length) await redis.unlink(...keys); } while (cursor !== '0');
redis.disconnect();
