/**
 * The event notification protocol: what the scripts PUBLISH on `n:<uid>` and what a resumable
 * subscription's tracked id looks like.
 *
 * A notification is lines of `<pool>|<streamId>|<event JSON>` (the events of one script call, in
 * order; JSON text has no raw newline), or just `<pool>` (a wake-up). A tracked id (lastEventId)
 * is `<pool>|<streamId>`.
 */

/** Calls `fn` for each line of a notification: with the event's pool, id and JSON, or (a wake-up) with the pool and a null id. */
export function eachLine(message: string, fn: (pool: string, id: string | null, json: string) => void): void {
  let start = 0;
  for (let nl = message.indexOf('\n'); nl >= 0; start = nl + 1, nl = message.indexOf('\n', start)) line(message.slice(start, nl), fn);
  line(start === 0 ? message : message.slice(start), fn);
}

function line(message: string, fn: (pool: string, id: string | null, json: string) => void): void {
  const a = message.indexOf('|');
  const b = a < 0 ? -1 : message.indexOf('|', a + 1);
  if (b < 0) return fn(message, null, '');
  fn(message.slice(0, a), ownCopy(message, a + 1, b), message.slice(b + 1));
}

export interface Cursor {
  pool: string;
  id: string;
}

export function parseCursor(id: string): Cursor | null {
  const bar = id.indexOf('|');
  const streamId = id.slice(bar + 1);
  if (bar < 1 || !/^\d+-\d+$/.test(streamId)) return null;
  return { pool: id.slice(0, bar), id: streamId };
}

/**
 * The stream id `message[from..to)` ("ms-seq") as a string of its own. A plain slice would keep
 * the whole notification alive for as long as a stream holds it as its cursor (until the user's
 * next event, often a second or more): enough to be promoted out of the young generation, and
 * then old garbage for the slow, pausing collector.
 */
function ownCopy(message: string, from: number, to: number): string {
  const dash = message.indexOf('-', from);
  if (dash < 0 || dash >= to) return message.slice(from, to);
  return `${Number(message.slice(from, dash))}-${Number(message.slice(dash + 1, to))}`;
}
