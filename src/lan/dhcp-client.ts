// DHCP client (RFC 2131; options RFC 2132, RFC 3442; the address check of RFC 5227): one
// interface, one lease. Made once at start-up with its scratch buffers and one timer; the
// receive path (onDatagrams, from UDP's tasklet) reads into the scratch and parses in place.
//
//   INIT --DISCOVER--> SELECTING --first OFFER: REQUEST--> REQUESTING --ACK--> PROBING
//   PROBING (ARP probes, RFC 5227 2.1) --no conflict--> BOUND | conflict: DECLINE, INIT after 10 s
//   BOUND --T1--> RENEWING (unicast to the server) --T2--> REBINDING (broadcast) --expiry--> INIT
//   INIT-REBOOT (a remembered lease) --REQUEST--> REBOOTING --ACK--> PROBING | NAK: INIT
//
// What a lease brings is applied to the interface (address, mask, broadcast, MTU, default
// route or classless routes) and handed to the users of DNS and NTP servers; the app hears
// onLease and onLost.

import { NETDEV_UP, registerNetdevNotifier, unregisterNetdevNotifier, type NetdevNotifier } from "../core/link";
import type { Net } from "../core/net";
import type { NetDevice } from "../core/netdevice";
import type { Timer } from "../core/timer";
import { ipAddrDel, ipAddrSet } from "../ipv4/devinet";
import { arpAnnounce, arpProbe } from "../neigh/arp";
import type { UdpOwner } from "../udp/udp";
import { WIRE_OK, read32, write32 } from "../wire/bytes";
import {
  BOOTREPLY, DHCPACK, DHCPDECLINE, DHCPDISCOVER, DHCPNAK, DHCPOFFER, DHCPRELEASE, DHCPREQUEST, DHCP_CLIENT_PORT,
  DHCP_FLAG_BROADCAST, DHCP_HAS_BROADCAST, DHCP_HAS_LEASE_TIME, DHCP_HAS_MTU, DHCP_HAS_REBINDING_TIME,
  DHCP_HAS_RENEWAL_TIME, DHCP_HAS_ROUTER, DHCP_HAS_SERVER_ID, DHCP_HAS_SUBNET_MASK, DHCP_MIN_LEN, DHCP_ROUTES_MAX,
  DHCP_SERVER_PORT, DHO_CLIENT_ID, DHO_HOSTNAME, DHO_MAX_MSG_SIZE, DHO_MSG_TYPE, DHO_REQUESTED_IP, DHO_SERVER_ID,
  DhcpOptions, dhcpBuildHeader, dhcpCheckLen, dhcpChaddrIs, dhcpOp, dhcpOptByte, dhcpOptBytes, dhcpOptEnd,
  dhcpOptParamRequest, dhcpOptU16, dhcpOptU32, dhcpParseOptions, dhcpXid, dhcpYiaddr,
} from "../wire/dhcp";
import { INADDR_BROADCAST, formatIpv4, ipIsLoopback, ipIsMulticast, ipIsZeronet, prefixMask } from "../wire/ipv4";
// mcconfig type-checks each module alone: the modules that add net.udp and dev.inDev
import type {} from "../udp/udp";

// States (RFC 2131 4.4, figure 5), and PROBING for RFC 5227's check.
export const DHCP_STOPPED = 0;
export const DHCP_INIT = 1;
export const DHCP_SELECTING = 2;
export const DHCP_REQUESTING = 3;
export const DHCP_PROBING = 4;
export const DHCP_BOUND = 5;
export const DHCP_RENEWING = 6;
export const DHCP_REBINDING = 7;
export const DHCP_REBOOTING = 8;
/** after a DECLINE, the ten seconds RFC 2131 3.1.5 asks for before INIT */
export const DHCP_DECLINED = 9;

export const DHCP_STATE_NAMES: readonly string[] = Object.freeze([
  "stopped", "init", "selecting", "requesting", "probing", "bound", "renewing", "rebinding", "rebooting", "declined",
]);

