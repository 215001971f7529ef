/**
 * ErrorSpool: where audit records wait while Redis itself is unreachable (the outbox lives in
 * Redis, so an error about Redis cannot go there). Records are appended as JSON lines to a file
 * under DATA_DIR; once Redis answers again, drain() hands them back to be appended to the outbox,
 * and the drain carries them to Postgres like any other record.
 *
 * Files, in `<dir>`:
 *   spool-<pid>.jsonl          the live file; only process <pid> appends to it
 *   drain-<pid>-<n>.jsonl      taken out of service for draining (renamed, so appends go to a new
 *                              live file and nothing written during a drain can be lost)
 * A file is deleted only after every record in it was handed over. A crash in between hands the
 * same records over again on the next drain; their event ids make the copies harmless. Files
 * left behind by a process that has died are taken over by the next drain on the same host.
 *
 * Appends and the rename are serialised in-process, so a drain never races an append. The live
 * file is capped (maxBytes): past it, records are dropped and counted rather than filling the disk
 * during a long outage.
 */
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { OutboxRecord } from './records';

export interface SpoolOptions {
  /** Directory of the spool files (created on first use). */
  dir: string;
  /** Largest live file; records beyond it are dropped (and counted in `dropped`). */
  maxBytes: number;
}

const LIVE = /^spool-(\d+)\.jsonl$/;
const DRAINING = /^drain-(\d+)-[\w-]+\.jsonl$/;
/** Records handed over per call of `send` while draining. */
const SEND_CHUNK = 500;

export class ErrorSpool {
  /** Records refused because the live file was full. */
  dropped = 0;
  private readonly live: string;
  private bytes: number | null = null;
  private tail: Promise<unknown> = Promise.resolve();
  private draining: Promise<number> | null = null;

  constructor(private readonly opts: SpoolOptions) {
    this.live = join(opts.dir, `spool-${process.pid}.jsonl`);
  }

  /** Appends one record; false when the spool is full and the record was dropped. */
  append(record: OutboxRecord): Promise<boolean> {
    return this.serial(async () => {
      const line = JSON.stringify(record) + '\n';
      const size = Buffer.byteLength(line);
      if (this.bytes === null) this.bytes = await sizeOf(this.live);
      if (this.bytes + size > this.opts.maxBytes) {
        this.dropped += 1;
        return false;
      }
      await mkdir(this.opts.dir, { recursive: true });
      await appendFile(this.live, line);
      this.bytes += size;
      return true;
    });
  }

  /** Whether anything (this process's or a dead process's) is waiting to be drained. */
  async hasPending(): Promise<boolean> {
    return (await this.candidates(false)).length > 0;
  }

  /**
   * Hands every spooled record to `send` (in file order, chunked) and deletes each file once all
   * of it was sent. A failing `send` stops the drain and keeps the file for the next one.
   * Returns how many records were handed over. Concurrent calls share one drain.
   */
  drain(send: (records: OutboxRecord[]) => Promise<void>): Promise<number> {
    this.draining ??= this.drainAll(send).finally(() => (this.draining = null));
    return this.draining;
  }

  private async drainAll(send: (records: OutboxRecord[]) => Promise<void>): Promise<number> {
    await this.serial(async () => {
      if ((await sizeOf(this.live)) > 0) await rename(this.live, this.drainName());
      this.bytes = 0;
    });
    let sent = 0;
    for (const file of await this.candidates(true)) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        if (isNotFound(e)) continue; // another process drained it first
        throw e;
      }
      const records = parseLines(text);
      for (let i = 0; i < records.length; i += SEND_CHUNK) await send(records.slice(i, i + SEND_CHUNK));
      sent += records.length;
      await unlink(file).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
    }
    return sent;
  }

  /** Drain files to process, oldest first; with `claim`, dead processes' live files are renamed to ours first. */
  private async candidates(claim: boolean): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.opts.dir);
    } catch (e) {
      if (isNotFound(e)) return [];
      throw e;
    }
    const out: string[] = [];
    for (const name of names.sort()) {
      const live = LIVE.exec(name);
      const draining = DRAINING.exec(name);
      const pid = Number((live ?? draining)?.[1] ?? NaN);
      if (Number.isNaN(pid)) continue;
      const mine = pid === process.pid;
      if (draining && (mine || !isAlive(pid))) out.push(join(this.opts.dir, name));
      else if (live && !mine && !isAlive(pid)) {
        if (!claim) {
          out.push(join(this.opts.dir, name));
          continue;
        }
        const to = this.drainName();
        try {
          await rename(join(this.opts.dir, name), to);
          out.push(to);
        } catch (e) {
          if (!isNotFound(e)) throw e; // claimed by someone else meanwhile
        }
      } else if (live && mine && !claim && (this.bytes ?? (await sizeOf(this.live))) > 0) out.push(this.live);
    }
    return out;
  }

  private drainName(): string {
    return join(this.opts.dir, `drain-${process.pid}-${Date.now().toString().padStart(15, '0')}-${randomUUID().slice(0, 8)}.jsonl`);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

/** One record per line; a torn last line (a crash mid-append) or a corrupt line is skipped. */
export function parseLines(text: string): OutboxRecord[] {
  const out: OutboxRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as OutboxRecord);
    } catch {
      /* torn or corrupt line: nothing to recover */
    }
  }
  return out;
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (e) {
    if (isNotFound(e)) return 0;
    throw e;
  }
}

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'ENOENT';
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
