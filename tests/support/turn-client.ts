/**
 * The least of a TURN client (RFC 5766 over UDP, long-term credentials of RFC 5389): one
 * Allocate, answered with the relayed address or an error code. Enough to ask a test coturn
 * whether it takes a credential.
 *
 *   await allocate(turn.port, { username, credential }); // { ok: true } or { ok: false, code: 401 }
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';

const MAGIC = 0x2112a442;
const ALLOCATE = 0x0003;
const ATTR = { USERNAME: 0x0006, MESSAGE_INTEGRITY: 0x0008, ERROR_CODE: 0x0009, REALM: 0x0014, NONCE: 0x0015, REQUESTED_TRANSPORT: 0x0019 };
const UDP = 17;

function attr(type: number, value: Buffer): Buffer {
  const padded = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4);
  padded.writeUInt16BE(type, 0);
  padded.writeUInt16BE(value.length, 2);
  value.copy(padded, 4);
  return padded;
}

function message(attrs: Buffer[], key?: Buffer): Buffer {
  const head = Buffer.alloc(20);
  head.writeUInt16BE(ALLOCATE, 0);
  head.writeUInt32BE(MAGIC, 4);
  randomBytes(12).copy(head, 8);
  let body = Buffer.concat(attrs);
  if (key) {
    // The integrity covers the message with its length already counting the integrity attribute.
    head.writeUInt16BE(body.length + 24, 2);
    body = Buffer.concat([
      body,
      attr(
        ATTR.MESSAGE_INTEGRITY,
        createHmac('sha1', key)
          .update(Buffer.concat([head, body]))
          .digest(),
      ),
    ]);
  }
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([head, body]);
}

function attributes(msg: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (let i = 20; i + 4 <= msg.length;) {
    const type = msg.readUInt16BE(i);
    const len = msg.readUInt16BE(i + 2);
    out.set(type, msg.subarray(i + 4, i + 4 + len));
    i += 4 + Math.ceil(len / 4) * 4;
  }
  return out;
}

/** A UDP socket that sends a request and waits for the answer (coturn's nonce belongs to the client's address: one socket for both). */
function client(port: number, timeoutMs = 3000) {
  const s = dgram.createSocket('udp4');
  const ask = (msg: Buffer) =>
    new Promise<Buffer>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no TURN answer from 127.0.0.1:${port} within ${timeoutMs} ms`)), timeoutMs);
      s.once('message', (m) => {
        clearTimeout(t);
        resolve(m);
      });
      s.send(msg, port, '127.0.0.1');
    });
  return { ask, close: () => s.close() };
}

/** One Allocate with `username`/`credential` (after the 401 that hands out the realm and nonce). */
export async function allocate(port: number, cred: { username: string; credential: string }): Promise<{ ok: true } | { ok: false; code: number }> {
  const c = client(port);
  try {
    return await allocateOn(c.ask, cred);
  } finally {
    c.close();
  }
}

async function allocateOn(
  ask: (msg: Buffer) => Promise<Buffer>,
  cred: { username: string; credential: string },
): Promise<{ ok: true } | { ok: false; code: number }> {
  const transport = attr(ATTR.REQUESTED_TRANSPORT, Buffer.from([UDP, 0, 0, 0]));
  const challenge = attributes(await ask(message([transport])));
  const realm = challenge.get(ATTR.REALM);
  const nonce = challenge.get(ATTR.NONCE);
  if (!realm || !nonce) throw new Error('the TURN server asked for no credentials');
  const key = createHash('md5').update(`${cred.username}:${realm.toString()}:${cred.credential}`).digest();
  const answer = await ask(message([attr(ATTR.USERNAME, Buffer.from(cred.username)), attr(ATTR.REALM, realm), attr(ATTR.NONCE, nonce), transport], key));
  if (answer.readUInt16BE(0) === 0x0103) return { ok: true };
  const err = attributes(answer).get(ATTR.ERROR_CODE);
  return { ok: false, code: err ? err[2]! * 100 + err[3]! : 0 };
}
