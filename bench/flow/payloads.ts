/**
 * What a browser's WebRTC stack sends through `signal.send` for one audio+video call, in size
 * and shape: an SDP offer or answer of ~1.5 KB (two m-lines, ICE credentials, a DTLS
 * fingerprint, the usual codecs) and host/srflx ICE candidates of ~100 bytes each. The content
 * is never parsed by the server (it is relayed as is), so only the sizes need to be realistic.
 * Math.random, not crypto: at hundreds of calls a second, randomBytes for every line was 6% of the
 * load generator's CPU.
 */
const hex = (n: number) => {
  let s = '';
  for (let i = 0; i < n; i++) s += ((Math.random() * 256) | 0).toString(16).padStart(2, '0');
  return s;
};
const u32 = () => (Math.random() * 2 ** 32) >>> 0;

function media(kind: 'audio' | 'video', mid: number, ufrag: string, pwd: string, fingerprint: string): string[] {
  const codecs =
    kind === 'audio'
      ? ['111 opus/48000/2', '63 red/48000/2', '9 G722/8000', '0 PCMU/8000', '8 PCMA/8000', '13 CN/8000', '126 telephone-event/8000']
      : ['96 VP8/90000', '97 rtx/90000', '98 VP9/90000', '99 rtx/90000', '102 H264/90000', '103 rtx/90000', '45 AV1/90000'];
  return [
    `m=${kind} 9 UDP/TLS/RTP/SAVPF ${codecs.map((c) => c.split(' ')[0]).join(' ')}`,
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    `a=ice-ufrag:${ufrag}`,
    `a=ice-pwd:${pwd}`,
    'a=ice-options:trickle',
    `a=fingerprint:sha-256 ${fingerprint}`,
    'a=setup:actpass',
    `a=mid:${mid}`,
    `a=msid:${hex(8)} ${hex(8)}`,
    'a=sendrecv',
    'a=rtcp-mux',
    'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
    'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
    'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
    ...codecs.map((c) => `a=rtpmap:${c}`),
    `a=ssrc:${u32()} cname:${hex(8)}`,
  ];
}

/** An SDP offer or answer of about 1.5 KB. */
export function fakeSdp(): string {
  const ufrag = hex(2);
  const pwd = hex(12);
  const fingerprint = (hex(32).match(/../g) ?? []).join(':').toUpperCase();
  const lines = [
    'v=0',
    `o=- ${u32()}${u32()} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=group:BUNDLE 0 1',
    'a=extmap-allow-mixed',
    'a=msid-semantic: WMS',
    ...media('audio', 0, ufrag, pwd, fingerprint),
    ...media('video', 1, ufrag, pwd, fingerprint),
  ];
  return lines.join('\r\n') + '\r\n';
}

/** `count` ICE candidates of a side in `batches` signals (as even as they go; none empty). */
export function candidateBatches(count: number, batches: number): Array<ReturnType<typeof fakeCandidate>[]> {
  const all = Array.from({ length: count }, (_, i) => fakeCandidate(i));
  const n = Math.max(1, Math.min(batches, count));
  return Array.from({ length: n }, (_, b) => all.slice(Math.floor((b * count) / n), Math.floor(((b + 1) * count) / n)));
}

/** The i-th ICE candidate of a side (about 100 bytes), as RTCIceCandidate.toJSON() gives it. */
function fakeCandidate(i: number): { candidate: string; sdpMid: string; sdpMLineIndex: number } {
  const port = 50_000 + (u32() % 10_000);
  const type = i % 2 === 0 ? 'host' : 'srflx raddr 0.0.0.0 rport 0';
  return {
    candidate: `candidate:${u32()} 1 udp ${2_122_260_223 - i} 192.168.${i}.${10 + i} ${port} typ ${type} generation 0 ufrag ${hex(2)} network-id 1`,
    sdpMid: '0',
    sdpMLineIndex: 0,
  };
}
