// A small DHCP server (RFC 2131 4.3) for the simulated LAN, written here to test the client:
// it runs on a simulated host's own stack (UDP port 67), hands out addresses from a range,
// remembers leases by client hardware address, and can be told to misbehave (stay silent,
// NAK everything, answer late). Node-free, so scenarios using it run in XS too. Test code:
// it allocates freely.

import type { Net } from "../../src/core/net";
import type { Timer } from "../../src/core/timer";
import type { UdpOwner } from "../../src/udp/udp";
import {
  BOOTREQUEST, DHCPACK, DHCPDECLINE, DHCPDISCOVER, DHCPINFORM, DHCPNAK, DHCPOFFER, DHCPRELEASE, DHCPREQUEST,
  DHCP_CLIENT_PORT, DHCP_FLAG_BROADCAST, DHCP_MAGIC, DHCP_OPTIONS_OFF, DHCP_SERVER_PORT, DHO_CLASSLESS_ROUTES, DHO_DNS,
  DHO_END, DHO_HOSTNAME, DHO_LEASE_TIME, DHO_MSG_TYPE, DHO_MTU, DHO_NTP, DHO_PAD, DHO_REBINDING_TIME,
  DHO_RENEWAL_TIME, DHO_REQUESTED_IP, DHO_ROUTER, DHO_SERVER_ID, DHO_SUBNET_MASK,
} from "../../src/wire/dhcp";
import { read16, read32, write32 } from "../../src/wire/bytes";
import { INADDR_BROADCAST, formatIpv4, parseIpv4, prefixMask } from "../../src/wire/ipv4";

export interface SimDhcpServerOptions {
  /** the first address handed out and how many follow it */
  first: string;
  count: number;
  prefixLength: number;
  leaseSecs: number;
  renewSecs?: number;
  rebindSecs?: number;
  router?: string;
  dns?: string[];
  ntp?: string[];
  mtu?: number;
  /** RFC 3442 routes: [destination/prefix, router] */
  routes?: [string, string][];
  /** wait this long before each answer (a second, slower server) */
  delayMs?: number;
}

export interface SimLease {
  mac: string;
  address: number;
  hostname: string;
  expiresAt: number;
}

export class SimDhcpServer implements UdpOwner {
  /** what it does with a request: answer, say nothing, or NAK every REQUEST */
  mode: "normal" | "silent" | "nak" = "normal";
  readonly leases = new Map<string, SimLease>();
  readonly declined = new Set<number>();
  readonly counts = { discover: 0, request: 0, decline: 0, release: 0, offer: 0, ack: 0, nak: 0, ignored: 0 };
  /** the message types received, in order, with the virtual time */
  readonly log: string[] = [];
  readonly #net: Net;
  readonly #sock: number;
  readonly #o: SimDhcpServerOptions;
  readonly #id: number;
  readonly #first: number;
  readonly #rx = new Uint8Array(1500);
  readonly #from = new Uint32Array(2);
  /** offers not yet taken up, by MAC */
  readonly #offered = new Map<string, number>();
  readonly #later: Array<{ at: number; bytes: Uint8Array; to: number }> = [];
  readonly #timer: Timer | null = null;

  constructor(net: Net, options: SimDhcpServerOptions) {
    this.#net = net;
    this.#o = options;
    this.#id = net.devices[1].inDev.addr;
    this.#first = parseIpv4(options.first);
    this.#sock = net.udp.bind(0, DHCP_SERVER_PORT, this, true);
    if ((options.delayMs ?? 0) > 0) this.#timer = net.timers.create(() => this.#flushLater(), 0);
  }

