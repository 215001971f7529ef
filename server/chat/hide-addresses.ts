/**
 * IP privacy in the signalling relay. A person who asked to hide their address (match.enqueue
 * `privacy`, on unless false) talks through the TURN relay only (their client sets
 * iceTransportPolicy 'relay'), but a modified client could still send its partner host and
 * server-reflexive candidates. So whatever such a person SENDS is cleaned on the server before
 * the partner gets it: only relay candidates pass (with their related address, which names the
 * sender's own address, zeroed), and every address in the SDP that is not one of its relay
 * candidates' becomes 0.0.0.0 (`c=`, `a=rtcp:`) or 127.0.0.1 (`o=`, as browsers write it).
 * Applied only while TURN is configured: without a relay no call could connect.
 *
 * Candidate grammar (RFC 8839): `candidate:<foundation> <component> <transport> <priority>
 * <address> <port> typ <type> [raddr <address> rport <port>] ...`.
 */
import type { SignalData } from '../events/types';

type Candidate = Extract<SignalData, { kind: 'candidates' }>['candidates'][number];

interface Parsed {
  address: string;
  type: string;
}

function parse(candidate: string): Parsed | null {
  const f = candidate.replace(/^a=/, '').trim().split(/\s+/);
  if (f.length < 8 || f[6] !== 'typ') return null;
  return { address: f[4]!, type: f[7]! };
}

/** A relay candidate with its related address zeroed; null for any other (or unreadable) one. */
export function relayOnly(candidate: string): string | null {
  if (candidate.trim() === '') return candidate; // end of candidates: no address in it
  if (parse(candidate)?.type !== 'relay') return null;
  return candidate.replace(/ raddr \S+ rport \S+/, ' raddr 0.0.0.0 rport 0');
}

/** `sdp` with non-relay candidates dropped and every other address that is not a relay's hidden. */
export function hideSdpAddresses(sdp: string): string {
  const lines = sdp.split(/(?<=\r?\n)/);
  const relays = new Set(lines.map((l) => (l.startsWith('a=candidate:') ? parse(l) : null)).flatMap((p) => (p?.type === 'relay' ? [p.address] : [])));
  const out: string[] = [];
  for (const line of lines) {
    const eol = /\r?\n$/.exec(line)?.[0] ?? '';
    const body = line.slice(0, line.length - eol.length);
    if (body.startsWith('a=candidate:')) {
      const kept = relayOnly(body);
      if (kept !== null) out.push(kept + eol);
      continue;
    }
    out.push(hideAddressIn(body, relays) + eol);
  }
  return out.join('');
}

function hideAddressIn(line: string, relays: Set<string>): string {
  const m = /^(c=IN IP[46] |a=rtcp:\d+ IN IP[46] |o=(?:\S+ ){3}IN IP[46] )(\S+)(.*)$/.exec(line);
  if (!m || relays.has(m[2]!)) return line;
  const hidden = m[1]!.startsWith('o=') ? '127.0.0.1' : '0.0.0.0';
  return m[1]!.replace(/IP6 $/, 'IP4 ') + hidden + m[3]!;
}

/**
 * `data` as the partner of a person hiding their address may see it, or null when nothing in it
 * needs hiding (the usual case: a relay-only client sends relay candidates only).
 */
export function hideAddresses(data: SignalData): SignalData | null {
  if (data.kind === 'candidates') {
    const kept = data.candidates.flatMap((c): Candidate[] => {
      const candidate = relayOnly(c.candidate);
      return candidate === null ? [] : [{ ...c, candidate }];
    });
    return kept.length === data.candidates.length && kept.every((c, i) => c.candidate === data.candidates[i]!.candidate) ? null : { ...data, candidates: kept };
  }
  if (data.kind === 'description' && data.description.sdp) {
    const sdp = hideSdpAddresses(data.description.sdp);
    return sdp === data.description.sdp ? null : { ...data, description: { ...data.description, sdp } };
  }
  return null;
}
