/**
 * PeriodicJob: the one way a background job runs every so often. `start()` runs it every
 * `intervalMs` (first after one interval, or at once with `runAtStart`); runs never overlap (the
 * next is scheduled when one ends); `runNow()` runs it at once, or joins the run in progress;
 * `stop()` cancels what is scheduled and waits for the run in progress. A run that throws is
 * logged with the job's name and counted; it never stops the job. With `leader`, a run happens only
 * while that says this process leads (one process of many does the job).
 */
import type { Logger } from '../infra/logger';

/** Told after each run of a job: its name, how long it took, whether it threw (the composition root counts them). */
export type JobReporter = (name: string, durationMs: number, ok: boolean) => void;

export interface PeriodicOptions {
  /** Named in logs (and handed to onRun). */
  name: string;
  intervalMs: number;
  /** Run once as soon as started, then every interval. Default false. */
  runAtStart?: boolean;
  /** Asked before each scheduled run: false skips it (another process leads). */
  leader?: () => Promise<boolean>;
  log: Logger;
  /** Told after each run: how long it took and whether it threw (job_runs_total, job_duration_seconds). */
  onRun?: JobReporter;
}

export class PeriodicJob<T = unknown> {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<T | undefined> | null = null;
  private started = false;

  constructor(
    private readonly opts: PeriodicOptions,
    private readonly run: () => Promise<T>,
  ) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(this.opts.runAtStart ? 0 : this.opts.intervalMs);
  }

  /** Cancels what is scheduled; resolves once a run in progress has ended. */
  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Runs now, or joins the run in progress (undefined when it threw: it was logged). */
  runNow(): Promise<T | undefined> {
    this.running ??= this.once().finally(() => (this.running = null));
    return this.running;
  }

  private async once(): Promise<T | undefined> {
    const t0 = performance.now();
    try {
      const r = await this.run();
      this.opts.onRun?.(this.opts.name, performance.now() - t0, true);
      return r;
    } catch (err) {
      this.opts.onRun?.(this.opts.name, performance.now() - t0, false);
      this.opts.log.warn({ err, job: this.opts.name }, `${this.opts.name} failed`);
      return undefined;
    }
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = null;
    try {
      const lead = this.opts.leader ? await this.opts.leader().catch(() => false) : true;
      if (lead && this.started) await this.runNow();
    } finally {
      if (this.started) this.schedule(this.opts.intervalMs);
    }
  }
}
