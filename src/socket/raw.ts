// A raw IPv4 socket (Linux SOCK_RAW, without IP_HDRINCL) in the shape of the ECMA-419 UDP
// socket: `const Raw = rawSocketClass(net)`, then new Raw({ protocol, onReadable, onError }).
//
// Receive: every datagram of the socket's protocol delivered to this host (unicast to one
// of our addresses, broadcast, joined multicast, through 127/8 too) is queued for the
// socket before the protocol's own handler runs, which still runs (an ICMP socket sees
// the echo requests the stack answers). onReadable(packets) says how many wait. read()
// returns one as an ArrayBuffer that starts with the IP header, as Linux gives it for
// IPv4 (a reassembled datagram has the header of its first fragment with the whole length
// and no fragment bits), carrying `address` (the source) and `protocol`. The queue holds
// config.rawRxQueueMax datagrams; past that they are dropped, counted raw.stats.rcvbufErrors.
// A queued datagram is a clone of the stack's skb (no copy) and holds its packet buffers
// until read or closed.
//
// Send: write(buffer, address) sends the buffer as the payload of one datagram of the
// protocol; the stack builds the IP header (source chosen by the route, timeToLive or
// config.ipDefaultTtl) and fragments what does not fit the link. No checksum of the
// payload is computed: the app builds its protocol's header whole (ICMP's checksum too).
//
// Errors: a socket given onError is told of ICMP errors quoting a datagram of its
// protocol sent from this host (as Linux with IP_RECVERR); readError() returns the last,
// as the UDP socket's does (without a port). The socket stays open.
//
// Not here: bind to a local address, IP_HDRINCL (protocol 255 is sent as any other
// number), ICMP_FILTER, IP options.

import type { Net } from "../core/net";
import { formatIpv4, IPV4_HLEN, IPV4_MAX_LEN, ipIsZeronet, parseIpv4 } from "../wire/ipv4";
import type { RawOwner } from "../ipv4/raw";
import { bytesOf, icmpErrorReason, type IcmpErrorReport } from "./common";
// mcconfig type-checks each module alone: the modules that add net.ipv4
import type {} from "../ipv4/ipv4";

type Buffer = ArrayBuffer | ArrayBufferView;

/** The largest payload of one IPv4 datagram. */
export const RAW_PAYLOAD_MAX = IPV4_MAX_LEN - IPV4_HLEN;

export interface RawOptions {
  /** the IP protocol number, 0..255 */
  protocol: number;
  timeToLive?: number;
  onReadable?: (this: RawSocket, packets: number) => void;
  onError?: (this: RawSocket) => void;
  format?: "buffer";
  target?: unknown;
}

export type RawPacket = ArrayBuffer & { address: string; protocol: number };

export interface RawSocket {
  readonly protocol: number;
  format: "buffer";
  target: unknown;
  read(): RawPacket | undefined;
  read(buffer: Buffer): number;
  write(buffer: Buffer, address: string): void;
  readError(): IcmpErrorReport | undefined;
  close(): void;
}

export type RawSocketClass = new (options: RawOptions) => RawSocket;

