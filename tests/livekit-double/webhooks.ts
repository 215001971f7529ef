/**
 * Signed webhook delivery, the way livekit/protocol's URLNotifier does it:
 *
 *   POST <url>
 *   Authorization: <JWT>            (no "Bearer " prefix)
 *   Content-Type: application/webhook+json
 *   body: protojson WebhookEvent    (camelCase, defaults omitted, int64 as strings)
 *
 * The JWT is HS256 with the API secret: { iss: apiKey, nbf, exp: nbf+300,
 * sha256: base64(std, padded) of sha256(body) }. The SDK's WebhookReceiver
 * verifies exactly that. Deliveries are serialised (one at a time, in order)
 * and attempted once; each is logged with the HTTP status the app answered.
 */
import { createHash } from 'node:crypto';
import { signJwt } from './jwt';
import { newGuid } from './room-store';

export interface WebhookPayload {
  event: string;
  room?: Record<string, unknown>;
  participant?: Record<string, unknown>;
  id?: string;
  createdAt?: string;
  [key: string]: unknown;
}

export type ForgeMode = 'wrong-secret' | 'tampered-body' | 'unsigned';

export interface SentWebhook {
  /** Event id (`EV_...`), shared by replays of the same event. */
  id: string;
  event: string;
  body: string;
  authorization: string | undefined;
  payload: WebhookPayload;
  /** HTTP status answered by the app, or what happened instead. */
  status: number | 'pending' | 'dropped' | 'no-url' | 'network-error';
  error?: string;
  forged?: ForgeMode;
  replay?: boolean;
}

export const WEBHOOK_CONTENT_TYPE = 'application/webhook+json';

export class WebhookSender {
  private readonly log: SentWebhook[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private dropRemaining = 0;
  private closed = false;
  private readonly closing = new AbortController();

  constructor(
    private readonly apiKey: string,
    private readonly apiSecret: string,
    private url: string | undefined,
  ) {}

  setUrl(url: string | undefined): void {
    this.url = url;
  }

  /** Swallow the next `count` webhooks (Infinity: until stopDropping()). */
  dropNext(count = 1): void {
    this.dropRemaining = count;
  }

  stopDropping(): void {
    this.dropRemaining = 0;
  }

  get sent(): readonly SentWebhook[] {
    return this.log;
  }

  /** Queues an event; `id` and `createdAt` are filled in when missing. */
  send(payload: WebhookPayload, forge?: ForgeMode): Promise<SentWebhook> {
    const full: WebhookPayload = {
      ...payload,
      id: payload.id ?? newGuid('EV_'),
      createdAt: payload.createdAt ?? String(Math.floor(Date.now() / 1000)),
    };
    const body = JSON.stringify(full);
    const secret = forge === 'wrong-secret' ? `${this.apiSecret}-forged` : this.apiSecret;
    const authorization = forge === 'unsigned' ? undefined : this.sign(body, secret);
    const wireBody = forge === 'tampered-body' ? JSON.stringify({ ...full, tampered: true }) : body;
    const record: SentWebhook = {
      id: full.id ?? '',
      event: full.event,
      body: wireBody,
      authorization,
      payload: full,
      status: 'pending',
      ...(forge ? { forged: forge } : {}),
    };
    if (!forge && this.dropRemaining > 0) {
      this.dropRemaining -= 1;
      record.status = 'dropped';
      this.log.push(record);
      return Promise.resolve(record);
    }
    return this.enqueue(record);
  }

  /** Re-posts the most recent genuine webhook (delivered or dropped) byte for byte. */
  replayLast(): Promise<SentWebhook> {
    const last = [...this.log].reverse().find((w) => !w.forged && !w.replay);
    if (!last) return Promise.reject(new Error('no webhook to replay'));
    return this.enqueue({ ...last, status: 'pending', replay: true });
  }

  /** Resolves once every queued delivery has completed. */
  async idle(): Promise<void> {
    let current: Promise<unknown>;
    do {
      current = this.queue;
      await current;
    } while (current !== this.queue);
  }

  /** Aborts in-flight deliveries; later ones are recorded as 'no-url'. */
  close(): void {
    this.closed = true;
    this.closing.abort();
  }

  private sign(body: string, secret: string): string {
    const sha256 = createHash('sha256').update(body, 'utf8').digest('base64');
    const now = Math.floor(Date.now() / 1000);
    return signJwt({ iss: this.apiKey, nbf: now, exp: now + 300, sha256 }, secret);
  }

  private enqueue(record: SentWebhook): Promise<SentWebhook> {
    this.log.push(record);
    const delivery = this.queue.then(() => this.deliver(record));
    this.queue = delivery.catch(() => undefined);
    return delivery;
  }

  private async deliver(record: SentWebhook): Promise<SentWebhook> {
    const url = this.url;
    if (!url || this.closed) {
      record.status = 'no-url';
      return record;
    }
    const headers: Record<string, string> = {
      'Content-Type': WEBHOOK_CONTENT_TYPE,
      'User-Agent': 'livekit-double',
    };
    if (record.authorization !== undefined) headers['Authorization'] = record.authorization;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers,
        body: record.body,
        signal: AbortSignal.any([AbortSignal.timeout(5000), this.closing.signal]),
      });
      await res.arrayBuffer();
      record.status = res.status;
    } catch (err) {
      record.status = 'network-error';
      record.error = err instanceof Error ? err.message : String(err);
    }
    return record;
  }
}
