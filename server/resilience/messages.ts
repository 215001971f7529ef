/**
 * Errors people can read: every code that can reach a client (a tRPC error's appCode, a notice
 * event's code) has a stable message written for a person here, and the web client takes its own
 * words for failures from here too (UNREACHABLE, CONNECTING, RECONNECTING): one catalogue. Where a domain error has a
 * fixed message, this is the same text (a test keeps them equal). The test also greps server/
 * for every `code = '...'` and Lua `refuse('...')`: a new code fails it until it has a message
 * here or is listed as internal.
 */

export const USER_MESSAGES = {
  // Our servers and their dependencies.
  SERVICE_UNAVAILABLE: "We're reconnecting to our servers. Please try again in a few seconds.",
  TIMEOUT: 'That took too long. Please try again.',
  INTERNAL: 'Something went wrong on our side. Please try again.',
  SYSTEM_FAILURE: "We're restarting a server. You'll be reconnected in a moment.",
  // Said by the web client itself, when it cannot reach us.
  UNREACHABLE: "We couldn't reach the server. Please check your connection and try again.",
  CONNECTING: 'Connecting...',
  RECONNECTING: 'Connection lost. Reconnecting...',
  RATE_LIMITED: "You're going a little fast. Please wait a moment and try again.",
  // Matching and conversations.
  PARTNER_DISCONNECTED: "Your partner's connection dropped. Finding someone new...",
  PAIR_INCONSISTENT: 'Your conversation ended on the other side; finding you someone new.',
  CONNECT_TIMEOUT: "We couldn't connect you to your partner. Press Start to try again.",
  CALL_SETUP_FAILED: "We couldn't start your call. You're back in the queue.",
  ROOM_SETUP_FAILED: "We couldn't set up your video call. You're back in the queue.",
  CALL_LOST_IN_RECOVERY: 'We lost your conversation while our servers recovered. Press Start to find someone new.',
  DATA_INCONSISTENT: 'Matching is paused while we fix a problem. Please try again in a minute.',
  MATCHING_PAUSED: 'Matching is paused for a moment. You keep your place in the queue.',
  OPERATOR_ENDED: 'A moderator ended this chat.',
  TEXT_ONLY: 'Video is off for now: this is a text chat.',
  // What the person tried to do.
  INVALID_TRANSITION: "That isn't possible right now. Please try again.",
  WRONG_STATE: "You can't do that right now.",
  VERSION_CONFLICT: 'Something changed at the same time; please try again.',
  NOT_IN_MATCH: "You're not in a conversation right now.",
  INVALID_INPUT: "Something in that request wasn't right. Please check it and try again.",
  // Bounds on what one client can make grow (the same text as LimitExceededError's).
  UNSUPPORTED_POOL: "We don't have a queue for that language or region. Please pick another one.",
  TOO_MANY_SIGNALS: 'Your browser sent too many call setup messages. Please skip and try again.',
  TOO_MANY_BLOCKS: "You've blocked as many people as you can. Unblock someone to block another.",
  TOO_MANY_SUBSCRIPTIONS: 'This page is listening to too many things at once. Please reload it.',
  TOO_MANY_CONNECTIONS: 'You have Rendezvous open in too many tabs. Please close one and try again.',
  BATCH_TOO_LARGE: 'Too many requests were sent at once. Please reload the page.',
  PAYLOAD_TOO_LARGE: 'That request was too large to accept.',
  // Sessions.
  INVALID_TOKEN: 'Your session is not valid. Please reload the page.',
  UNAUTHORIZED: 'Your session is not valid. Please reload the page.',
  SECURITY_VIOLATION: 'Your session was ended for security reasons. Please reload the page.',
  // Safety (server/safety/): the age policy, reports and bans. Where the error says more (the
  // window, the ban's end and receipt), the person sees the error's own sentence.
  CONSENT_REQUIRED: 'Please tell us your age and accept the rules before you start.',
  AGE_NOT_ALLOWED: 'Rendezvous is for adults (18 and over).',
  REPORT_NOT_ALLOWED: 'You can report someone you are talking to, or talked to a moment ago.',
  ALREADY_REPORTED: 'You have already reported this conversation. Thank you: a moderator will look at it.',
  INVALID_SNAPSHOT: 'The picture must be a JPEG, PNG or WebP image, and not too large.',
  CHALLENGE_REQUIRED: 'Please wait a moment while we check your browser, then try again.',
  CHALLENGE_FAILED: "We couldn't check your browser. Please reload the page and try again.",
  BANNED: "You can't use Rendezvous right now because of a ban. You can appeal it with its receipt.",
  MODERATOR_WARNING: 'A moderator warns you: please follow the rules.',
  ALREADY_APPEALED: 'You have already appealed this ban. A moderator will look at it.',
  MODERATION_NOT_FOUND: 'There is no open report, appeal or ban with that id.',
  // Operators (admin procedures) are people too.
  DEAD_LETTER_NOT_FOUND: 'There is no failed operation with that id.',
  DEAD_LETTER_RETRY_FAILED: 'That failed operation failed again and is still waiting. Fix the cause, then retry or discard it.',
  NO_CHECKPOINT: 'There is no saved checkpoint to restore for that user or match.',
  PERSON_ACTIVE: 'End their match or disconnect them first.',
  // Operator accounts (server/operators/errors.ts).
  LOGIN_FAILED: "That name and password don't match an operator account.",
  OPERATOR_SIGNED_OUT: 'Please sign in to the operator console.',
  ROLE_REQUIRED: "Your operator role doesn't allow that.",
  ORIGIN_REFUSED: 'That request came from another site and was refused.',
  ADMIN_TOKEN_REQUIRED: "Creating the first admin needs the server's admin token.",
  BOOTSTRAP_CLOSED: 'An admin already exists. Ask an admin to create your account.',
  OPERATOR_NAME_TAKEN: 'An operator with that name already exists.',
  OPERATOR_NOT_FOUND: 'There is no operator with that id.',
  WRONG_PASSWORD: 'Your current password is not right.',
  CANNOT_CHANGE_SELF: "You can't disable your own account or lower your own role. Ask another admin.",
  ACTION_NOT_RECORDED: "We couldn't record this action, so it wasn't done. Please try again in a few seconds.",
} as const satisfies Record<string, string>;

export type UserCode = keyof typeof USER_MESSAGES;

/**
 * Codes that never reach a person: start-up failures, the audit pipeline's own bookkeeping,
 * LiveKit's webhooks (answered to LiveKit's server, not to a browser), and a script's MISS (a
 * wrongly guessed pool: the call runs again in the right one, see StateStore.inUserPool).
 */
export const INTERNAL_CODES: readonly string[] = ['CONFIG_INVALID', 'STARTUP_FAILED', 'POISON_RECORD', 'STATE_REPAIRED', 'INVALID_WEBHOOK', 'MISS'];

/** The stable code and message to show a person; anything unknown is INTERNAL (never a raw error text). */
export function userMessage(code: string | null | undefined): { code: UserCode; message: string } {
  const c = code && Object.hasOwn(USER_MESSAGES, code) ? (code as UserCode) : 'INTERNAL';
  return { code: c, message: USER_MESSAGES[c] };
}
