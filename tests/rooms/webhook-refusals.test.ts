/**
 * Refused webhooks at the edge: the webhook route as createRooms builds it, with a logger whose
 * lines can be read back and an onRefused callback standing in for refused_requests_total, over
 * the real Redis (outbox) and Postgres (drain). No LiveKit is called: every request here is refused
 * before anything is handled.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc } from 'drizzle-orm';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { OutboxDrain } from '../../server/audit/drain';
import { AuditRecorder } from '../../server/audit/recorder';
import { deadLetters, webhookEvents } from '../../server/audit/schema';
import { ErrorSpool } from '../../server/audit/spool';
import type { Database } from '../../server/infra/postgres';
import { createRooms } from '../../server/rooms';
import { REFUSED_SAMPLE_MS } from '../../server/rooms/webhook-handler';
import { fastDrain } from '../audit/support';
import { openStore } from '../state/fixtures/store';
import { POOL, sharedDatabase, silent, testOptions } from './fixture';

const database = sharedDatabase();

type Line = { level: number; msg: string; [key: string]: unknown };

async function openEdge(db: Database) {
  const fx = await openStore();
  const spoolDir = mkdtempSync(join(tmpdir(), 'rv-refusals-spool-'));
  const lines: Line[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
  const refused: string[] = [];
  const audit = new AuditRecorder(
    fx.redis,
    fx.store.keys,
    new ErrorSpool({ dir: spoolDir, maxBytes: 1 << 20 }),
    { appendTimeoutMs: 1000, spoolRetryMs: 1000 },
    silent,
    fx.clock,
  );
  const drain = new OutboxDrain(fx.redis, db.db, fx.store.keys, async () => [POOL], fastDrain, silent);
  const livekit = { url: 'http://127.0.0.1:9', clientUrl: 'ws://livekit.test', apiKey: 'devkey', apiSecret: 'edge-secret-0123456789abcdef0123456789' };
  const rooms = createRooms({
    store: fx.store,
    redis: fx.redis,
    audit,
    opts: { ...testOptions(), livekit },
    clock: fx.clock,
    log,
    onRefused: (reason) => void refused.push(reason),
  });
  const server = createServer(rooms.webhook);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/livekit/webhook`;
  return {
    fx,
    lines,
    refused,
    post: (body: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/webhook+json' }, body }),
    /** Every webhook_events row, oldest first, once the outbox is drained. */
    async rows() {
      await drain.flush();
      return db.db.select().from(webhookEvents).orderBy(asc(webhookEvents.at));
    },
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      await fx[Symbol.asyncDispose]();
      rmSync(spoolDir, { recursive: true, force: true });
    },
  };
}

describe('refused webhooks', () => {
  it('a flood of unsigned webhooks with NUL in them is refused and counted one by one, and sampled: no dead letter, one row and one log line per interval', async () => {
    await using t = await openEdge(database());
    const bodies = [
      // JSON escapes: NUL and half a surrogate pair inside strings, columns included.
      JSON.stringify({ event: 'participant_left', room: { name: 'flood\u0000room' }, participant: { identity: 'mal\u0000lory', name: '\uD800' } }),
      // Raw NUL bytes: not even JSON.
      '{"event":"room_finished\u0000","room":{"name":"flood\u0000room"}}',
    ];
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => t.post(bodies[i % 2]!)));
    t.fx.clock.advance(REFUSED_SAMPLE_MS);
    answers.push(await t.post(bodies[0]!));

    expect(answers.map((r) => r.status)).toEqual(Array(101).fill(401));
    expect(t.refused).toEqual(Array(101).fill('webhook_invalid'));
    const rows = await t.rows();
    expect(rows.map((r) => [r.valid, (r.payload as { skipped: number }).skipped])).toEqual([
      [false, 0],
      [false, 99],
    ]);
    expect(rows[1]).toMatchObject({ event: 'participant_left', room: 'flood\uFFFDroom', participant: 'mal\uFFFDlory' });
    // The body is kept as text: its JSON escapes are characters Postgres stores as they are.
    expect((rows[1]!.payload as { body: string }).body).toBe(bodies[0]);
    expect(await database().db.select().from(deadLetters)).toEqual([]);
    const warnings = t.lines.filter((l) => l.level >= 40);
    expect(warnings.map((l) => [l.msg, l.skipped])).toEqual([
      [expect.stringMatching(/^LiveKit webhook rejected/) as string, 0],
      [expect.stringMatching(/^LiveKit webhook rejected/) as string, 99],
    ]);
  });

  it('a body over the limit is refused with 413 and counted, without an audit row', async () => {
    await using t = await openEdge(database());
    const before = (await t.rows()).length;
    expect((await t.post('x'.repeat(64 * 1024 + 1))).status).toBe(413);
    expect(t.refused).toEqual(['webhook_too_large']);
    expect(await t.rows()).toHaveLength(before);
  });
});
