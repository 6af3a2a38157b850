// Genuine frames captured with tshark on a veth pair between two Linux network
// namespaces (kernel 6.x, TX checksum offload turned off so every checksum in
// the capture is the one the kernel computed in software):
//   host A: 02:00:00:00:00:01 192.168.69.1    host B: 02:00:00:00:00:02 192.168.69.2
// Commands on A: `ping -c1 192.168.69.2` (ARP exchange, then ICMP echo),
// `echo hi | socat - TCP:192.168.69.2:80` (B runs socat TCP-LISTEN:80), and
// `getent ahostsv4 example.com` with resolv.conf pointing at B (glibc's DNS query).
// Frames are as captured, without FCS; short frames are not yet padded to 60
// bytes because the capture was taken on the sending side.

/** Parses whitespace-separated hex bytes. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error("bad hex fixture");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A buffer of `len` bytes filled with 0xa5, so a field a builder forgets shows up. */
export function poisoned(len: number): Uint8Array {
  return new Uint8Array(len).fill(0xa5);
}

export const MAC_A = hex("02 00 00 00 00 01");
export const MAC_B = hex("02 00 00 00 00 02");
export const IP_A = 0xc0a84501; // 192.168.69.1
export const IP_B = 0xc0a84502; // 192.168.69.2

/** A asks who has 192.168.69.2 (broadcast, target MAC zero as Linux sends it). */
export const ARP_REQUEST = hex(`
ff ff ff ff ff ff 02 00 00 00 00 01 08 06 00 01 08 00 06 04 00 01 02 00 00 00 00 01 c0 a8 45 01
00 00 00 00 00 00 c0 a8 45 02`);

/** B answers. */
export const ARP_REPLY = hex(`
02 00 00 00 00 01 02 00 00 00 00 02 08 06 00 01 08 00 06 04 00 02 02 00 00 00 00 02 c0 a8 45 02
02 00 00 00 00 01 c0 a8 45 01`);

/** iputils ping: id 0x0f1c seq 1, DF set, 16-byte timeval then 0x10.. pattern, 56 data bytes. */
export const ICMP_ECHO_REQUEST = hex(`
02 00 00 00 00 02 02 00 00 00 00 01 08 00 45 00 00 54 dd 11 40 00 40 01 52 43 c0 a8 45 01 c0 a8
45 02 08 00 ca 00 0f 1c 00 01 aa 21 06 6b 00 00 00 00 ae 82 01 00 00 00 00 00 10 11 12 13 14 15
16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f 30 31 32 33 34 35
36 37`);

/** The kernel's echo reply (icmp_reply): no DF, IP id 0x5478. */
export const ICMP_ECHO_REPLY = hex(`
02 00 00 00 00 01 02 00 00 00 00 02 08 00 45 00 00 54 54 78 00 00 40 01 1a dd c0 a8 45 02 c0 a8
45 01 00 00 d2 00 0f 1c 00 01 aa 21 06 6b 00 00 00 00 ae 82 01 00 00 00 00 00 10 11 12 13 14 15
16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f 30 31 32 33 34 35
36 37`);

/** SYN 54706 -> 80, seq 0x24bbcc2c, win 64240, MSS 1460, SACK_PERM, TS 0x62e9ca24/0, NOP, WS 10. */
export const TCP_SYN_FRAME = hex(`
02 00 00 00 00 02 02 00 00 00 00 01 08 00 45 00 00 3c b6 d9 40 00 40 06 78 8e c0 a8 45 01 c0 a8
45 02 d5 b2 00 50 24 bb cc 2c 00 00 00 00 a0 02 fa f0 4d bf 00 00 02 04 05 b4 04 02 08 0a 62 e9
ca 24 00 00 00 00 01 03 03 0a`);

/** SYN-ACK from B, IP id 0 with DF (Linux's SYN-ACK). */
export const TCP_SYN_ACK_FRAME = hex(`
02 00 00 00 00 01 02 00 00 00 00 02 08 00 45 00 00 3c 00 00 40 00 40 06 2f 68 c0 a8 45 02 c0 a8
45 01 00 50 d5 b2 f7 89 d8 6e 24 bb cc 2d a0 12 fe 88 0f 83 00 00 02 04 05 b4 04 02 08 0a a3 57
c7 42 62 e9 ca 24 01 03 03 0a`);

/** PSH|ACK with "hi\n": NOP NOP TS, 3 data bytes, so the TCP segment has odd length (35). */
export const TCP_PSH_ACK_FRAME = hex(`
02 00 00 00 00 02 02 00 00 00 00 01 08 00 45 00 00 37 b6 db 40 00 40 06 78 91 c0 a8 45 01 c0 a8
45 02 d5 b2 00 50 24 bb cc 2d f7 89 d8 6f 80 18 00 3f ca 27 00 00 01 01 08 0a 62 e9 ca 24 a3 57
c7 42 68 69 0a`);

/** glibc resolver: A query for example.com, id 0x3fc4, 44343 -> 53, 37-byte (odd) UDP datagram. */
export const UDP_DNS_QUERY = hex(`
02 00 00 00 00 02 02 00 00 00 00 01 08 00 45 00 00 39 80 73 40 00 40 11 ae ec c0 a8 45 01 c0 a8
45 02 ad 37 00 35 00 25 37 b1 3f c4 01 00 00 01 00 00 00 00 00 00 07 65 78 61 6d 70 6c 65 03 63
6f 6d 00 00 01 00 01`);

/** Offsets of the layers in the fixtures above (no IP options in any of them). */
export const L3 = 14;
export const L4 = 34;

/** Deterministic xorshift32 generator for test data (never Math.random). */
export function xorshift32(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** The RFC 1071 checksum the slow, obvious way, as an oracle: one word at a time, folding every add. */
export function referenceChecksum(buf: Uint8Array, off: number, len: number, initial = 0): number {
  let sum = initial % 0xffff;
  for (let i = 0; i < len; i += 2) {
    const word = (buf[off + i] << 8) | (i + 1 < len ? buf[off + i + 1] : 0);
    sum += word;
    if (sum > 0xffff) sum -= 0xffff;
  }
  return ~sum & 0xffff;
}

/**
 * A copy of `bytes` that records the highest index read through it, to show that after a
 * length gate says WIRE_OK no accessor reads past the bytes the gate was given.
 */
export function readTracker(bytes: Uint8Array): { buf: Uint8Array; maxRead: () => number } {
  let max = -1;
  const target = bytes.slice();
  const buf = new Proxy(target, {
    get(t, key) {
      if (typeof key === "string" && /^\d+$/.test(key)) {
        max = Math.max(max, Number(key));
        return t[Number(key)];
      }
      return Reflect.get(t, key, t);
    },
  });
  return { buf, maxRead: () => max };
}
