/**
 * One simulated user's received events, read in order: `next(pred)` resolves with the first event
 * after the cursor that matches (events passed over on the way are consumed), or rejects with a
 * FlowTimeout naming the step. A user lives for a few calls, so the list stays short.
 */
import type { MatchEvent } from '../../server/events/types';

export class FlowTimeout extends Error {
  readonly code = 'SOAK_FLOW_TIMEOUT';
  constructor(readonly step: string) {
    super(`no event for step "${step}" in time`);
  }
}

export class Inbox {
  private readonly events: MatchEvent[] = [];
  private cursor = 0;
  private wake: (() => void) | null = null;

  push(e: MatchEvent): void {
    this.events.push(e);
    this.wake?.();
  }

  async next<E extends MatchEvent>(step: string, pred: (e: MatchEvent) => e is E, timeoutMs: number): Promise<E>;
  async next(step: string, pred: (e: MatchEvent) => boolean, timeoutMs: number): Promise<MatchEvent>;
  async next(step: string, pred: (e: MatchEvent) => boolean, timeoutMs: number): Promise<MatchEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.events.length) {
        const e = this.events[this.cursor++]!;
        if (pred(e)) return e;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new FlowTimeout(step);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }
}
