/** What start-up opened, closed again in reverse order when a later step fails. */
export class Closers {
  private readonly closers: Array<() => unknown> = [];

  add(close: () => unknown): void {
    this.closers.push(close);
  }

  async closeAll(): Promise<void> {
    for (const close of this.closers.reverse()) {
      try {
        await close();
      } catch {
        /* closing what failed to start: nothing more to do about it */
      }
    }
  }
}