/** RFC 2131 4.1: the first retransmission after 4 s, doubled to at most 64 s, each +-1 s. */
const RETRANS_FIRST_MS = 4_000;
const RETRANS_MAX_MS = 64_000;
/** REQUESTING and REBOOTING give up (back to INIT) after this many sends (4, 8, 16, 32, 64 s). */
const REQUEST_SENDS_MAX = 5;
/** RFC 2131 4.4.5: in RENEWING and REBINDING, wait half the time left, at least 60 s. */
const RENEW_RETRANS_MIN_MS = 60_000;
/** RFC 2131 3.1.5: after a DECLINE, at least 10 s before INIT. */
const DECLINE_WAIT_MS = 10_000;
// RFC 5227 1.1: PROBE_WAIT 1 s, PROBE_NUM 3, PROBE_MIN 1 s, PROBE_MAX 2 s, ANNOUNCE_WAIT 2 s,
// ANNOUNCE_INTERVAL 2 s.
const PROBE_WAIT_MS = 1_000;
const PROBE_NUM = 3;
const PROBE_MIN_MS = 1_000;
const PROBE_MAX_MS = 2_000;
const ANNOUNCE_WAIT_MS = 2_000;
const ANNOUNCE_NUM = 2;
const ANNOUNCE_INTERVAL_MS = 2_000;
/** A lease time of all ones is infinite (RFC 2131 3.3). */
const LEASE_INFINITE = 0xffffffff;
/** The longest wait one arming of the timer takes: a host timer is a signed 32-bit count of ms. */
const TIMER_SPAN_MAX_MS = 0x7fffffff;
/** Bytes of a remembered lease (leaseBytes): "xd", version, prefix length, address, server. */
const LEASE_BYTES = 12;
/** Our largest message: the fixed part, the options we send, padded to BOOTP's 300 (RFC 1542). */
const TX_BYTES = 576;
/** What we accept (RFC 2131 2: a client must take 576; we say so in option 57). */
const RX_BYTES = 576;

/** Something that takes the servers a lease names (the DNS resolver, the SNTP client). */
export interface ServerListUser {
  setServers(servers: readonly number[]): void;
}

/** A lease as the app hears of it (made when a lease is bound: not on a per-packet path). */
export interface DhcpLease {
  address: string;
  prefixLength: number;
  router: string | null;
  dns: string[];
  ntp: string[];
  /** seconds; Infinity for an infinite lease */
  leaseSeconds: number;
  server: string;
  /** what to give back as options.lease after a restart (INIT-REBOOT) */
  bytes: Uint8Array;
}

export interface DhcpClientOptions {
  /** option 12, and what mDNS and the DHCP server's lease file show; 1..63 letters, digits, hyphens */
  hostname?: string;
  /** option 61; default type 1 (Ethernet) and the MAC (RFC 2132 9.14) */
  clientId?: Uint8Array;
  /** a remembered lease (DhcpLease.bytes): start in INIT-REBOOT and ask for that address again */
  lease?: Uint8Array;
  /** check an offered address with ARP before using it (RFC 5227); default true */
  arpCheck?: boolean;
  /**
   * the longest random wait before the first DISCOVER, ms (RFC 2131 4.4.1 says 1 to 10 s to
   * desynchronise clients after a power cut); default 10,000, at least 1,000 of it
   */
  startDelayMaxMs?: number;
  /** given the lease's DNS servers (option 6) */
  dns?: ServerListUser;
  /** given the lease's NTP servers (option 42) */
  ntp?: ServerListUser;
  onLease?: (lease: DhcpLease) => void;
  /** the address was taken away: "expired", "nak" or "stopped" */
  onLost?: (reason: string) => void;
  /** every state change (diagnostics, the device mode's log) */
  onState?: (state: number) => void;
}

export class DhcpStats {
  discovers = 0;
  requests = 0;
  declines = 0;
  releases = 0;
  offers = 0;
  acks = 0;
  naks = 0;
  /** OFFERs after the one taken (a second server), and replies that do not fit the state */
  ignored = 0;
  /** replies for another transaction or another client (xid, chaddr) */
  foreign = 0;
  /** dropped: too short, bad magic, options running past their field, no end, bad overload */
  malformed = 0;
  /** an OFFER or ACK without a usable address, server id or lease time */
  unusable = 0;
  /** larger than the receive buffer, or not from port 67 */
  dropped = 0;
  /** routes of a lease not added: the routing table was full */
  routesRefused = 0;
  /** DNS or NTP servers of a lease that are not host addresses (0.0.0.0, a group), not passed on */
  serversRefused = 0;
  /** ARP showed another host holds the address (RFC 5227) */
  conflicts = 0;
  leases = 0;
  renewals = 0;
  lost = 0;
}

