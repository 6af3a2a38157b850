// embedded:io/socket/udp (ECMA-419) over xsnet's UDP, with the semantics of Moddable's
// implementation: onReadable(packets) when datagrams wait, read() returns one as an
// ArrayBuffer carrying `address` and `port`, write(buffer, address, port) sends one.
// The class is made for one stack: `const UDP = udpSocketClass(net)` (a board's start-up
// puts it where the app's `embedded:io/socket/udp` import finds it). As Moddable's: read()
// is undefined while no datagram waits; a method called on anything but an open UDP socket
// (another object, a closed socket) is a SyntaxError; a Symbol for a port, an address or a
// buffer is a TypeError.
//
// ICMP errors (an extension; Moddable's sockets never call UDP onError): a socket given
// onError is told of ICMP errors about datagrams it sent: destination unreachable (port
// unreachable when nothing listens there, host or net unreachable from a router), time
// exceeded, parameter problem. This is Linux's IP_RECVERR: without it Linux reports only
// to connected sockets, and ECMA-419 UDP sockets are never connected, so asking for
// onError is the opt-in. onError() is called once per error; readError() then returns the
// last one ({ reason: "ECONNREFUSED" and the like as Linux's icmp_err_convert, address
// and port the datagram was going to, from: who reported it, type, code }) and clears it.
// The socket stays open: an error is about one destination, and the next datagram may
// well get through. A socket without onError ignores them (counted udp.stats.icmpIgnored).
// ICMP is unauthenticated: treat an error as advice (RFC 5927), not proof.

import type { Net } from "../core/net";
import { formatIpv4, parseIpv4 } from "../wire/ipv4";
import { UDP_PAYLOAD_MAX, type UdpOwner } from "../udp/udp";
import { ipMcJoin } from "../ipv4/devinet";
import { bytesOf, checkPort, icmpErrorReason, type IcmpErrorReport } from "./common";

/** #index of a closed socket */
const CLOSED = -1;

type Buffer = ArrayBuffer | ArrayBufferView;

export interface UdpOptions {
  /** a number, or a string of one; absent or undefined: an ephemeral port */
  port?: number | string;
  address?: string;
  /** extension: receive datagrams sent to broadcast (and joined multicast) addresses */
  broadcast?: boolean;
  /** join this multicast group on the first interface (received as with broadcast) */
  multicast?: string;
  timeToLive?: number;
  onReadable?: (this: UdpSocket, packets: number) => void;
  onError?: (this: UdpSocket) => void;
  format?: "buffer";
  target?: unknown;
}

export type UdpPacket = ArrayBuffer & { address: string; port: number };

export type UdpErrorReport = IcmpErrorReport & { port: number };

export interface UdpSocket {
  readonly port: number;
  format: "buffer";
  target: unknown;
  read(): UdpPacket | undefined;
  /** extension: the next datagram into `buffer` (a RangeError when it is smaller); its length, or undefined while none waits */
  read(buffer: Buffer): number | undefined;
  write(buffer: Buffer, address: string, port: number | string): void;
  /** extension: the last ICMP error reported through onError, cleared by reading */
  readError(): UdpErrorReport | undefined;
  close(): void;
}

export type UdpSocketClass = new (options?: UdpOptions) => UdpSocket;

