import { describe, expect, it } from 'vitest';
import { account } from './lib/accounting';
import type { AuditRow, StateEvent } from './lib/inspector';
import type { Ack } from './lib/load';

const ev = (uid: string, version: number, to: string, at: number): StateEvent => ({ uid, version, from: 'X', to, at });
const row = (eventId: string, uid: string, version: number, to: string, at: number): AuditRow => ({ eventId, uid, version, to, at });

describe('the chaos audit accounting', () => {
  it('finds nothing wrong when every committed transition has exactly one row', () => {
    const a = account(
      [ev('u', 1, 'WAITING', 100), ev('u', 2, 'IDLE', 200)],
      [],
      [row('global-1-1', 'u', 1, 'WAITING', 100), row('global-1-2', 'u', 2, 'IDLE', 200)],
    );
    expect(a).toMatchObject({ committed: 2, lost: 0, excused: 0, dupEventId: 0, dupUserVersion: 0 });
  });

  it('counts a committed transition without a row as lost, unless the scenario excuses it', () => {
    const events = [ev('u', 1, 'WAITING', 100), ev('u', 2, 'IDLE', 200)];
    expect(account(events, [], [row('global-1-1', 'u', 1, 'WAITING', 100)]).lost).toBe(1);
    expect(account(events, [], [row('global-1-1', 'u', 1, 'WAITING', 100)], (t) => t.at >= 150)).toMatchObject({ lost: 0, excused: 1 });
  });

  it('counts an acknowledged call whose version has no row in its time window as lost', () => {
    const acks: Ack[] = [{ uid: 'u', version: 3, op: 'enqueue', t0: 300, t1: 320 }];
    expect(account([], acks, [row('global-1-3', 'u', 3, 'WAITING', 310)]).lost).toBe(0);
    expect(account([], acks, [row('global-1-3', 'u', 3, 'WAITING', 900)]).lost).toBe(1);
  });

  it('counts rows sharing an event id or a (user, version), and tells a reuse across a data loss apart', () => {
    const rows = [row('global-1-1', 'u', 1, 'WAITING', 100), row('global-1-1', 'u', 1, 'WAITING', 101), row('global-2-1', 'u', 1, 'IDLE', 500)];
    expect(account([], [], rows)).toMatchObject({ dupEventId: 1, dupUserVersion: 2, dupUserVersionSameEpoch: 1 });
  });
});
