/**
 * Who we are and whether we are connected: the session (from the api module) and the socket
 * state in words for the banner. The events subscription itself is owned by the api module.
 */
import { createMemo } from 'solid-js';
import { USER_MESSAGES } from '../../../server/resilience/messages';
import type { Api } from '../api/client';

export function createSessionStore(api: Api) {
  const connectionText = createMemo(() => {
    switch (api.connection()) {
      case 'open':
        return '';
      case 'reconnecting':
        return USER_MESSAGES.RECONNECTING;
      default:
        return USER_MESSAGES.CONNECTING;
    }
  });

  return {
    connection: api.connection,
    connectionText,
    user: api.session,
    /** The name the person typed last time in this tab, to prefill the form. */
    chosenName: () => api.session()?.chosenName ?? '',
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;