export class DhcpClient implements UdpOwner {
  readonly stats = new DhcpStats();
  readonly #net: Net;
  readonly #dev: NetDevice;
  readonly #sock: number;
  readonly #timer: Timer;
  readonly #rx = new Uint8Array(RX_BYTES);
  readonly #tx = new Uint8Array(TX_BYTES);
  readonly #from = new Uint32Array(2);
  /** what the message just received says (parsed before it is known to be ours) */
  #rxOptions = new DhcpOptions();
  /** what the ACK that gave the lease said: what is applied (swapped in by #ack) */
  #leaseOptions = new DhcpOptions();
  /** the lease is applied to the interface (between #bind and #unbind) */
  #bound = false;
  /** the netdev notifier this client registered, unregistered by close() */
  readonly #notifier: NetdevNotifier;
  readonly #hostname: Uint8Array | null;
  readonly #clientId: Uint8Array;
  readonly #arpCheck: boolean;
  readonly #startDelayMaxMs: number;
  readonly #options: DhcpClientOptions;
  /** the device's own MTU, put back when a lease that lowered it ends */
  readonly #devMtu: number;
  /** routes this lease added (destination, prefix length), removed with it */
  readonly #routeDest = new Uint32Array(DHCP_ROUTES_MAX + 1);
  readonly #routeBits = new Uint8Array(DHCP_ROUTES_MAX + 1);
  readonly #routeGateway = new Uint32Array(DHCP_ROUTES_MAX + 1);
  #routeCount = 0;

  state = DHCP_STOPPED;
  #xid = 0;
  /** when this acquisition began (the secs field, RFC 2131 4.4.1) */
  #startedAt = 0;
  #sends = 0;
  #retransMs = 0;
  /** the lease: offered or held */
  address = 0;
  prefixLength = 0;
  server = 0;
  leaseSecs = 0;
  /** absolute platform ms of T1, T2 and the end of the lease (Infinity: never) */
  t1At = Infinity;
  t2At = Infinity;
  expiresAt = Infinity;
  /** when the REQUEST that won the lease went (times count from it, RFC 2131 4.4.1) */
  #requestedAt = 0;
  #lastRequestAt = 0;
  /** BOUND's next gratuitous ARP (RFC 5227 2.3), or Infinity */
  #announceAt = Infinity;
  #announcesLeft = 0;
  #naksInRow = 0;
  #probesSent = 0;
  /** the next time the state's work is due */
  #dueAt = 0;

