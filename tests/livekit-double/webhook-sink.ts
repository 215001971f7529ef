/**
 * A tiny webhook endpoint for tests: every POST is checked with the real
 * `WebhookReceiver` of livekit-server-sdk (Authorization header + body) and
 * answered 200 when genuine, 401 when not. Accepted events are kept in order.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookReceiver, type WebhookEvent } from 'livekit-server-sdk';

export interface WebhookSink {
  url: string;
  accepted: WebhookEvent[];
  rejected: { error: string; contentType: string | undefined }[];
  contentTypes: (string | undefined)[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startWebhookSink(apiKey: string, apiSecret: string): Promise<WebhookSink> {
  const receiver = new WebhookReceiver(apiKey, apiSecret);
  const accepted: WebhookEvent[] = [];
  const rejected: WebhookSink['rejected'] = [];
  const contentTypes: WebhookSink['contentTypes'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      contentTypes.push(req.headers['content-type']);
      receiver.receive(body, req.headers.authorization).then(
        (event) => {
          accepted.push(event);
          res.writeHead(200).end();
        },
        (err: unknown) => {
          rejected.push({ error: String(err), contentType: req.headers['content-type'] });
          res.writeHead(401).end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    url: `http://127.0.0.1:${port}/livekit/webhook`,
    accepted,
    rejected,
    contentTypes,
    close,
    [Symbol.asyncDispose]: close,
  };
}