export function rawSocketClass(net: Net): RawSocketClass {
  const raw = net.ipv4.raw;

  class Raw implements RawSocket, RawOwner {
    #handle: number;
    readonly #protocol: number;
    #ttl: number;
    #onReadable: ((this: RawSocket, packets: number) => void) | null;
    #onError: ((this: RawSocket) => void) | null;
    /** source address of the datagram just read */
    readonly #from = new Uint32Array(1);
    target: unknown;

    constructor(options: RawOptions) {
      if (typeof options !== "object" || options === null) throw new TypeError("Raw: options must be an object");
      const protocol = options.protocol;
      if (typeof protocol !== "number" || !Number.isInteger(protocol) || protocol < 0 || protocol > 255) {
        throw new RangeError(`Raw: protocol must be an integer in 0..255, got ${String(protocol)}`);
      }
      if (options.format !== undefined && options.format !== "buffer") throw new RangeError(`Raw: format must be "buffer"`);
      if (options.onReadable !== undefined && typeof options.onReadable !== "function") throw new TypeError("Raw: onReadable must be a function");
      if (options.onError !== undefined && typeof options.onError !== "function") throw new TypeError("Raw: onError must be a function");
      this.#ttl = net.config.ipDefaultTtl;
      if (options.timeToLive !== undefined) {
        if (!Number.isInteger(options.timeToLive) || options.timeToLive < 1 || options.timeToLive > 255) {
          throw new RangeError(`Raw: timeToLive must be in 1..255, got ${String(options.timeToLive)}`);
        }
        this.#ttl = options.timeToLive;
      }
      this.#protocol = protocol;
      this.target = options.target;
      this.#onReadable = options.onReadable ?? null;
      this.#onError = options.onError ?? null;
      this.#handle = raw.bind(protocol, this, this.#onError !== null);
    }

    get protocol(): number {
      return this.#protocol;
    }

    get format(): "buffer" {
      return "buffer";
    }

    set format(value: "buffer") {
      if (value !== "buffer") throw new RangeError(`Raw: format must be "buffer"`);
    }

    onDatagrams(waiting: number): void {
      if (this.#onReadable !== null) this.#onReadable.call(this, waiting);
    }

    onIcmpError(): void {
      if (this.#onError !== null) this.#onError.call(this);
    }

    read(): RawPacket | undefined;
    read(buffer: Buffer): number;
    read(buffer?: Buffer): RawPacket | number | undefined {
      const i = this.#check();
      const len = raw.peekLength(i);
      if (buffer !== undefined) {
        const dst = bytesOf(buffer, "Raw read: buffer");
        if (len < 0) return 0;
        if (dst.length < len) throw new RangeError(`Raw read: buffer of ${dst.length} bytes is smaller than the ${len}-byte datagram`);
        return raw.recv(i, dst, 0, this.#from);
      }
      if (len < 0) return undefined;
      const packet = new ArrayBuffer(len) as RawPacket;
      raw.recv(i, new Uint8Array(packet), 0, this.#from);
      packet.address = formatIpv4(this.#from[0]);
      packet.protocol = this.#protocol;
      return packet;
    }

    write(buffer: Buffer, address: string): void {
      this.#check();
      const bytes = bytesOf(buffer, "Raw write: buffer");
      if (typeof address !== "string") throw new TypeError("Raw write: address must be a string");
      const daddr = parseIpv4(address);
      if (ipIsZeronet(daddr)) throw new RangeError(`Raw write: ${address} is not a destination`);
      if (bytes.length > RAW_PAYLOAD_MAX) throw new RangeError(`Raw write: ${bytes.length} bytes is over the ${RAW_PAYLOAD_MAX}-byte maximum`);
      const rc = raw.sendto(this.#protocol, bytes, 0, bytes.length, daddr, this.#ttl);
      if (rc < 0) throw new Error(`Raw write to ${address} failed: ${rc === -101 ? "no route" : rc === -105 ? "no packet buffers" : `error ${-rc}`}`);
    }

    readError(): IcmpErrorReport | undefined {
      const i = this.#check();
      if (raw.errPending[i] === 0) return undefined;
      raw.errPending[i] = 0;
      const type = raw.errType[i];
      const code = raw.errCode[i];
      return { reason: icmpErrorReason(type, code), address: formatIpv4(raw.errAddr[i]), from: formatIpv4(raw.errFrom[i]), type, code };
    }

    close(): void {
      if (this.#handle < 0) return;
      raw.unregister(this.#handle);
      this.#handle = -1;
    }

    #check(): number {
      if (this.#handle < 0) throw new Error("Raw: socket is closed");
      return this.#handle;
    }
  }
  return Raw;
}