  get address(): string {
    return formatIpv4(this.#id);
  }

  close(): void {
    this.#net.udp.unbind(this.#sock);
    if (this.#timer !== null) this.#net.delTimer(this.#timer);
  }

  onIcmpError(): void {}

  /** Send any bytes from port 67 (hostile-input tests). */
  sendRaw(bytes: Uint8Array, to = INADDR_BROADCAST): void {
    this.#net.udp.sendto(this.#sock, bytes, 0, bytes.length, to, DHCP_CLIENT_PORT, 64);
  }

  onDatagrams(): void {
    const udp = this.#net.udp;
    let len: number;
    while ((len = udp.recv(this.#sock, this.#rx, 0, this.#from)) >= 0) this.#request(len);
  }

  #request(len: number): number | void {
    const b = this.#rx;
    if (len < DHCP_OPTIONS_OFF + 4 || b[0] !== BOOTREQUEST || read32(b, 236) !== DHCP_MAGIC) return;
    const opts = options(b, len);
    const type = opts.get(DHO_MSG_TYPE)?.[0] ?? 0;
    const mac = macText(b);
    const xid = read32(b, 4);
    const ciaddr = read32(b, 12);
    const now = this.#net.now();
    const names = ["", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM"];
    this.log.push(`${Math.round(now)} ${names[type] ?? type}${ciaddr !== 0 ? ` ciaddr=${formatIpv4(ciaddr)}` : ""}`);
    const requested = opts.has(DHO_REQUESTED_IP) ? read32(opts.get(DHO_REQUESTED_IP) as Uint8Array, 0) : 0;
    const serverId = opts.has(DHO_SERVER_ID) ? read32(opts.get(DHO_SERVER_ID) as Uint8Array, 0) : 0;
    const hostname = opts.has(DHO_HOSTNAME) ? String.fromCharCode(...(opts.get(DHO_HOSTNAME) as Uint8Array)) : "";
    switch (type) {
      case DHCPDISCOVER: {
        this.counts.discover++;
        if (this.mode === "silent") return;
        const addr = this.#pick(mac);
        if (addr === 0) return;
        this.#offered.set(mac, addr);
        this.counts.offer++;
        return this.#reply(b, DHCPOFFER, xid, addr, 0);
      }
      case DHCPREQUEST: {
        this.counts.request++;
        if (this.mode === "silent") return;
        if (serverId !== 0 && serverId !== this.#id) {
          // The client took another server's offer (RFC 2131 4.3.2).
          this.#offered.delete(mac);
          this.counts.ignored++;
          return;
        }
        const lease = this.leases.get(mac);
        let addr: number;
        if (serverId !== 0) addr = this.#offered.get(mac) ?? 0; // SELECTING
        else if (ciaddr !== 0) addr = lease !== undefined && lease.address === ciaddr ? ciaddr : 0; // RENEWING, REBINDING
        else {
          // INIT-REBOOT: silent without a record of the client (4.3.2), NAK for a wrong address.
          if (lease === undefined) {
            this.counts.ignored++;
            return;
          }
          addr = lease.address === requested ? requested : 0;
        }
        if (this.mode === "nak" || addr === 0 || (serverId !== 0 && requested !== addr)) {
          this.counts.nak++;
          return this.#reply(b, DHCPNAK, xid, 0, ciaddr);
        }
        this.#offered.delete(mac);
        this.leases.set(mac, { mac, address: addr, hostname, expiresAt: now + this.#o.leaseSecs * 1000 });
        this.counts.ack++;
        return this.#reply(b, DHCPACK, xid, addr, ciaddr);
      }
      case DHCPDECLINE:
        this.counts.decline++;
        if (requested !== 0) this.declined.add(requested);
        this.leases.delete(mac);
        this.#offered.delete(mac);
        return;
      case DHCPRELEASE:
        this.counts.release++;
        this.leases.delete(mac);
        return;
      case DHCPINFORM:
      default:
        this.counts.ignored++;
    }
  }

  /** The client's lease, else the first free address not declined. */
  #pick(mac: string): number {
    const held = this.leases.get(mac)?.address ?? this.#offered.get(mac);
    if (held !== undefined && !this.declined.has(held)) return held;
    const taken = new Set<number>([...this.leases.values()].map((l) => l.address));
    for (const a of this.#offered.values()) taken.add(a);
    for (let i = 0; i < this.#o.count; i++) {
      const a = (this.#first + i) >>> 0;
      if (!taken.has(a) && !this.declined.has(a)) return a;
    }
    return 0;
  }

  #reply(req: Uint8Array, type: number, xid: number, yiaddr: number, ciaddr: number): number {
    const o = this.#o;
    const m = new Uint8Array(548);
    m[0] = 2; // BOOTREPLY
    m[1] = 1;
    m[2] = 6;
    write32(m, 4, xid);
    m[10] = req[10]; // flags echoed
    m[11] = req[11];
    write32(m, 12, ciaddr);
    write32(m, 16, yiaddr);
    m.set(req.subarray(28, 44), 28);
    write32(m, 236, DHCP_MAGIC);
    let at = DHCP_OPTIONS_OFF;
    const opt = (code: number, bytes: number[]): void => {
      m[at++] = code;
      m[at++] = bytes.length;
      for (const x of bytes) m[at++] = x;
    };
    const u32 = (v: number): number[] => [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    opt(DHO_MSG_TYPE, [type]);
    opt(DHO_SERVER_ID, u32(this.#id));
    if (type !== DHCPNAK) {
      opt(DHO_LEASE_TIME, u32(o.leaseSecs));
      if (o.renewSecs !== undefined) opt(DHO_RENEWAL_TIME, u32(o.renewSecs));
      if (o.rebindSecs !== undefined) opt(DHO_REBINDING_TIME, u32(o.rebindSecs));
      opt(DHO_SUBNET_MASK, u32(prefixMask(o.prefixLength)));
      if (o.router !== undefined) opt(DHO_ROUTER, u32(parseIpv4(o.router)));
      if (o.dns !== undefined) opt(DHO_DNS, o.dns.flatMap((a) => u32(parseIpv4(a))));
      if (o.ntp !== undefined) opt(DHO_NTP, o.ntp.flatMap((a) => u32(parseIpv4(a))));
      if (o.mtu !== undefined) opt(DHO_MTU, [o.mtu >>> 8, o.mtu & 0xff]);
      if (o.routes !== undefined) {
        const r: number[] = [];
        for (const [cidr, gw] of o.routes) {
          const [dest, bits] = cidr.split("/");
          const d = u32(parseIpv4(dest));
          r.push(Number(bits), ...d.slice(0, (Number(bits) + 7) >> 3), ...u32(parseIpv4(gw)));
        }
        opt(DHO_CLASSLESS_ROUTES, r);
      }
    }
    m[at++] = DHO_END;
    // RFC 2131 4.1: to ciaddr when the client has one, else broadcast (the flag, or a
    // client we cannot ARP for yet).
    const to = ciaddr !== 0 && (read16(req, 10) & DHCP_FLAG_BROADCAST) === 0 ? ciaddr : INADDR_BROADCAST;
    const bytes = m.subarray(0, Math.max(at, 300));
    const delay = o.delayMs ?? 0;
    if (delay > 0 && this.#timer !== null) {
      this.#later.push({ at: this.#net.now() + delay, bytes: bytes.slice(), to });
      this.#net.modTimer(this.#timer, this.#later[0].at);
      return 0;
    }
    // The last call (a tail call on XS): the send chain starts from this frame's place.
    return this.#net.udp.sendto(this.#sock, bytes, 0, bytes.length, to, DHCP_CLIENT_PORT, 64);
  }

  #flushLater(): void {
    const now = this.#net.now();
    while (this.#later.length > 0 && this.#later[0].at <= now) {
      const { bytes, to } = this.#later.shift() as { bytes: Uint8Array; to: number };
      this.#net.udp.sendto(this.#sock, bytes, 0, bytes.length, to, DHCP_CLIENT_PORT, 64);
    }
    if (this.#later.length > 0 && this.#timer !== null) this.#net.modTimer(this.#timer, this.#later[0].at);
  }
}

/** Every option of the message (options field only), by code; the last of a code wins. */
function options(b: Uint8Array, len: number): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  let at = DHCP_OPTIONS_OFF;
  while (at < len) {
    const code = b[at];
    if (code === DHO_END) break;
    if (code === DHO_PAD) {
      at++;
      continue;
    }
    if (at + 1 >= len || at + 2 + b[at + 1] > len) break;
    out.set(code, b.slice(at + 2, at + 2 + b[at + 1]));
    at += 2 + b[at + 1];
  }
  return out;
}

function macText(b: Uint8Array): string {
  const parts: string[] = [];
  for (let i = 28; i < 34; i++) parts.push(b[i].toString(16).padStart(2, "0"));
  return parts.join(":");
}
