// An SNTP server (RFC 4330 section 5) for the simulated internet of the Moddable tests: it
// plays pool.ntp.org. Each client request (mode 3, 48 bytes or more) is answered with mode 4,
// stratum 1, the client's version, its transmit timestamp as originate timestamp, and the
// host's clock (virtual time from `epochMs`) as reference, receive and transmit timestamps.
// Anything else is counted and dropped. Node-free: it runs in XS too.

import type { UdpSocket, UdpSocketClass } from "../../src/socket/udp";

export const PORT_NTP = 123;
export const NTP_PACKET_BYTES = 48;
/** seconds from 1900-01-01 (NTP era 0) to 1970-01-01 */
export const NTP_UNIX_OFFSET_S = 2208988800;

const MODE_CLIENT = 3;
const MODE_SERVER = 4;

export interface SntpStats {
  requests: number;
  replies: number;
  /** datagrams that were not client requests */
  ignored: number;
}

export class SntpServer {
  readonly stats: SntpStats = { requests: 0, replies: 0, ignored: 0 };
  readonly #UDP: UdpSocketClass;
  readonly #nowMs: () => number;
  readonly #epochMs: number;
  readonly #reply = new Uint8Array(NTP_PACKET_BYTES);
  #sock: UdpSocket | null = null;

  /** `nowMs`: the host's clock; `epochMs`: the Unix time (ms) at which it read 0 */
  constructor(UDP: UdpSocketClass, nowMs: () => number, epochMs: number) {
    this.#UDP = UDP;
    this.#nowMs = nowMs;
    this.#epochMs = epochMs;
  }

  start(): this {
    if (this.#sock !== null) throw new Error("sntp server: already started");
    this.#sock = new this.#UDP({ port: PORT_NTP, onReadable: sntpReadable, target: this });
    return this;
  }

  close(): void {
    this.#sock?.close();
    this.#sock = null;
  }

  /** The Unix time now, in ms. */
  unixMs(): number {
    return this.#epochMs + this.#nowMs();
  }

  answer(sock: UdpSocket, request: Uint8Array, address: string, port: number): void {
    if (request.length < NTP_PACKET_BYTES || (request[0] & 7) !== MODE_CLIENT) {
      this.stats.ignored++;
      return;
    }
    this.stats.requests++;
    const r = this.#reply;
    const v = new DataView(r.buffer);
    r.fill(0);
    const version = (request[0] >> 3) & 7;
    r[0] = (0 << 6) | (version << 3) | MODE_SERVER; // LI 0: no leap second warning
    r[1] = 1; // stratum 1: a primary reference
    r[2] = request[2]; // poll: the client's
    r[3] = 0xec; // precision 2^-20 s
    // root delay and dispersion 0; reference identifier "LOCL" (RFC 4330 4: a local clock)
    r[12] = 0x4c; r[13] = 0x4f; r[14] = 0x43; r[15] = 0x4c;
    const now = this.unixMs();
    putTimestamp(v, 16, now); // reference
    r.set(request.subarray(40, 48), 24); // originate: the client's transmit timestamp
    putTimestamp(v, 32, now); // receive
    putTimestamp(v, 40, now); // transmit
    sock.write(r, address, port);
    this.stats.replies++;
  }
}

/** An NTP timestamp (RFC 4330 3: seconds since 1900 and a 32-bit fraction) of a Unix time in ms. */
export function putTimestamp(v: DataView, off: number, unixMs: number): void {
  const seconds = Math.floor(unixMs / 1000);
  const fraction = Math.floor(((unixMs - seconds * 1000) / 1000) * 0x100000000);
  v.setUint32(off, (seconds + NTP_UNIX_OFFSET_S) >>> 0);
  v.setUint32(off + 4, fraction >>> 0);
}

function sntpReadable(this: UdpSocket, packets: number): void {
  const server = this.target as SntpServer;
  for (let i = 0; i < packets; i++) {
    const packet = this.read();
    if (packet === undefined) return;
    server.answer(this, new Uint8Array(packet), packet.address, packet.port);
  }
}
