/**
 * Random ids for idempotency keys and chat message ids.
 * `crypto.randomUUID` exists only in secure contexts (https or localhost); `getRandomValues`
 * works everywhere, so a page opened over plain http on a LAN address still gets good ids.
 */
export function newId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
