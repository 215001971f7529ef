/**
 * A match's chat transcript, as the audit trail holds it (chat_messages, written by the drain
 * from relay-2.lua's records): every message in the order it was sent, with the text as typed
 * and what its receiver saw masked. For moderators (a report's evidence); messages older than
 * CHAT_RETENTION_DAYS are gone, and the last ones may still be on their way from the outbox.
 */
import { asc, eq, sql } from 'drizzle-orm';
import { chatMessages } from '../audit/schema';
import type { Db } from '../infra/postgres';
import type { MaskKind } from './text-safety';

export interface TranscriptLine {
  at: Date;
  from: string;
  to: string;
  clientMessageId: string;
  text: string;
  masked: MaskKind[];
}

export async function transcriptOf(db: Db, matchId: string): Promise<TranscriptLine[]> {
  const rows = await db
    .select({
      at: chatMessages.at,
      from: chatMessages.fromUser,
      to: chatMessages.toUser,
      clientMessageId: chatMessages.clientMessageId,
      text: chatMessages.text,
      masked: chatMessages.masked,
    })
    .from(chatMessages)
    .where(eq(chatMessages.matchId, matchId))
    // Within one millisecond, the pool's event sequence (the last part of the event id) orders them.
    .orderBy(asc(chatMessages.at), asc(sql`length(${chatMessages.eventId})`), asc(chatMessages.eventId));
  return rows.map((r) => ({ ...r, masked: r.masked as MaskKind[] }));
}
