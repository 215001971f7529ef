import { describe, expect, it } from 'vitest';
import { hideAddresses, hideSdpAddresses, relayOnly } from '../../server/chat/hide-addresses';

const HOST = 'candidate:1 1 udp 2122260223 192.168.1.20 54321 typ host generation 0 ufrag abcd network-id 1';
const MDNS = 'candidate:2 1 udp 2122260223 0b5c7e1e-2f0a-4c1e-9f7a-1a2b3c4d5e6f.local 54322 typ host generation 0';
const SRFLX = 'candidate:3 1 udp 1686052607 203.0.113.7 61000 typ srflx raddr 192.168.1.20 rport 54321 generation 0';
const RELAY = 'candidate:4 1 udp 41885439 198.51.100.9 50000 typ relay raddr 203.0.113.7 rport 61000 generation 0';
const RELAY_HIDDEN = 'candidate:4 1 udp 41885439 198.51.100.9 50000 typ relay raddr 0.0.0.0 rport 0 generation 0';

const SDP = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 192.168.1.20',
  's=-',
  't=0 0',
  'm=audio 61000 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 203.0.113.7',
  'a=rtcp:9 IN IP4 192.168.1.20',
  `a=${HOST}`,
  `a=${SRFLX}`,
  `a=${RELAY}`,
  'm=video 50000 UDP/TLS/RTP/SAVPF 96',
  'c=IN IP4 198.51.100.9',
  'a=mid:1',
  '',
].join('\r\n');

describe("hiding a sender's addresses from what their partner receives", () => {
  it("keeps relay candidates only, with their related address (the sender's own) zeroed", () => {
    expect(relayOnly(HOST)).toBeNull();
    expect(relayOnly(MDNS)).toBeNull();
    expect(relayOnly(SRFLX)).toBeNull();
    expect(relayOnly(RELAY)).toBe(RELAY_HIDDEN);
    expect(relayOnly('')).toBe(''); // end of candidates
    expect(relayOnly('not a candidate')).toBeNull();
  });

  it("drops host and server-reflexive candidate lines from an SDP and hides every address that is not a relay's", () => {
    const out = hideSdpAddresses(SDP);
    expect(out).not.toMatch(/192\.168\.1\.20|203\.0\.113\.7/);
    expect(out).not.toMatch(/typ (host|srflx)/);
    expect(out).toContain(`a=${RELAY_HIDDEN}\r\n`);
    expect(out).toContain('m=audio 61000 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n');
    expect(out).toContain('c=IN IP4 198.51.100.9\r\n'); // the relay's own address stays
    expect(out).toContain('o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n');
    expect(out.endsWith('a=mid:1\r\n')).toBe(true);
  });

  it('hides IPv6 addresses too', () => {
    expect(hideSdpAddresses('c=IN IP6 2001:db8::1\na=candidate:1 1 udp 1 2001:db8::1 5000 typ host\n')).toBe('c=IN IP4 0.0.0.0\n');
  });

  it('cleans trickled candidates and descriptions, and says when nothing needed hiding', () => {
    const candidates = (...cs: string[]) => ({
      kind: 'candidates' as const,
      from: 'p1',
      candidates: cs.map((candidate) => ({ candidate, sdpMid: '0', sdpMLineIndex: 0 })),
    });
    expect(hideAddresses(candidates(HOST, SRFLX, RELAY))).toEqual(candidates(RELAY_HIDDEN));
    expect(hideAddresses(candidates(HOST))).toEqual({ kind: 'candidates', from: 'p1', candidates: [] });
    expect(hideAddresses(candidates(RELAY_HIDDEN))).toBeNull();
    const offer = { kind: 'description' as const, description: { type: 'offer' as const, sdp: SDP } };
    expect(hideAddresses(offer)).toEqual({ kind: 'description', description: { type: 'offer', sdp: hideSdpAddresses(SDP) } });
    expect(hideAddresses({ kind: 'description', description: { type: 'offer', sdp: hideSdpAddresses(SDP) } })).toBeNull();
    expect(hideAddresses({ kind: 'connected' })).toBeNull();
  });
});
