/**
 * The user state machine, as data. The table is the single source of truth: the Lua scripts
 * receive it (serialised by `luaTransitionTable`) so Redis and TypeScript can never disagree.
 */
export const State = {
  IDLE: 'IDLE',
  WAITING: 'WAITING',
  CONNECTING: 'CONNECTING',
  IN_CALL: 'IN_CALL',
  DISCONNECTING: 'DISCONNECTING',
} as const;
export type State = (typeof State)[keyof typeof State];
export const STATES = Object.values(State);

/**
 * What a call declares about its caller (the tRPC `inStates` middleware): the states it is valid
 * in, and what the user is told they can't do otherwise. The state script checks it atomically,
 * before any write, and refuses with WRONG_STATE.
 */
export interface Precondition {
  action: string;
  states: readonly State[];
}

export function isState(value: unknown): value is State {
  return typeof value === 'string' && (STATES as string[]).includes(value);
}

/** Allowed transitions and what each one means (the reason recorded when none is given). */
export const TRANSITIONS: Readonly<Record<State, Partial<Record<State, string>>>> = {
  IDLE: { WAITING: 'enqueue' },
  WAITING: { IDLE: 'cancel', CONNECTING: 'matched' },
  CONNECTING: { IN_CALL: 'both_joined', WAITING: 'connection_failed', DISCONNECTING: 'leave' },
  IN_CALL: { DISCONNECTING: 'leave' },
  DISCONNECTING: { IDLE: 'rest', WAITING: 'requeue' },
};

export function canTransition(from: State, to: State): boolean {
  return TRANSITIONS[from][to] !== undefined;
}

/** Every (from, to) pair, allowed or not: handy for table-driven tests and admin views. */
export function allPairs(): Array<{ from: State; to: State; allowed: boolean }> {
  return STATES.flatMap((from) => STATES.map((to) => ({ from, to, allowed: canTransition(from, to) })));
}

/** Redis sorted-set suffix for a state: its name in lower case (the key ends `state:<name>`, see keys.ts). */
export function stateSetName(state: State): string {
  return state.toLowerCase();
}

/** The table as a Lua literal: `{IDLE={WAITING=true},...}`. */
export function luaTransitionTable(): string {
  const rows = STATES.map((from) => {
    const tos = Object.keys(TRANSITIONS[from])
      .map((to) => `${to}=true`)
      .join(',');
    return `${from}={${tos}}`;
  });
  return `{${rows.join(',')}}`;
}