  constructor(net: Net, dev: NetDevice, options: DhcpClientOptions = {}) {
    if (typeof options !== "object" || options === null) throw new TypeError("DHCP: options must be an object");
    this.#net = net;
    this.#dev = dev;
    this.#options = options;
    this.#hostname = options.hostname === undefined ? null : hostnameBytes(options.hostname);
    if (options.clientId !== undefined) {
      if (!(options.clientId instanceof Uint8Array) || options.clientId.length < 2 || options.clientId.length > 255) {
        throw new TypeError("DHCP: clientId must be a Uint8Array of 2..255 bytes (RFC 2132 9.14)");
      }
      this.#clientId = options.clientId.slice();
    } else {
      this.#clientId = new Uint8Array(7);
      this.#clientId[0] = 1;
      this.#clientId.set(dev.addr, 1);
    }
    this.#arpCheck = options.arpCheck !== false;
    const delay = options.startDelayMaxMs ?? 10_000;
    if (!Number.isInteger(delay) || delay < 0 || delay > 60_000) throw new RangeError(`DHCP: startDelayMaxMs must be an integer in 0..60000, got ${String(delay)}`);
    this.#startDelayMaxMs = delay;
    this.#devMtu = dev.mtu;
    if (options.lease !== undefined) this.#restoreLease(options.lease);
    this.#timer = net.timers.create(() => this.onTimer(), 0);
    // A link that comes back may be another network: verify the lease (RFC 2131 3.2).
    this.#notifier = (_n, event, d) => {
      if (d === this.#dev && event === NETDEV_UP && this.#bound && this.state >= DHCP_BOUND && this.state <= DHCP_REBINDING) this.#linkBack();
    };
    registerNetdevNotifier(net, this.#notifier);
    try {
      this.#sock = net.udp.bind(0, DHCP_CLIENT_PORT, this, true);
    } catch (err) {
      unregisterNetdevNotifier(net, this.#notifier);
      throw err;
    }
    net.udp.bindToDevice(this.#sock, dev);
  }

  /** the current transaction's id (diagnostics and tests) */
  get xid(): number {
    return this.#xid;
  }

  get stateName(): string {
    return DHCP_STATE_NAMES[this.state];
  }

  /** Begin: INIT-REBOOT with a remembered lease, otherwise INIT after the random start delay. */
  start(): void {
    if (this.state !== DHCP_STOPPED) return;
    if (this.address !== 0) {
      this.#enter(DHCP_REBOOTING);
      this.#newTransaction();
      this.#sendRequest();
      return;
    }
    const min = Math.min(1_000, this.#startDelayMaxMs);
    this.#enterInit(min + this.#random(this.#startDelayMaxMs - min));
  }

  /**
   * Stop: with `release`, a bound lease is given back (DHCPRELEASE, RFC 2131 4.4.6) and the
   * address removed; without, the address stays in use until the app decides (as when a
   * device is about to power off and keeps the lease for INIT-REBOOT).
   */
  stop(release = false): void {
    if (this.state === DHCP_STOPPED) return;
    const held = this.state >= DHCP_BOUND && this.state <= DHCP_REBINDING;
    if (release && held && this.#bound) {
      this.#send(DHCPRELEASE, this.server);
      this.stats.releases++;
      this.#unbind("stopped");
      this.address = 0;
    }
    // An address offered or being probed, never applied, is not a lease to ask for again.
    if (!this.#bound) this.address = 0;
    this.#dev.inDev.tentative = 0;
    this.#net.delTimer(this.#timer);
    this.#enter(DHCP_STOPPED);
  }

  /** stop(release) and give the socket back (its timer stays made: timers are never freed). */
  close(release = false): void {
    this.stop(release);
    this.#net.udp.unbind(this.#sock);
    unregisterNetdevNotifier(this.#net, this.#notifier);
  }

  /** The lease to remember (INIT-REBOOT after a restart), or null while none is held. */
  leaseBytes(): Uint8Array | null {
    if (!this.#bound) return null;
    const b = new Uint8Array(LEASE_BYTES);
    b[0] = 0x78; // "x"
    b[1] = 0x64; // "d"
    b[2] = 1;
    b[3] = this.prefixLength;
    write32(b, 4, this.address);
    write32(b, 8, this.server);
    return b;
  }

  #restoreLease(bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array) || bytes.length !== LEASE_BYTES || bytes[0] !== 0x78 || bytes[1] !== 0x64 || bytes[2] !== 1 || bytes[3] > 32) {
      throw new TypeError("DHCP: lease must be the bytes a DhcpLease gave (12 bytes, version 1)");
    }
    const addr = read32(bytes, 4);
    if (!usableAddress(addr)) throw new TypeError(`DHCP: the remembered lease's address ${formatIpv4(addr)} is not a host address`);
    this.address = addr;
    this.prefixLength = bytes[3];
    this.server = read32(bytes, 8);
  }

  // ---- timer ----

  /**
   * The one timer: what is due depends on the state. Every send is the last call of its
   * path (`return`): XS runs it as a tail call, so the send chain starts from this frame.
   */
  onTimer(): number {
    const now = this.#net.now();
    if (now < this.#dueAt) {
      this.#arm(this.#dueAt);
      return 0;
    }
    switch (this.state) {
      case DHCP_INIT:
        this.#enter(DHCP_SELECTING);
        this.#newTransaction();
        return this.#sendDiscover();
      case DHCP_SELECTING:
        return this.#sendDiscover();
      case DHCP_REQUESTING:
      case DHCP_REBOOTING:
        if (this.#sends >= REQUEST_SENDS_MAX) {
          // RFC 2131 3.2: no answer to a check of a lease still in use: keep using it until
          // it runs out (T1, T2 and the expiry go on). Otherwise (3.1.5) start over.
          if (this.#bound) {
            this.#enter(DHCP_BOUND);
            return this.#leaseTimer(now);
          }
          this.address = 0;
          this.#enterInit(0);
          return 0;
        }
        return this.#sendRequest();
      case DHCP_PROBING:
        return this.#probeStep();
      case DHCP_DECLINED:
        this.address = 0;
        this.#enterInit(0);
        return 0;
      default:
        return this.#leaseTimer(now);
    }
  }

  /** BOUND, RENEWING, REBINDING: the announcements, T1, T2, expiry, the retransmissions between. */
  #leaseTimer(now: number): number {
    if (now >= this.expiresAt) {
      // RFC 2131 4.4.5: the lease ran out; stop using the address and start over.
      this.#unbind("expired");
      this.address = 0;
      this.#enterInit(0);
      return 0;
    }
    if (now >= this.t2At) {
      if (this.state !== DHCP_REBINDING) {
        this.#enter(DHCP_REBINDING);
        this.#newTransaction();
      }
      this.stats.requests++;
      this.#armRetrans(now, this.expiresAt);
      return this.#send(DHCPREQUEST, INADDR_BROADCAST);
    }
    if (now >= this.t1At) {
      if (this.state !== DHCP_RENEWING) {
        this.#enter(DHCP_RENEWING);
        this.#newTransaction();
      }
      this.stats.requests++;
      this.#armRetrans(now, this.t2At);
      return this.#send(DHCPREQUEST, this.server);
    }
    if (now >= this.#announceAt) {
      // RFC 5227 2.3: ANNOUNCE_NUM (2) announcements ANNOUNCE_INTERVAL apart.
      this.#announceAt = --this.#announcesLeft > 0 ? now + ANNOUNCE_INTERVAL_MS : Infinity;
      this.#arm(Math.min(this.t1At, this.#announceAt));
      return arpAnnounce(this.#net, this.#dev);
    }
    this.#arm(Math.min(this.t1At, this.#announceAt));
    return 0;
  }

  /** RFC 2131 4.4.5: the next REQUEST after half the time to `until`, at least 60 s (or at `until`). */
  #armRetrans(now: number, until: number): void {
    const half = (until - now) / 2;
    this.#arm(half < RENEW_RETRANS_MIN_MS ? until : now + half);
  }

  #arm(at: number): void {
    this.#dueAt = at;
    const now = this.#net.now();
    this.#net.modTimer(this.#timer, at - now > TIMER_SPAN_MAX_MS ? now + TIMER_SPAN_MAX_MS : at);
  }

  /** A uniform random integer in [0, n]. */
  #random(n: number): number {
    return n <= 0 ? 0 : this.#net.platform.random32() % (n + 1);
  }

  #enter(state: number): void {
    if (this.state === state) return;
    this.state = state;
    this.#options.onState?.(state);
  }

  #enterInit(delayMs: number): void {
    this.#dev.inDev.tentative = 0;
    this.#enter(DHCP_INIT);
    this.#arm(this.#net.now() + delayMs);
  }

