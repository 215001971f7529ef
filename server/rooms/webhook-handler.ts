/**
 * POST /livekit/webhook: LiveKit's signed events.
 *
 * Wire: `Authorization: <JWT>` (no "Bearer"), `Content-Type: application/webhook+json`, and the
 * JWT's sha256 claim covers the exact body bytes, so the raw body string goes to
 * WebhookReceiver.receive before anything parses it.
 *   forged, tampered, unsigned, malformed   401, nothing changes; counted (onRefused), and one in
 *                                           each REFUSED_SAMPLE_MS is logged and audited
 *                                           (webhook_events, valid=false) with the number of
 *                                           refusals skipped since the previous sample
 *   body over MAX_BODY                      413, counted
 *   genuine                                 audited (valid=true), then handled once: the event id is
 *                                           claimed with SET NX (TTL), so a replay or a duplicate
 *                                           delivery answers 200 and does nothing
 *   handling failed (Redis down)            500 and the claim is released, so a redelivery is handled
 * Audit rows of genuine events are keyed by (event id, event time): a duplicate adds no row.
 * Refused requests are sampled, not audited one by one: anyone can send them, and one row each
 * would let anyone write to the audit database as fast as they can post; the body kept is capped.
 * The rows go through the audit outbox like every other record (AuditRecorder; the drain writes
 * them to Postgres by event id, replacing what Postgres cannot store, such as a NUL), so a
 * Postgres outage loses none, and a webhook is answered only after its record was handed over: to
 * Redis, or while Redis is down to the spool file (capped: a record neither takes is logged and
 * dropped). Refused requests are never spooled: they must not use up the spool an outage's own
 * records need.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RedisClient } from '../infra/redis';
import { WebhookReceiver, type WebhookEvent } from 'livekit-server-sdk';
import type { AppendOptions, AuditSink } from '../audit/recorder';
import type { WebhookRecord } from '../audit/records';
import type { Logger } from '../infra/logger';
import type { Clock } from '../shared/clock';
import { Sampler } from '../shared/sampler';
import { DEFAULT_POOL } from '../state/keys';
import { errorMessage } from './failures';
import type { RoomEvents } from './room-events';

const MAX_BODY = 64 * 1024; // LiveKit events are a few KB; anything bigger is not one of them
const AUDIT_BODY_MAX = 4096; // how much of a rejected body is kept for the audit row
/**
 * One refused webhook per this interval is logged and audited: enough to show that forgeries
 * arrive, from where and what they look like, while a flood costs one row and one log line per
 * interval (refused_requests_total counts every one).
 */
export const REFUSED_SAMPLE_MS = 10_000;
/** onRefused reasons (the `reason` label of refused_requests_total). */
export const WEBHOOK_INVALID = 'webhook_invalid';
export const WEBHOOK_TOO_LARGE = 'webhook_too_large';

export interface WebhookDeps {
  apiKey: string;
  apiSecret: string;
  redis: RedisClient;
  /** Key root (REDIS_PREFIX): dedupe keys are `<root>:lkwh:<event id>`. */
  root: string;
  /** Where the audit records go (the AuditRecorder: the outbox, drained to webhook_events). */
  audit: AuditSink;
  events: RoomEvents;
  dedupeTtlMs: number;
  clock: Clock;
  log: Logger;
  /** Each refused request, by reason (feeds refused_requests_total). */
  onRefused?: (reason: string) => void;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function createWebhookHandler(d: WebhookDeps): RequestHandler {
  const receiver = new WebhookReceiver(d.apiKey, d.apiSecret);
  const refusals = new Sampler(REFUSED_SAMPLE_MS, d.clock);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST') return reply(res, 405, { error: 'POST only' });
    const body = await readBody(req, MAX_BODY);
    if (body === null) {
      d.onRefused?.(WEBHOOK_TOO_LARGE);
      return reply(res, 413, { error: 'body too large' });
    }
    let event: WebhookEvent;
    try {
      event = await receiver.receive(body, req.headers.authorization);
    } catch (err) {
      d.onRefused?.(WEBHOOK_INVALID);
      const skipped = refusals.take(WEBHOOK_INVALID);
      if (skipped !== null) {
        d.log.warn(
          { err: errorMessage(err), ip: req.socket.remoteAddress, skipped },
          'LiveKit webhook rejected (one sampled; skipped: refused since the last)',
        );
        await audit(d, invalidRow(body, errorMessage(err), skipped, d.clock.now()), { spool: false });
      }
      return reply(res, 401, { error: 'invalid webhook' });
    }
    const id = event.id || `sha256-${createHash('sha256').update(body).digest('hex')}`;
    await audit(d, validRow(id, event, body, d.clock.now()));
    const claim = `${d.root}:lkwh:${id}`;
    if ((await d.redis.set(claim, '1', 'PX', d.dedupeTtlMs, 'NX')) === null) return reply(res, 200, { ok: true, duplicate: true });
    try {
      await d.events.handle(event);
    } catch (err) {
      await d.redis.del(claim).catch(() => undefined);
      d.log.error({ err: errorMessage(err), id, event: event.event }, 'LiveKit webhook handling failed');
      return reply(res, 500, { error: 'handling failed' });
    }
    reply(res, 200, { ok: true });
  };

  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      d.log.error({ err: errorMessage(err) }, 'LiveKit webhook failed');
      reply(res, 500, { error: 'internal error' });
    });
  };
}

type Row = Omit<WebhookRecord, 'kind' | 'pool'>;

function validRow(id: string, e: WebhookEvent, body: string, now: number): Row {
  const created = Number(e.createdAt ?? 0n) * 1000;
  return {
    eventId: id,
    at: created > 0 ? created : now,
    event: e.event,
    room: e.room?.name ?? null,
    participant: e.participant?.identity ?? null,
    valid: true,
    payload: JSON.parse(body) as unknown,
  };
}

interface Loose {
  event?: unknown;
  room?: { name?: unknown };
  participant?: { identity?: unknown };
}

function parseLoose(body: string): Loose | null {
  try {
    const v: unknown = JSON.parse(body);
    return v && typeof v === 'object' ? v : null;
  } catch {
    return null; // malformed: kept as text in the payload
  }
}

/** `skipped`: refusals since the previous sample, not audited. */
function invalidRow(body: string, error: string, skipped: number, now: number): Row {
  const parsed = parseLoose(body);
  const str = (v: unknown) => (typeof v === 'string' ? v.slice(0, 200) : null);
  return {
    eventId: `invalid-${randomUUID()}`,
    at: now,
    event: str(parsed?.event) ?? 'unknown',
    room: str(parsed?.room?.name),
    participant: str(parsed?.participant?.identity),
    valid: false,
    payload: { error, body: body.slice(0, AUDIT_BODY_MAX), skipped },
  };
}

/** Recording never throws (AuditSink): the audit trail does not decide whether LiveKit's event is handled. */
function audit(d: WebhookDeps, row: Row, opts?: AppendOptions): Promise<void> {
  return d.audit.append({ kind: 'webhook', pool: DEFAULT_POOL, ...row }, opts);
}

function readBody(req: IncomingMessage, max: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= max) chunks.push(c);
    });
    req.on('end', () => resolve(size > max ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