export function udpSocketClass(net: Net): UdpSocketClass {
  const udp = net.udp;

  class UDP implements UdpSocket, UdpOwner {
    #index: number;
    #ttl: number;
    #onReadable: ((this: UdpSocket, packets: number) => void) | null;
    #onError: ((this: UdpSocket) => void) | null;
    /** source [address, port] of the datagram just read */
    readonly #from = new Uint32Array(2);
    target: unknown;

    constructor(options: UdpOptions = {}) {
      if (typeof options !== "object" || options === null) throw new TypeError("UDP: options must be an object");
      const port = options.port === undefined ? 0 : checkPort(options.port, "UDP: port", true);
      const address = options.address === undefined ? 0 : parseIpv4(options.address);
      if (options.format !== undefined && options.format !== "buffer") throw new RangeError(`UDP: format must be "buffer"`);
      if (options.onReadable !== undefined && typeof options.onReadable !== "function") throw new TypeError("UDP: onReadable must be a function");
      if (options.onError !== undefined && typeof options.onError !== "function") throw new TypeError("UDP: onError must be a function");
      this.#ttl = net.config.ipDefaultTtl;
      if (options.timeToLive !== undefined) {
        if (!Number.isInteger(options.timeToLive) || options.timeToLive < 1 || options.timeToLive > 255) {
          throw new RangeError(`UDP: timeToLive must be in 1..255, got ${String(options.timeToLive)}`);
        }
        this.#ttl = options.timeToLive;
      }
      this.target = options.target;
      this.#onReadable = options.onReadable ?? null;
      this.#onError = options.onError ?? null;
      const wantsGroup = options.broadcast === true || options.multicast !== undefined;
      this.#index = udp.bind(address, port, this, wantsGroup, this.#onError !== null);
      if (options.multicast !== undefined) {
        const dev = net.devices.find((d) => d.inDev.configured && d !== net.loopback);
        if (dev === undefined) {
          udp.unbind(this.#index);
          throw new TypeError("UDP: no interface to join the multicast group on");
        }
        ipMcJoin(dev, options.multicast);
      }
    }

    static #isSocket(value: unknown): value is UDP {
      return typeof value === "object" && value !== null && #index in value;
    }

    /** The receiver's socket index, or the SyntaxError of Moddable's host-data check. */
    static #open(self: unknown, what: string): number {
      if (!UDP.#isSocket(self)) throw new SyntaxError(`UDP ${what}: not a UDP socket`);
      if (self.#index === CLOSED) throw new SyntaxError(`UDP ${what}: socket is closed`);
      return self.#index;
    }

    get port(): number {
      return udp.localPort[UDP.#open(this, "port")];
    }

    get format(): "buffer" {
      return "buffer";
    }

    set format(value: "buffer") {
      if (value !== "buffer") throw new RangeError(`UDP: format must be "buffer"`);
    }

    onDatagrams(waiting: number): void {
      if (this.#onReadable !== null) this.#onReadable.call(this, waiting);
    }

    onIcmpError(): void {
      if (this.#onError !== null) this.#onError.call(this);
    }

    readError(): UdpErrorReport | undefined {
      const i = UDP.#open(this, "readError");
      if (udp.errPending[i] === 0) return undefined;
      udp.errPending[i] = 0;
      const type = udp.errType[i];
      const code = udp.errCode[i];
      return {
        reason: icmpErrorReason(type, code), address: formatIpv4(udp.errAddr[i]), port: udp.errPort[i],
        from: formatIpv4(udp.errFrom[i]), type, code,
      };
    }

    read(): UdpPacket | undefined;
    read(buffer: Buffer): number | undefined;
    read(buffer?: Buffer): UdpPacket | number | undefined {
      const i = UDP.#open(this, "read");
      const len = udp.peekLength(i);
      if (buffer !== undefined) {
        const dst = bytesOf(buffer, "UDP read: buffer");
        if (len < 0) return undefined;
        if (dst.length < len) throw new RangeError(`UDP read: buffer of ${dst.length} bytes is smaller than the ${len}-byte datagram`);
        return udp.recv(i, dst, 0, this.#from);
      }
      if (len < 0) return undefined;
      const packet = new ArrayBuffer(len) as UdpPacket;
      udp.recv(i, new Uint8Array(packet), 0, this.#from);
      packet.address = formatIpv4(this.#from[0]);
      packet.port = this.#from[1];
      return packet;
    }

    write(buffer: Buffer, address: string, port: number | string): void {
      const i = UDP.#open(this, "write");
      const bytes = bytesOf(buffer, "UDP write: buffer");
      if (typeof address !== "string") throw new TypeError(`UDP write: address must be a string, got ${typeof address}`);
      const daddr = parseIpv4(address);
      const dport = checkPort(port, "UDP write: port", false);
      if (bytes.length > UDP_PAYLOAD_MAX) throw new RangeError(`UDP write: ${bytes.length} bytes is over the ${UDP_PAYLOAD_MAX}-byte maximum`);
      const rc = udp.sendto(i, bytes, 0, bytes.length, daddr, dport, this.#ttl);
      if (rc < 0) throw new Error(`UDP write to ${address}:${dport} failed: ${rc === -101 ? "no route" : rc === -105 ? "no packet buffers" : `error ${-rc}`}`);
    }

    close(): void {
      if (!UDP.#isSocket(this)) throw new SyntaxError("UDP close: not a UDP socket");
      if (this.#index === CLOSED) return;
      udp.unbind(this.#index);
      this.#index = CLOSED;
    }
  }
  return UDP;
}
