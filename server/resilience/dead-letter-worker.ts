/**
 * DeadLetterWorker: retries stored dead letters with backoff, by kind. Each pass leases the due
 * letters (so several processes can run workers), runs each through its kind's handler (under
 * the dependency's policy when one is named), and removes it on success; on failure it is
 * rescheduled with the dead-letter backoff, or parked for an operator once it has used up
 * `maxAttempts`. A letter whose kind has no handler is kept and rescheduled, never dropped.
 * Operators can retry a letter now or discard it (the admin procedures call these).
 */
import type { Clock } from '../shared/clock';
import { delayFor, type Random } from './backoff';
import type { DeadLetterConfig } from './config';
import type { DeadLetter, DeadLetterStore } from './dead-letters';
import { DeadLetterNotFoundError } from './errors';
import { guarded, type HookErrorReporter } from './hooks';
import { ErrorType, Outcome, Strategy, type Dependency, type RecoveryRecord } from './model';
import type { ResiliencePolicies } from './policies';

export type DeadLetterHandler = (payload: unknown, letter: DeadLetter | null, signal: AbortSignal) => Promise<void>;

interface Registered {
  handler: DeadLetterHandler;
  dependency?: Dependency;
}

/** The handlers by kind, shared by the worker and the manager (so a deferred call is retried by the same code). */
export class DeadLetterHandlers {
  private readonly byKind = new Map<string, Registered>();

  register(kind: string, handler: DeadLetterHandler, opts: { dependency?: Dependency } = {}): this {
    if (this.byKind.has(kind)) throw new Error(`A dead-letter handler for "${kind}" is already registered`);
    this.byKind.set(kind, { handler, dependency: opts.dependency });
    return this;
  }

  get(kind: string): Registered | undefined {
    return this.byKind.get(kind);
  }
}

export type Settled = 'completed' | 'rescheduled' | 'parked';

export interface WorkerHooks {
  onSettled?(letter: DeadLetter, result: Settled, error?: unknown): void;
  onRecovery?(record: RecoveryRecord): void;
}

export class DeadLetterWorker {
  private timer: NodeJS.Timeout | null = null;
  private pass: Promise<unknown> | null = null;
  private readonly onSettled: (letter: DeadLetter, result: Settled, error?: unknown) => void;
  private readonly onRecovery: (record: RecoveryRecord) => void;
  private readonly report: HookErrorReporter;

  constructor(
    private readonly store: DeadLetterStore,
    private readonly handlers: DeadLetterHandlers,
    private readonly cfg: DeadLetterConfig,
    private readonly clock: Clock,
    private readonly policies?: ResiliencePolicies,
    hooks: WorkerHooks = {},
    report?: HookErrorReporter,
    private readonly random: Random = Math.random,
  ) {
    this.onSettled = guarded('onSettled', hooks.onSettled?.bind(hooks), report);
    this.onRecovery = guarded('onRecovery', hooks.onRecovery?.bind(hooks), report);
    this.report = report ?? (() => {});
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.pass) return; // the previous pass is still running
      this.pass = this.tick()
        .catch((e: unknown) => this.report(e, 'dead-letter pass'))
        .finally(() => (this.pass = null));
    }, this.cfg.pollMs);
    this.timer.unref();
  }

  /** Stop polling and wait for the pass in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.pass;
  }

  /** One pass: lease the due letters and run them. */
  async tick(): Promise<Record<Settled, number>> {
    const counts: Record<Settled, number> = { completed: 0, rescheduled: 0, parked: 0 };
    const letters = await this.store.claimDue(this.cfg.batch, this.cfg.leaseMs);
    for (const l of letters) counts[(await this.runLetter(l)).result]++;
    return counts;
  }

  /** An operator's "retry now": runs it at once, whatever its schedule or status. */
  async retryNow(id: string): Promise<{ result: Settled; error?: string }> {
    const letter = await this.store.claim(id, this.cfg.leaseMs);
    if (!letter) throw new DeadLetterNotFoundError(id);
    const r = await this.runLetter(letter);
    return r.error === undefined ? { result: r.result } : { result: r.result, error: describeError(r.error) };
  }

  /** An operator's "discard": removed without running. */
  async discard(id: string): Promise<DeadLetter> {
    const letter = await this.store.discard(id);
    if (!letter) throw new DeadLetterNotFoundError(id);
    return letter;
  }

  private async runLetter(letter: DeadLetter): Promise<{ result: Settled; error?: unknown }> {
    const reg = this.handlers.get(letter.kind);
    try {
      if (!reg) throw new Error(`No dead-letter handler registered for kind "${letter.kind}"`);
      const run = (signal: AbortSignal) => reg.handler(letter.payload, letter, signal);
      if (reg.dependency && this.policies) await this.policies.get(reg.dependency).execute(run);
      else await run(new AbortController().signal);
    } catch (error) {
      const park = letter.attempts >= this.cfg.maxAttempts;
      const next = park ? null : this.clock.now() + delayFor(this.cfg.retry, letter.attempts, this.random);
      await this.store.fail(letter.id, describeError(error), next);
      const result: Settled = park ? 'parked' : 'rescheduled';
      if (park) this.recovery(letter, Outcome.Failed);
      this.onSettled(letter, result, error);
      return { result, error };
    }
    await this.store.complete(letter.id);
    this.recovery(letter, Outcome.Recovered);
    this.onSettled(letter, 'completed');
    return { result: 'completed' };
  }

  private recovery(letter: DeadLetter, outcome: Outcome): void {
    this.onRecovery({
      at: this.clock.now(),
      strategy: Strategy.RetryBackoff,
      outcome,
      durationMs: Math.max(0, this.clock.now() - letter.createdAt),
      failureType: letter.failureType ?? ErrorType.Internal,
      operation: letter.operation,
      pool: null,
    });
  }
}

/** An error as one line of text for a dead letter: name, code and message. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return `${error.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${error.message}`;
}
