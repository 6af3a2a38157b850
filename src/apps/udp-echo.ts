// UDP echo (RFC 862, UDP 7): each datagram goes back to its sender's address and port,
// fragmented ones too. It needs only the UDP class: new UdpEchoServer(udpSocketClass(net)).start()

import type { UdpSocket, UdpSocketClass } from "../socket/udp";

export const PORT_UDP_ECHO = 7;

export interface UdpEchoStats {
  datagrams: number;
  bytes: number;
  /** replies the stack refused (no packet buffers, no route): lost, as on a wire */
  sendErrors: number;
}

export class UdpEchoServer {
  readonly UDP: UdpSocketClass;
  readonly port: number;
  readonly stats: UdpEchoStats = { datagrams: 0, bytes: 0, sendErrors: 0 };
  #sock: UdpSocket | null = null;

  constructor(UDP: UdpSocketClass, options: { port?: number } = {}) {
    this.UDP = UDP;
    this.port = options.port ?? PORT_UDP_ECHO;
  }

  start(): this {
    if (this.#sock !== null) throw new Error("udp echo: already started");
    this.#sock = new this.UDP({ port: this.port, onReadable: udpEchoReadable, target: this });
    return this;
  }

  close(): void {
    this.#sock?.close();
    this.#sock = null;
  }
}

function udpEchoReadable(this: UdpSocket, packets: number): void {
  const s = (this.target as UdpEchoServer).stats;
  for (let i = 0; i < packets; i++) {
    const packet = this.read();
    if (packet === undefined) return;
    s.datagrams++;
    s.bytes += packet.byteLength;
    try {
      this.write(packet, packet.address, packet.port);
    } catch {
      s.sendErrors++;
    }
  }
}
