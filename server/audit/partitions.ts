/**
 * Monthly partitions of the event tables: names, bounds and the plan of what to create and drop.
 * Pure; retention.ts runs the plan. Months are UTC. A partition `<table>_pYYYYMM` holds
 * [first instant of the month, first instant of the next month); `<table>_default` catches the rest.
 *
 * Retention drops whole months: a month goes once all of it is older than the retention period,
 * so rows are kept at least `retentionDays` and at most about a month longer. A private table
 * (people's own words) has its own period, and its rows also go one by one as they pass it.
 */
export const PARTITIONED_TABLES = ['state_transitions', 'errors', 'recoveries', 'breaker_events', 'checkpoints', 'webhook_events', 'chat_messages'] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

/**
 * Tables of private content (chat transcripts): kept their own period (CHAT_RETENTION_DAYS), each
 * row deleted once past it rather than with its month, and never readable by the analyst role
 * (migration 0005; the retention job revokes it on each new partition too).
 */
export const PRIVATE_TABLES: ReadonlySet<PartitionedTable> = new Set(['chat_messages']);

export interface Month {
  year: number;
  /** 1..12 */
  month: number;
}

export interface PartitionPolicy {
  retentionDays: number;
  /** Months created ahead of the current one. */
  monthsAhead: number;
}

export interface PartitionPlan {
  create: Month[];
  /** Partition names to detach and drop. */
  drop: string[];
}

const DAY_MS = 86_400_000;

export function monthOf(ms: number): Month {
  const d = new Date(ms);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1 };
}

export function addMonths(m: Month, n: number): Month {
  const i = m.year * 12 + (m.month - 1) + n;
  return { year: Math.floor(i / 12), month: (i % 12) + 1 };
}

export function monthStart(m: Month): Date {
  return new Date(Date.UTC(m.year, m.month - 1, 1));
}

export function partitionName(table: string, m: Month): string {
  return `${table}_p${m.year}${String(m.month).padStart(2, '0')}`;
}

export function defaultPartitionName(table: string): string {
  return `${table}_default`;
}

function parsePartitionName(table: string, name: string): Month | null {
  if (!name.startsWith(`${table}_p`)) return null;
  const m = /^(\d{4})(\d{2})$/.exec(name.slice(table.length + 2));
  if (!m) return null;
  const month = Number(m[2]);
  return month >= 1 && month <= 12 ? { year: Number(m[1]), month } : null;
}

/** Rows older than this may be removed. */
export function retentionCutoff(nowMs: number, retentionDays: number): Date {
  return new Date(nowMs - retentionDays * DAY_MS);
}

export function planPartitions(table: string, existing: readonly string[], nowMs: number, policy: PartitionPolicy): PartitionPlan {
  const have = new Set(existing);
  const current = monthOf(nowMs);
  const create: Month[] = [];
  for (let i = 0; i <= policy.monthsAhead; i++) {
    const m = addMonths(current, i);
    if (!have.has(partitionName(table, m))) create.push(m);
  }
  const cutoff = retentionCutoff(nowMs, policy.retentionDays).getTime();
  const drop = existing
    .map((name) => ({ name, month: parsePartitionName(table, name) }))
    .filter((p): p is { name: string; month: Month } => p.month !== null && monthStart(addMonths(p.month, 1)).getTime() <= cutoff)
    .map((p) => p.name)
    .sort();
  return { create, drop };
}
