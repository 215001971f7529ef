/**
 * Killing a server process for real. `startServerProcess` runs `node tsx-cli server/main.ts`, and
 * the tsx CLI runs the server in a child process of its own: a SIGKILL to the pid we hold kills
 * only the CLI and leaves the server running as an orphan (still serving its sockets). So the
 * whole tree is signalled, found through /proc (Linux).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as pause } from 'node:timers/promises';

function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/** Every live descendant of `pid`, children before grandchildren. */
export function descendants(pid: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = parentOf(Number(entry));
    if (ppid !== null) byParent.set(ppid, [...(byParent.get(ppid) ?? []), Number(entry)]);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const c of byParent.get(queue.shift()!) ?? []) {
      queue.push(c);
      out.push(c);
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Signals `pid` and all its descendants (deepest first); with SIGKILL, waits until they are gone. */
export async function killTree(pid: number, signal: NodeJS.Signals): Promise<number[]> {
  const pids = [...descendants(pid).reverse(), pid];
  for (const p of pids) {
    try {
      process.kill(p, signal);
    } catch {
      /* already gone */
    }
  }
  if (signal === 'SIGKILL') for (let i = 0; i < 200 && pids.some(alive); i++) await pause(10);
  return pids;
}
