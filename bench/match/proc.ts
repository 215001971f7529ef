/**
 * What a server process costs, read from the kernel's own accounting (Linux /proc): CPU time
 * (utime + stime) and resident memory (VmRSS). Nothing is asked of the server itself.
 */
import { readFileSync } from 'node:fs';

// USER_HZ: /proc/<pid>/stat counts CPU time in these ticks (100 on every Linux build we run on).
const TICKS_PER_SEC = 100;

/** CPU milliseconds (user + system) the process has used so far. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start at field 3.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return ((utime + stime) * 1000) / TICKS_PER_SEC;
}

/** Resident set size in KiB. */
export function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

export function sum(pids: number[], f: (pid: number) => number): number {
  return pids.reduce((acc, pid) => acc + f(pid), 0);
}