  #newTransaction(): void {
    this.#xid = this.#net.platform.random32();
    this.#startedAt = this.#net.now();
    this.#sends = 0;
    this.#retransMs = RETRANS_FIRST_MS;
  }

  /** RFC 2131 4.1: the next wait of the exponential backoff, randomised by +-1 s. */
  #armBackoff(): void {
    const wait = this.#retransMs - 1_000 + this.#random(2_000);
    if (this.#retransMs < RETRANS_MAX_MS) this.#retransMs *= 2;
    this.#arm(this.#net.now() + wait);
  }

  #sendDiscover(): number {
    this.stats.discovers++;
    this.#sends++;
    this.#armBackoff();
    return this.#send(DHCPDISCOVER, INADDR_BROADCAST);
  }

  /** REQUESTING and REBOOTING: broadcast, with the backoff armed. */
  #sendRequest(): number {
    this.stats.requests++;
    this.#sends++;
    this.#armBackoff();
    return this.#send(DHCPREQUEST, INADDR_BROADCAST);
  }

  /**
   * Build and send one message (RFC 2131 4.4.1, table 5: what each carries in each state)
   * to `daddr` (broadcast, or the server when renewing and releasing). Returns as
   * udp.sendto; a send that fails is counted there (sndbufErrors) and retried by the backoff.
   */
  #send(type: number, daddr: number): number {
    const b = this.#tx;
    const st = this.state;
    const held = st === DHCP_BOUND || st === DHCP_RENEWING || st === DHCP_REBINDING;
    // ciaddr: our address when we hold it (renewing, rebinding, release), else 0.
    const ciaddr = (held && type !== DHCPDECLINE) ? this.address : 0;
    // RFC 2131 4.1: ask for a broadcast reply while we cannot receive unicast.
    const flags = this.#dev.inDev.configured ? 0 : DHCP_FLAG_BROADCAST;
    const secs = type === DHCPRELEASE || type === DHCPDECLINE ? 0 : Math.floor((this.#net.now() - this.#startedAt) / 1000);
    let o = dhcpBuildHeader(b, 0, this.#xid, secs, flags, ciaddr, this.#dev.addr, 0);
    o = dhcpOptByte(b, o, DHO_MSG_TYPE, type);
    o = dhcpOptBytes(b, o, DHO_CLIENT_ID, this.#clientId, 0, this.#clientId.length);
    if (type === DHCPREQUEST && (st === DHCP_REQUESTING || st === DHCP_REBOOTING)) o = dhcpOptU32(b, o, DHO_REQUESTED_IP, this.address);
    if (type === DHCPDECLINE) o = dhcpOptU32(b, o, DHO_REQUESTED_IP, this.address);
    // The server id only in SELECTING's REQUEST, a DECLINE and a RELEASE (table 5).
    if ((type === DHCPREQUEST && st === DHCP_REQUESTING) || type === DHCPDECLINE || type === DHCPRELEASE) o = dhcpOptU32(b, o, DHO_SERVER_ID, this.server);
    if (type === DHCPDISCOVER || type === DHCPREQUEST) {
      o = dhcpOptU16(b, o, DHO_MAX_MSG_SIZE, RX_BYTES);
      if (this.#hostname !== null) o = dhcpOptBytes(b, o, DHO_HOSTNAME, this.#hostname, 0, this.#hostname.length);
      o = dhcpOptParamRequest(b, o);
    }
    o = dhcpOptEnd(b, o, DHCP_MIN_LEN);
    if (type === DHCPREQUEST) this.#lastRequestAt = this.#net.now();
    return this.#net.udp.sendto(this.#sock, b, 0, o, daddr, DHCP_SERVER_PORT, this.#net.config.ipDefaultTtl);
  }

  // ---- receive ----

  onDatagrams(_waiting: number): void {
    const udp = this.#net.udp;
    const from = this.#from;
    for (;;) {
      const len = udp.peekLength(this.#sock);
      if (len < 0) return;
      if (len > RX_BYTES) {
        udp.recv(this.#sock, null, 0, from);
        this.stats.dropped++;
        continue;
      }
      udp.recv(this.#sock, this.#rx, 0, from);
      if (from[1] !== DHCP_SERVER_PORT) this.stats.dropped++;
      else this.#input(len);
    }
  }

  onIcmpError(): void {}

  #input(len: number): number {
    const b = this.#rx;
    const o = this.#rxOptions;
    const stats = this.stats;
    if (dhcpCheckLen(b, 0, len) !== WIRE_OK || dhcpOp(b, 0) !== BOOTREPLY || dhcpParseOptions(b, 0, len, o) !== WIRE_OK || o.msgType === 0) {
      stats.malformed++;
      return 0;
    }
    if (dhcpXid(b, 0) !== this.#xid || !dhcpChaddrIs(b, 0, this.#dev.addr, 0)) {
      stats.foreign++;
      return 0;
    }
    const st = this.state;
    if (o.msgType === DHCPOFFER) {
      stats.offers++;
      if (st !== DHCP_SELECTING) {
        stats.ignored++;
        return 0;
      }
      return this.#offer(dhcpYiaddr(b, 0));
    }
    if (o.msgType === DHCPACK || o.msgType === DHCPNAK) {
      if (o.msgType === DHCPACK) stats.acks++;
      else stats.naks++;
      if (st !== DHCP_REQUESTING && st !== DHCP_REBOOTING && st !== DHCP_RENEWING && st !== DHCP_REBINDING) {
        stats.ignored++;
        return 0;
      }
      // RFC 2131 4.4.1: in REQUESTING, only the chosen server's answer counts.
      if (st === DHCP_REQUESTING && ((o.present & DHCP_HAS_SERVER_ID) === 0 || o.serverId !== this.server)) {
        stats.ignored++;
        return 0;
      }
      if (o.msgType === DHCPNAK) return this.#nak();
      return this.#ack(dhcpYiaddr(b, 0));
    }
    stats.ignored++;
    return 0;
  }

  /** SELECTING: the first usable OFFER wins (RFC 2131 4.4.1 lets the client choose); REQUEST it. */
  #offer(yiaddr: number): number {
    const o = this.#rxOptions;
    if (!usableAddress(yiaddr) || (o.present & DHCP_HAS_SERVER_ID) === 0) {
      this.stats.unusable++;
      return 0;
    }
    this.address = yiaddr;
    this.server = o.serverId;
    this.#enter(DHCP_REQUESTING);
    // The same xid (RFC 2131 4.4.1); the backoff starts again for the REQUEST.
    this.#sends = 0;
    this.#retransMs = RETRANS_FIRST_MS;
    return this.#sendRequest();
  }

  #nak(): number {
    // RFC 2131 3.1.5, 3.2, 4.4.5: stop using any address and start over.
    if (this.#bound) this.#unbind("nak");
    this.address = 0;
    // The first NAK restarts at once; NAKs in a row back off (1, 2, 4 .. 64 s, +-1 s) so a
    // server that refuses everything is not asked in a tight loop.
    const wait = this.#naksInRow === 0 ? 0 : Math.min(RETRANS_MAX_MS, 500 << this.#naksInRow) - 1_000 + this.#random(2_000);
    if (this.#naksInRow < 8) this.#naksInRow++;
    this.#enterInit(wait > 0 ? wait : 0);
    return 0;
  }

  #ack(yiaddr: number): number {
    const rx = this.#rxOptions;
    const st = this.state;
    const leaseOk = (rx.present & DHCP_HAS_LEASE_TIME) !== 0 && rx.leaseSecs > 0;
    if (!usableAddress(yiaddr) || !leaseOk || (st === DHCP_REBOOTING && yiaddr !== this.address)) {
      this.stats.unusable++;
      return 0;
    }
    // This ACK's options are the lease's from now on: what arrives while the address is
    // probed (another client's reply, a late OFFER) is parsed into the other set.
    this.#rxOptions = this.#leaseOptions;
    this.#leaseOptions = rx;
    const o = rx;
    if ((o.present & DHCP_HAS_SERVER_ID) !== 0) this.server = o.serverId;
    this.#requestedAt = this.#lastRequestAt;
    // Renewing, rebinding, or verifying a lease still in use (RFC 2131 3.2, 4.4.5): new times.
    if (st === DHCP_RENEWING || st === DHCP_REBINDING || (st === DHCP_REBOOTING && this.#bound)) {
      this.stats.renewals++;
      if (yiaddr === this.address) {
        this.#setTimes(o.leaseSecs);
        this.#enter(DHCP_BOUND);
        this.#arm(this.t1At);
        return 0;
      }
      // A new address on renewal: the old one goes, the new one is checked as any other.
      this.#unbind("nak");
    }
    this.address = yiaddr;
    this.prefixLength = maskLength(o.present & DHCP_HAS_SUBNET_MASK ? o.subnetMask : 0, yiaddr);
    this.leaseSecs = o.leaseSecs;
    if (!this.#arpCheck) return this.#bind();
    // RFC 5227 2.1: probe before use.
    this.#enter(DHCP_PROBING);
    this.#dev.inDev.tentative = yiaddr;
    this.#dev.inDev.tentativeConflicts = 0;
    this.#probesSent = 0;
    this.#arm(this.#net.now() + this.#random(PROBE_WAIT_MS));
    return 0;
  }

  /** PROBING: three probes 1 to 2 s apart, then ANNOUNCE_WAIT; any conflict declines. */
  #probeStep(): number {
    const inDev = this.#dev.inDev;
    if (inDev.tentativeConflicts > 0) {
      this.stats.conflicts++;
      this.stats.declines++;
      inDev.tentative = 0;
      // The DECLINE names the address (it goes before the state forgets it).
      this.#enter(DHCP_DECLINED);
      this.#arm(this.#net.now() + DECLINE_WAIT_MS);
      return this.#send(DHCPDECLINE, INADDR_BROADCAST);
    }
    if (this.#probesSent < PROBE_NUM) {
      this.#probesSent++;
      const last = this.#probesSent === PROBE_NUM;
      this.#arm(this.#net.now() + (last ? ANNOUNCE_WAIT_MS : PROBE_MIN_MS + this.#random(PROBE_MAX_MS - PROBE_MIN_MS)));
      return arpProbe(this.#net, this.#dev, this.address);
    }
    inDev.tentative = 0;
    return this.#bind();
  }

  /** Apply the lease to the interface and tell its users (RFC 2131 4.4.1 BOUND). */
  #bind(): number {
    const net = this.#net;
    const dev = this.#dev;
    const o = this.#leaseOptions;
    // Announced from the timer, not from here: a shallower stack (see onTimer).
    ipAddrSet(net, dev, this.address, this.prefixLength, false);
    if ((o.present & DHCP_HAS_BROADCAST) !== 0 && o.broadcast !== 0) dev.inDev.broadcast = o.broadcast;
    if ((o.present & DHCP_HAS_MTU) !== 0 && o.mtu <= this.#devMtu) dev.mtu = o.mtu;
    this.#addRoutes();
    this.#setTimes(this.leaseSecs);
    this.#bound = true;
    this.#enter(DHCP_BOUND);
    this.stats.leases++;
    this.#naksInRow = 0;
    // RFC 5227 2.3: announce now (the timer's next turn), and once more ANNOUNCE_INTERVAL later.
    this.#announceAt = net.now();
    this.#announcesLeft = ANNOUNCE_NUM;
    this.#arm(this.#announceAt);
    this.#tellUsers();
    return 0;
  }

  /** T1 and T2 from the lease (or options 58, 59 when they make sense), counted from the REQUEST. */
  #setTimes(leaseSecs: number): void {
    const o = this.#leaseOptions;
    this.leaseSecs = leaseSecs;
    if (leaseSecs === LEASE_INFINITE) {
      this.t1At = this.t2At = this.expiresAt = Infinity;
      return;
    }
    const base = this.#requestedAt;
    const lease = leaseSecs * 1000;
    let t1 = lease * 0.5;
    let t2 = lease * 0.875;
    // RFC 2131 4.4.5: T1 < T2 < lease when the server gives them.
    // A T1 or T2 of 0 would renew in a loop: taken as absent.
    if ((o.present & DHCP_HAS_RENEWAL_TIME) !== 0 && o.renewSecs > 0 && o.renewSecs * 1000 < lease) t1 = o.renewSecs * 1000;
    if ((o.present & DHCP_HAS_REBINDING_TIME) !== 0 && o.rebindSecs > 0 && o.rebindSecs * 1000 < lease) t2 = o.rebindSecs * 1000;
    if (t1 >= t2) t1 = t2 * 0.5 / 0.875;
    this.t1At = base + t1;
    this.t2At = base + t2;
    this.expiresAt = base + lease;
  }

  /** RFC 3442: classless routes, when given, stand in for the router option. */
  #addRoutes(): void {
    const o = this.#leaseOptions;
    this.#removeRoutes();
    if (o.routeCount > 0) {
      for (let i = 0; i < o.routeCount; i++) {
        const bits = o.routeBits[i];
        this.#addRoute((o.routeDest[i] & prefixMask(bits)) >>> 0, bits, o.routeGateway[i]);
      }
    } else if ((o.present & DHCP_HAS_ROUTER) !== 0 && usableAddress(o.router)) {
      this.#addRoute(0, 0, o.router);
    }
  }

  /** One route of the lease; a full routing table costs that route only (counted). */
  #addRoute(dst: number, bits: number, gateway: number): void {
    const routes = this.#net.ipv4.routes;
    if (routes.count >= routes.size) {
      this.stats.routesRefused++;
      return;
    }
    routes.add(dst, bits, gateway, this.#dev, 0, false);
    this.#routeDest[this.#routeCount] = dst;
    this.#routeBits[this.#routeCount] = bits;
    this.#routeGateway[this.#routeCount++] = gateway;
  }

  #removeRoutes(): void {
    const routes = this.#net.ipv4.routes;
    // Only the routes this lease added: one of the app's to the same destination stays.
    for (let i = 0; i < this.#routeCount; i++) routes.delExact(this.#routeDest[i], this.#routeBits[i], this.#routeGateway[i], this.#dev, 0);
    this.#routeCount = 0;
  }

  /** The lease's end (expiry, NAK, a new address, release): address and routes go, the app hears. */
  #unbind(reason: string): void {
    this.#bound = false;
    this.#removeRoutes();
    ipAddrDel(this.#net, this.#dev);
    this.#dev.mtu = this.#devMtu;
    this.t1At = this.t2At = this.expiresAt = Infinity;
    this.#announceAt = Infinity;
    this.stats.lost++;
    this.#options.onLost?.(reason);
  }

  /**
   * The link came back while bound: verify the lease as after a reboot (RFC 2131 3.2),
   * using the address meanwhile (a NAK takes it away, no answer keeps it).
   */
  #linkBack(): void {
    this.#enter(DHCP_REBOOTING);
    this.#newTransaction();
    this.#sendRequest();
  }

  #tellUsers(): void {
    const o = this.#leaseOptions;
    const dns: number[] = [];
    for (let i = 0; i < o.dnsCount; i++) if (usableAddress(o.dns[i])) dns.push(o.dns[i]);
    const ntp: number[] = [];
    for (let i = 0; i < o.ntpCount; i++) if (usableAddress(o.ntp[i])) ntp.push(o.ntp[i]);
    this.stats.serversRefused += o.dnsCount - dns.length + o.ntpCount - ntp.length;
    if (dns.length > 0) this.#options.dns?.setServers(dns);
    if (ntp.length > 0) this.#options.ntp?.setServers(ntp);
    const onLease = this.#options.onLease;
    if (onLease === undefined) return;
    onLease({
      address: formatIpv4(this.address),
      prefixLength: this.prefixLength,
      router: (o.present & DHCP_HAS_ROUTER) !== 0 ? formatIpv4(o.router) : null,
      dns: dns.map(formatIpv4),
      ntp: ntp.map(formatIpv4),
      leaseSeconds: this.leaseSecs === LEASE_INFINITE ? Infinity : this.leaseSecs,
      server: formatIpv4(this.server),
      bytes: this.leaseBytes() as Uint8Array,
    });
  }
}

function usableAddress(a: number): boolean {
  return a !== 0 && a !== INADDR_BROADCAST && !ipIsMulticast(a) && !ipIsZeronet(a) && !ipIsLoopback(a);
}

/** A mask's prefix length; a mask that is not contiguous, or none, gives the classful default. */
function maskLength(mask: number, addr: number): number {
  let n = 0;
  while (n < 32 && (mask & (0x80000000 >>> n)) !== 0) n++;
  if (n > 0 && prefixMask(n) === mask >>> 0) return n;
  const first = addr >>> 24;
  return first < 128 ? 8 : first < 192 ? 16 : 24;
}

function hostnameBytes(name: string): Uint8Array {
  // RFC 1123 2.1 host name label: letters, digits, hyphens; not starting or ending with one.
  if (typeof name !== "string" || !/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(name)) {
    throw new TypeError(`DHCP: hostname must be 1..63 letters, digits and inner hyphens, got ${JSON.stringify(String(name))}`);
  }
  const b = new Uint8Array(name.length);
  for (let i = 0; i < name.length; i++) b[i] = name.charCodeAt(i);
  return b;
}
