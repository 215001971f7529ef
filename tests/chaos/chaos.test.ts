/**
 * The chaos scenarios (scenarios/*.ts), shortened: outages of 1.5-3 s instead of 10-30 s
 * (`npm run chaos` runs them at full length and prints the table). Each scenario runs once; the
 * tests below read its result. For every failure type: no committed transition lost or written
 * twice, every user at rest within 5 s of the dependency's return, recovery within 5 s, and the
 * breakers behaving as configured (their sampling windows set to half of each outage:
 * scenarios/scale.ts).
 *
 * Both Redis Cluster rows run here too (a private 3 masters + 3 replicas each): together about
 * 27 s on two loaded cores, under the ~40 s a row pair may add to CI. The cluster faults have no
 * outage to shorten (the failover takes the helper's cluster-node-timeout), only the timers.
 */
import { describe, expect, it } from 'vitest';
import { redisCallBoundMs, RESTING_BOUND_MS } from './lib/env';
import type { ScenarioResult } from './lib/types';
import { SCENARIOS } from './scenarios';

const SCALE = 0.1;
const USERS = 12;
const SCENARIO_TIMEOUT_MS = 60_000;

const runs = new Map<string, Promise<ScenarioResult>>();
/** Runs a scenario once per test file; later tests about the same scenario read the same result. */
function result(name: string): Promise<ScenarioResult> {
  let r = runs.get(name);
  if (!r) {
    const s = SCENARIOS.find((x) => x.name === name);
    if (!s) throw new Error(`no scenario ${name}`);
    r = s.run({ durationScale: SCALE, users: USERS });
    runs.set(name, r);
  }
  return r;
}

/** What every scenario must show, whatever broke. */
function expectRecovered(r: ScenarioResult): void {
  const why = `${r.failure}: ${JSON.stringify({ stats: r.stats, notes: r.notes })}`;
  expect(r.lost, why).toBe(0);
  expect(r.stats.dupEventId, why).toBe(0);
  expect(r.stats.dupUserVersionSameEpoch, why).toBe(0);
  expect(r.stuck, why).toBe(0);
  expect(r.recoveryMs, why).not.toBeNull();
  expect(r.recoveryMs!, why).toBeLessThan(RESTING_BOUND_MS);
  expect(r.stats.hangs, why).toBe(0);
  // No breaker is left open (or half-open) once the system has recovered.
  for (const [dependency, v] of Object.entries(r.breakers)) expect(`${dependency}: ${v}`, why).not.toMatch(/still open|not closed/);
}

describe('chaos: failures under load, with real processes', { timeout: SCENARIO_TIMEOUT_MS }, () => {
  it('Redis killed and back empty: waiting users are rebuilt from the checkpoint, everything drained before the crash stays in Postgres once', async () => {
    const r = await result('redis-kill-empty');
    expectRecovered(r);
    expect(r.stats.rebuiltWaiting! + r.stats.rebuiltReset!, 'the epoch guard rebuilt users').toBeGreaterThan(0);
    expect(r.stats.beforeRebuild, 'transitions on the empty Redis before the rebuild').toBe(0);
  });

  it('Redis killed and back with its AOF: nothing committed is lost or written twice', async () => {
    const r = await result('redis-kill-aof');
    expectRecovered(r);
    expect(r.duplicated).toBe(0);
  });

  it('Redis frozen (SIGSTOP): calls fail by their timeouts instead of hanging, and everyone recovers when it thaws', async () => {
    const r = await result('redis-pause');
    expectRecovered(r);
    expect(r.duplicated).toBe(0);
    expect(r.stats.faultFailed).toBeGreaterThan(0);
    expect(r.stats.faultMaxCallMs).toBeLessThan(redisCallBoundMs());
  });

  it('Postgres stopped: users do not notice, and the audit trail waiting in the outbox arrives complete and once', async () => {
    const r = await result('postgres-down');
    expectRecovered(r);
    expect(r.duplicated).toBe(0);
    expect(r.stats.outboxAtReturn, 'records waited in the outbox').toBeGreaterThan(0);
    expect(r.stats.faultUnavailable, 'calls that failed for the system while Postgres was down').toBe(0);
    expect(r.stats.faultMatchesDirect, 'matches made while Postgres was down').toBeGreaterThan(0);
  });

  it('Postgres slow: users do not notice, and the audit trail catches up once it is fast again', async () => {
    const r = await result('postgres-slow');
    expectRecovered(r);
    expect(r.duplicated).toBe(0);
    expect(r.stats.faultUnavailable, 'calls that failed for the system while Postgres was slow').toBe(0);
    expect(r.breakers.postgres).toBe('stayed closed');
    expect(r.stats.deadLetters).toBe(0);
  });

  for (const mode of ['500', 'timeout', 'drop'] as const) {
    it(`LiveKit ${mode === '500' ? 'answering 500s' : mode === 'timeout' ? 'timing out' : 'dropping connections'}: matches go on in direct mode, the LiveKit breaker opens, and closes once LiveKit answers`, async () => {
      const r = await result(`livekit-${mode}`);
      expectRecovered(r);
      expect(r.duplicated).toBe(0);
      expect(r.stats.faultUnavailable, 'calls that failed for the system while LiveKit failed').toBe(0);
      expect(r.stats.faultMatchesDirect, 'matches made in direct mode while LiveKit failed').toBeGreaterThan(0);
      expect(r.breakers.livekit).toBe('opened and closed');
    });
  }

  it('a server process SIGKILLed: its users move to the survivor and nothing is lost or stuck', async () => {
    const r = await result('server-kill');
    expectRecovered(r);
    expect(r.duplicated).toBe(0);
    expect(r.stats.moved).toBeGreaterThan(0);
  });

  it('a Redis Cluster master killed under load: its replica is promoted and nothing is lost, written twice or stuck', async () => {
    const r = await result('cluster-failover');
    expectRecovered(r);
    expect(r.duplicated).toBe(0);
    expect(r.stats.promotedPort, 'another node serves the pool').not.toBe(r.stats.killedPort);
  });

  it("a pool's slot migrated to another master under load: calls follow it (ASK, then MOVED) and nothing is lost, written twice or stuck", async () => {
    const r = await result('cluster-migration');
    expectRecovered(r);
    expect(r.duplicated).toBe(0);
    expect(r.stats.movedKeys, "the pool's keys moved").toBeGreaterThan(0);
  });

  it('the Redis breaker opens while Redis does not answer (reads and scripts alike count), and closes after', async () => {
    const r = await result('redis-pause');
    expect(r.breakers.redis).toBe('opened and closed');
  });

  it("a user's versions stay unique in the audit trail across a Redis data loss", async () => {
    const r = await result('redis-kill-empty');
    expect(r.stats.dupUserVersion).toBe(0);
    expect(r.duplicated).toBe(0);
  });

  it('the Postgres breaker opens while Postgres is down, and closes after; nothing is dead-lettered for the outage', async () => {
    const r = await result('postgres-down');
    expect(r.breakers.postgres).toBe('opened and closed');
    expect(r.stats.deadLetters).toBe(0);
  });
});
