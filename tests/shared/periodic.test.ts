import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PeriodicJob } from '../../server/shared/periodic';
import { startTestApp } from '../support/app';

const log = pino({ level: 'silent' });

describe('a periodic job', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs every interval, never two runs at once, and a run that throws is logged and counted without stopping the job', async () => {
    const runs: Array<[string, boolean]> = [];
    let calls = 0;
    let inFlight = 0;
    let most = 0;
    const job = new PeriodicJob({ name: 'demo', intervalMs: 100, log, onRun: (name, _ms, ok) => runs.push([name, ok]) }, async () => {
      calls++;
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 250)); // longer than the interval
      inFlight--;
      if (calls === 2) throw new Error('boom');
    });
    job.start();
    await vi.advanceTimersByTimeAsync(99);
    expect(calls).toBe(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(most).toBe(1);
    expect(calls).toBe(3); // 100 + 250, then 100 + 250 each: runs start at 100, 450, 800
    expect(runs).toEqual([
      ['demo', true],
      ['demo', false],
      ['demo', true],
    ]);
    await job.stop();
  });

  it('runNow joins the run in progress; stop waits for it and nothing runs after', async () => {
    let calls = 0;
    const job = new PeriodicJob({ name: 'demo', intervalMs: 100, runAtStart: true, log }, async () => {
      await new Promise((r) => setTimeout(r, 50));
      return ++calls;
    });
    job.start();
    await vi.advanceTimersByTimeAsync(1);
    const [a, b] = [job.runNow(), job.runNow()];
    await vi.advanceTimersByTimeAsync(50);
    expect([await a, await b]).toEqual([1, 1]);
    const stopped = job.stop();
    await vi.advanceTimersByTimeAsync(1000);
    await stopped;
    expect(calls).toBe(1);
  });

  it('with a leader check, runs only while this process leads', async () => {
    let leads = false;
    let calls = 0;
    const job = new PeriodicJob({ name: 'demo', intervalMs: 100, leader: async () => leads, log }, async () => void calls++);
    job.start();
    await vi.advanceTimersByTimeAsync(350);
    expect(calls).toBe(0);
    leads = true;
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toBe(2);
    await job.stop();
  });
});

describe('background jobs in a running server', () => {
  it('every run is counted by job and outcome and timed on /metrics', async () => {
    await using app = await startTestApp();
    await vi.waitFor(
      async () => {
        const text = await (await fetch(`${app.url}/metrics`)).text();
        expect(text).toMatch(/job_runs_total\{job="match tick",outcome="ok"\} [1-9]/);
        expect(text).toMatch(/job_duration_seconds_count\{job="presence sweep"\} [1-9]/);
      },
      { timeout: 5000, interval: 100 },
    );
  });
});
