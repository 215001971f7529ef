/**
 * The operator console's own Redis keys, all under one hash tag (`<root>:{ops}:...`), so every
 * operation of this domain touches one Redis Cluster slot: the kill switches, the funnel's minute
 * buckets and the recent match waits. (The name index lives in each pool, beside the users it
 * names: state/keys.ts Keys.names.)
 */
export class OpsKeys {
  constructor(readonly root: string) {}

  private get base(): string {
    return `${this.root}:{ops}:`;
  }
  /** Hash: stopMatching, textOnly, tightLimits ('1'/'0'), stopSince, updatedAt, updatedBy, reason. */
  switches(): string {
    return `${this.base}switches`;
  }
  /** Hash per minute (epoch seconds of its start): the funnel's counts, and online/waiting as last seen. */
  minute(t: number): string {
    return `${this.base}m:${t}`;
  }
  /** List of `<at>:<waitedMs>`, newest first, bounded: the recent match waits (p50/p95). */
  waits(): string {
    return `${this.base}waits`;
  }
}
