/**
 * TEMPORARY (issue 19): what the UI reads that the lead's stores and the server add in parallel
 * (see /work/shared-notes/issue19-contract.md). Every such read goes through here, so the UI
 * type-checks and degrades cleanly before the merge (no timer, no quality, hidden online count).
 * On merge the lead deletes this file (and stores/devices.ts, and rtc/media.ts's getLocalMedia)
 * and replaces each `pending.x(store)` with the member itself.
 */
import type { Api } from '../api/client';
import type { Quality } from '../lib/format';
import type { CallStore } from './call';
import type { DeviceStore } from './devices';
import type { MatchActions } from './match-actions';
import type { ChatMessage, MatchState } from './match';
import type { MediaStore } from './media';
import type { OnlineStats } from './stats';

export type CallPhase = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'text-only';
export interface PartnerMedia {
  audio: boolean;
  video: boolean;
}

interface FutureCall {
  phase?: () => CallPhase;
  quality?: () => Quality | null;
  partnerMedia?: () => PartnerMedia | null;
  connectedAt?: () => number | null;
}

export interface StartInput {
  name: string;
  interests: string[];
  ageBracket: Parameters<MatchActions['start']>[0]['ageBracket'];
  chat: { allowContacts: boolean; profanityFilter: boolean };
  language?: string;
  region?: string;
  textOnly: boolean;
}

const future = (call: CallStore) => call as unknown as FutureCall;

export const pending = {
  /** call.phase(); before the merge, from `connected` and whether we send anything. */
  phase: (call: CallStore): CallPhase => future(call).phase?.() ?? (call.connected() ? 'connected' : 'connecting'),
  quality: (call: CallStore): Quality | null => future(call).quality?.() ?? null,
  partnerMedia: (call: CallStore): PartnerMedia | null => future(call).partnerMedia?.() ?? null,
  connectedAt: (call: CallStore): number | null => future(call).connectedAt?.() ?? null,
  partnerReconnecting: (match: MatchState): boolean => (match as unknown as { partnerReconnecting?: () => boolean }).partnerReconnecting?.() ?? false,
  sharedInterests: (match: MatchState): string[] => (match.match() as { sharedInterests?: string[] } | null)?.sharedInterests ?? [],
  messageAt: (m: ChatMessage): number | null => (m as ChatMessage & { at?: number }).at ?? null,
  /** actions.start with language, region and textOnly (the current one ignores them). */
  start: (actions: MatchActions, input: StartInput) => (actions.start as (i: StartInput) => Promise<boolean>)(input),
  /** stats.online (server helper). */
  onlineStats: (api: Api): Promise<OnlineStats> =>
    api.call(() => (api.trpc as unknown as { stats: { online: { query(): Promise<OnlineStats> } } }).stats.online.query()),
  /**
   * What createCallStore takes: the media store after the merge; today the old device store,
   * adapted (the old call store still asks for its own camera stream).
   */
  callMedia(media: MediaStore): DeviceStore & MediaStore {
    return {
      ...media,
      refresh: async () => {
        const stream = media.stream();
        return { supported: media.supported, checked: true, cameras: stream?.getVideoTracks().length ?? 0, microphones: stream?.getAudioTracks().length ?? 0 };
      },
    };
  },
};
