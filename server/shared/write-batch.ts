/**
 * Coalesces a socket's writes within one turn of the event loop into one syscall.
 *
 * Everything a connection sends in the same turn (a subscription's events read in one batch, a
 * reply and the events it caused) is held by `socket.cork()` and flushed together when the turn
 * ends (setImmediate runs after the turn's I/O callbacks and promise jobs). Without it each
 * WebSocket frame is its own write(2): a match sends about a dozen frames. One setImmediate per
 * turn serves every socket of a batcher; a socket's own cork()/uncork() pairs (ws does that per frame) nest
 * inside ours. Used for the WebSocket connections (server/http/trpc-ws.ts) and for the Redis
 * connection of the state scripts (server/state/scripts.ts): under load a turn handles many
 * users' calls, and their scripts go to Redis in one write.
 */
import type { Socket } from 'node:net';

/** One per server (the composition root makes it): every socket it is given shares one flush per turn. */
export class WriteBatcher {
  private readonly corked = new Set<Socket>();
  private scheduled = false;
  private readonly flush = (): void => {
    this.scheduled = false;
    for (const s of this.corked) if (!s.destroyed) s.uncork();
    this.corked.clear();
  };

  /** Hold the socket's writes until the end of this turn of the event loop. */
  batch(socket: Socket | undefined): void {
    if (!socket || this.corked.has(socket) || socket.destroyed) return;
    socket.cork();
    this.corked.add(socket);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }
}
