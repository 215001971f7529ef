/**
 * Rate limits lifted, for servers under load from one machine: every test client and load
 * generator connects from loopback and pairs and parts people far faster than a person would.
 * The limits themselves are tested on their own (tests/safety/rate-limits.test.ts).
 */
const LIFTED = '1000000/1s';

export const UNLIMITED_RATES: Readonly<Record<string, string>> = {
  RATE_SESSIONS_PER_IP: LIFTED,
  RATE_CONNECTS_PER_IP: LIFTED,
  RATE_ENQUEUE: LIFTED,
  RATE_SKIP: LIFTED,
  RATE_CHAT: LIFTED,
  RATE_TYPING: LIFTED,
  RATE_MEDIA: LIFTED,
  RATE_STATS: LIFTED,
  RATE_SIGNAL: LIFTED,
  RATE_BLOCK: LIFTED,
  RATE_REPORT: LIFTED,
  RATE_APPEALS_PER_IP: LIFTED,
  RATE_LOGINS_PER_IP: LIFTED,
  // Proof-of-work challenges (tests/safety/challenges.test.ts sets its own).
  CHALLENGE_SESSIONS_PER_IP: LIFTED,
  CHALLENGE_SKIPS: LIFTED,
  CHALLENGE_RATE_REFUSALS: LIFTED,
};
