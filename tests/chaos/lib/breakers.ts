/**
 * Breakers, read the way an operator reads them: from each server's /metrics
 * (`breaker_transitions_total{dependency,to}` counts every change, so an opening that closed again
 * before the next scrape is still seen; `breaker_state{dependency}` is the state now).
 */
import type { BreakerVerdict } from './types';

export type Dependency = 'redis' | 'postgres' | 'livekit';
export const DEPENDENCIES: Dependency[] = ['redis', 'postgres', 'livekit'];

export interface BreakerReading {
  /** Times the breaker opened, summed over the servers read. */
  opened: Record<Dependency, number>;
  /** Servers whose breaker is not closed now. */
  notClosed: Record<Dependency, number>;
}

function metric(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels);
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.indexOf('}');
    const labelText = line.slice(name.length + 1, close);
    if (want.every(([k, v]) => labelText.includes(`${k}="${v}"`))) total += Number(line.slice(close + 1).trim());
  }
  return total;
}

export async function readBreakers(urls: string[]): Promise<BreakerReading> {
  const reading: BreakerReading = { opened: { redis: 0, postgres: 0, livekit: 0 }, notClosed: { redis: 0, postgres: 0, livekit: 0 } };
  for (const url of urls) {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    for (const d of DEPENDENCIES) {
      reading.opened[d] += metric(text, 'breaker_transitions_total', { dependency: d, to: 'open' });
      if (metric(text, 'breaker_state', { dependency: d }) !== 0) reading.notClosed[d] += 1;
    }
  }
  return reading;
}

export function verdict(before: BreakerReading, after: BreakerReading, d: Dependency): BreakerVerdict {
  const opened = after.opened[d] > before.opened[d];
  const closed = after.notClosed[d] === 0;
  if (opened) return closed ? 'opened and closed' : 'opened, not closed';
  return closed ? 'stayed closed' : 'still open';
}
