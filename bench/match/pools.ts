/**
 * Which pools the churn spreads its people over (`--pools`), and which master serves each.
 *
 * A client picks its pool by the language and region it enqueues with (server/match/service.ts
 * poolFor: `en`, `any-eu`, `en-eu`), and a pool's keys share the hash tag `{p:<pool>}`, so one
 * pool is one cluster slot. Names are chosen from the server's default languages and regions so
 * that they fall round robin on the masters' slot ranges: with 12 pools and 3 masters, 4 each.
 * The single-Redis run uses the same names (chosen on the ranges `redis-cli --cluster create`
 * gives three masters), so the two runs are comparable.
 */
import { loadConfig } from '../../server/config';
import { DEFAULT_POOL } from '../../server/state/keys';

export interface SlotRange {
  from: number;
  to: number;
  /** `host:port` of the master serving it. */
  master: string;
}

const SLOTS = 16_384;

/** The ranges `redis-cli --cluster create` gives `n` masters (equal parts, in order). */
export function evenRanges(n: number): SlotRange[] {
  return Array.from({ length: n }, (_, i) => ({
    from: Math.round((i * SLOTS) / n),
    to: Math.round(((i + 1) * SLOTS) / n) - 1,
    master: `master ${i + 1}`,
  }));
}

/** The slot of a pool's keys: CRC16 (XMODEM) of its hash tag, as Redis Cluster computes it. */
export function slotOfPool(pool: string): number {
  let crc = 0;
  for (const byte of Buffer.from(`p:${pool}`)) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % SLOTS;
}

export function masterOfPool(pool: string, ranges: readonly SlotRange[]): string {
  const slot = slotOfPool(pool);
  return ranges.find((r) => slot >= r.from && slot <= r.to)?.master ?? '?';
}

/**
 * `n` pool names, taken round robin over the masters of `ranges`: languages first, then
 * `any-<region>`, then `<language>-<region>`. One pool is `global`, what a plain enqueue joins.
 */
export function choosePools(n: number, ranges: readonly SlotRange[]): string[] {
  if (n === 1) return [DEFAULT_POOL];
  const { POOL_LANGUAGES: languages, POOL_REGIONS: regions } = loadConfig({});
  const candidates = [...languages, ...regions.map((r) => `any-${r}`), ...languages.flatMap((l) => regions.map((r) => `${l}-${r}`))];
  const masters = [...new Set(ranges.map((r) => r.master))];
  const left = new Map(masters.map((m) => [m, candidates.filter((c) => masterOfPool(c, ranges) === m)]));
  const chosen: string[] = [];
  for (let i = 0; chosen.length < n; i++) {
    const next = left.get(masters[i % masters.length]!)?.shift();
    if (next !== undefined) chosen.push(next);
    else if (masters.every((m) => left.get(m)!.length === 0)) throw new Error(`only ${chosen.length} pools can be named, not ${n}`);
  }
  return chosen;
}

/** What a client enqueues with to land in `pool`. */
export function poolInput(pool: string): { language?: string; region?: string } {
  if (pool === DEFAULT_POOL) return {};
  const [a, b] = pool.split('-');
  if (a === 'any') return { region: b };
  return b === undefined ? { language: a } : { language: a, region: b };
}
