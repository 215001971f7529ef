/** Outage lengths: the full length times the scale, but never below a floor that still makes the fault bite. */
export function scaled(fullMs: number, scale: number, floorMs: number): number {
  return Math.max(floorMs, Math.round(fullMs * scale));
}
