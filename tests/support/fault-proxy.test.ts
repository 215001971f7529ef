import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { describe, expect, test, vi } from 'vitest';
import { startFaultProxy } from './fault-proxy';

/** Echo server that remembers what each connection received and can push to it. */
async function startEcho() {
  const conns: { socket: net.Socket; received: string }[] = [];
  const server = net.createServer((socket) => {
    const conn = { socket, received: '' };
    conns.push(conn);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      conn.received += chunk.toString('utf8');
      socket.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const close = async (): Promise<void> => {
    for (const c of conns) c.socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    port,
    conns,
    open: () => conns.filter((c) => !c.socket.destroyed).length,
    [Symbol.asyncDispose]: close,
  };
}

/** Test client: accumulates what it receives and reports how the socket closed. */
function connect(port: number) {
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  const state = { received: '', ended: false, errorCode: undefined as string | undefined };
  socket.on('data', (chunk: Buffer) => (state.received += chunk.toString('utf8')));
  socket.on('end', () => (state.ended = true));
  socket.on('error', (err: NodeJS.ErrnoException) => (state.errorCode = err.code));
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const closed = new Promise<{ errorCode: string | undefined }>((resolve) => socket.once('close', () => resolve({ errorCode: state.errorCode })));
  const waitFor = (text: string): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (!state.received.includes(text)) return;
        socket.off('data', check);
        resolve();
      };
      socket.on('data', check);
      check();
    });
  return { socket, state, connected, closed, waitFor };
}

describe('fault proxy', () => {
  test('pass mode forwards bytes both ways unchanged and in order', async () => {
    await using echo = await startEcho();
    await using proxy = await startFaultProxy({ targetHost: '127.0.0.1', targetPort: echo.port });
    const client = connect(proxy.port);
    const big = 'x'.repeat(512 * 1024) + 'END';
    client.socket.write('hello ');
    client.socket.write(big);
    await client.waitFor('END');
    expect(client.state.received).toBe(`hello ${big}`);
    expect(proxy.connectionCount).toBe(1);
    client.socket.destroy();
  });

  test('latency mode delays each direction, so a round trip takes at least twice the latency', async () => {
    await using echo = await startEcho();
    await using proxy = await startFaultProxy({ targetHost: '127.0.0.1', targetPort: echo.port });
    proxy.setMode('latency', 40);
    expect(proxy.mode).toEqual({ kind: 'latency', ms: 40 });
    const client = connect(proxy.port);
    await client.connected;
    const started = performance.now();
    client.socket.write('a');
    client.socket.write('b');
    client.socket.write('c');
    await client.waitFor('abc');
    expect(performance.now() - started).toBeGreaterThanOrEqual(80 - 5);
    expect(client.state.received).toBe('abc');
    client.socket.destroy();
  });

  test('reset mode resets open connections and every new one', async () => {
    await using echo = await startEcho();
    await using proxy = await startFaultProxy({ targetHost: '127.0.0.1', targetPort: echo.port });
    const before = connect(proxy.port);
    before.socket.write('ping');
    await before.waitFor('ping');

    proxy.setMode('reset');
    expect(await before.closed).toEqual({ errorCode: 'ECONNRESET' });
    await vi.waitFor(() => expect(echo.open()).toBe(0));

    const after = connect(proxy.port);
    expect(await after.closed).toEqual({ errorCode: 'ECONNRESET' });
    expect(after.state.received).toBe('');
    expect(proxy.stats).toMatchObject({ accepted: 2, reset: 2 });
  });

  test('blackhole mode keeps connections open but forwards nothing in either direction', async () => {
    await using echo = await startEcho();
    await using proxy = await startFaultProxy({ targetHost: '127.0.0.1', targetPort: echo.port });
    const client = connect(proxy.port);
    client.socket.write('warm');
    await client.waitFor('warm');

    proxy.setMode('blackhole');
    client.socket.write('lost-up');
    await vi.waitFor(() => expect(proxy.stats.droppedBytes).toBe('lost-up'.length));
    echo.conns[0]?.socket.write('lost-down');
    await vi.waitFor(() => expect(proxy.stats.droppedBytes).toBe('lost-up'.length + 'lost-down'.length));
    const late = connect(proxy.port);
    await late.connected;

    proxy.setMode('pass');
    client.socket.write('kept');
    await client.waitFor('kept');
    expect(client.state.received).toBe('warmkept');
    expect(echo.conns[0]?.received).toBe('warmkept');
    expect(client.socket.destroyed).toBe(false);
    late.socket.write('late');
    await late.waitFor('late');
    client.socket.destroy();
    late.socket.destroy();
  });

  test('resetAll resets open connections but new ones are forwarded again', async () => {
    await using echo = await startEcho();
    await using proxy = await startFaultProxy({ targetHost: '127.0.0.1', targetPort: echo.port });
    const first = connect(proxy.port);
    await first.connected;
    await vi.waitFor(() => expect(proxy.connectionCount).toBe(1));
    proxy.resetAll();
    expect(await first.closed).toEqual({ errorCode: 'ECONNRESET' });

    const second = connect(proxy.port);
    second.socket.write('again');
    await second.waitFor('again');
    expect(proxy.mode).toEqual({ kind: 'pass' });
    second.socket.destroy();
  });

  test('a half-close from the client reaches the target and its close comes back', async () => {
    await using echo = await startEcho();
    await using proxy = await startFaultProxy({ targetHost: '127.0.0.1', targetPort: echo.port });
    const client = connect(proxy.port);
    client.socket.end('bye');
    expect(await client.closed).toEqual({ errorCode: undefined });
    expect(client.state).toMatchObject({ received: 'bye', ended: true });
  });

  test('an unreachable target resets the client connection', async () => {
    const echo = await startEcho();
    const deadPort = echo.port;
    await echo[Symbol.asyncDispose]();
    await using proxy = await startFaultProxy({ targetHost: '127.0.0.1', targetPort: deadPort });
    const client = connect(proxy.port);
    expect(await client.closed).toEqual({ errorCode: 'ECONNRESET' });
  });

  test('once disposed the proxy refuses connections', async () => {
    await using echo = await startEcho();
    let port = 0;
    {
      await using proxy = await startFaultProxy({ targetHost: '127.0.0.1', targetPort: echo.port });
      port = proxy.port;
      const client = connect(port);
      await client.connected;
    }
    const refused = connect(port);
    expect(await refused.closed).toEqual({ errorCode: 'ECONNREFUSED' });
  });
});
