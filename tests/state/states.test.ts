import { describe, expect, it } from 'vitest';
import { STATES, TRANSITIONS, allPairs, canTransition, isState, luaTransitionTable, stateSetName } from '../../server/state/states';

/** The list of allowed transitions, written out by hand: the table must be exactly this. */
const ALLOWED = [
  'IDLE->WAITING',
  'WAITING->IDLE',
  'WAITING->CONNECTING',
  'CONNECTING->IN_CALL',
  'CONNECTING->WAITING',
  'CONNECTING->DISCONNECTING',
  'IN_CALL->DISCONNECTING',
  'DISCONNECTING->IDLE',
  'DISCONNECTING->WAITING',
];

describe('the transition table', () => {
  it('has exactly the five states of the issue', () => {
    expect([...STATES].sort()).toEqual(['CONNECTING', 'DISCONNECTING', 'IDLE', 'IN_CALL', 'WAITING']);
  });

  it.each(allPairs().map((p) => ({ ...p, name: `${p.from}->${p.to}` })))('$name is allowed exactly when the issue lists it', ({ from, to, name }) => {
    expect(canTransition(from, to)).toBe(ALLOWED.includes(name));
  });

  it('lists every allowed transition once and nothing else', () => {
    const allowed = allPairs()
      .filter((p) => p.allowed)
      .map((p) => `${p.from}->${p.to}`);
    expect(allowed.sort()).toEqual([...ALLOWED].sort());
    expect(allPairs()).toHaveLength(STATES.length * STATES.length);
  });

  it('refuses staying in the same state', () => {
    for (const s of STATES) expect(canTransition(s, s)).toBe(false);
  });

  it('gives every allowed transition a reason to record', () => {
    for (const name of ALLOWED) {
      const [from, to] = name.split('->') as [keyof typeof TRANSITIONS, keyof typeof TRANSITIONS];
      expect(TRANSITIONS[from][to]).toMatch(/^[a-z_]+$/);
    }
  });

  it('is handed to Lua as the same table', () => {
    const lua = luaTransitionTable();
    const pairs = [...lua.matchAll(/([A-Z_]+)=\{([^}]*)\}/g)].flatMap(([, from, tos]) =>
      (tos ? tos.split(',') : []).map((to) => `${from}->${to.replace('=true', '')}`),
    );
    expect(pairs.sort()).toEqual([...ALLOWED].sort());
  });
});

describe('state names', () => {
  it('recognises only the five states', () => {
    for (const s of STATES) expect(isState(s)).toBe(true);
    for (const v of ['idle', 'IN CALL', '', null, undefined, 3]) expect(isState(v)).toBe(false);
  });

  it('names each state set in lower case', () => {
    expect(STATES.map(stateSetName)).toEqual(['idle', 'waiting', 'connecting', 'in_call', 'disconnecting']);
  });
});
