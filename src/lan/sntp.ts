// SNTP client (RFC 4330): asks the servers the DHCP client or the app gives for the time and
// keeps the offset between the platform clock (net.now(), monotonic ms, no wall clock) and
// Unix time. One query at a time, from a random source port with a random transmit timestamp
// (RFC 4330 5, RFC 5905 9.1: a reply must carry it back as its originate timestamp).
//
//   start() / timer -> #poll -> #send -> udp.sendto
//   (UDP tasklet ->) onDatagrams -> #reply -> onTime
//   timer (no reply) -> #failOver -> timer -> #poll (next server); all silent -> backoff, onError
//
// Allocation-free after construction: one scratch buffer, one timer, fixed server tables.

import type { Net } from "../core/net";
import type { Timer } from "../core/timer";
import type { UdpOwner } from "../udp/udp";
import { WIRE_TRUNCATED } from "../wire/bytes";
import {
  NTP_KISS, NTP_KISS_DENY, NTP_KISS_RATE, NTP_KISS_RSTR, NTP_LEN, NTP_MODE_SERVER, NTP_NOT_OURS, NTP_PORT, NTP_UNSYNCED, ntpBuildRequest,
  ntpCheckReply, ntpKissCode, ntpMode, ntpReceiveFrac, ntpReceiveSec, ntpToUnixMs, ntpTransmitFrac, ntpTransmitSec, ntpVersion,
} from "../wire/ntp";

/** RFC 4330 10: a client never polls one server more often than every 15 seconds. */
export const SNTP_MIN_POLL_MS = 15_000;
/** The longest poll interval a RATE kiss can push us to (RFC 5905 7.3: 2^17 s, 36 h). */
export const SNTP_MAX_POLL_MS = 131_072_000;
/** servers kept (DHCP option 42 may list more: the first ones are used) */
export const SNTP_SERVERS_MAX = 4;
/** the longest reply read: 48 bytes, extension fields and a MAC (RFC 5905 7.5) */
const SNTP_REPLY_MAX = 128;
/** RFC 6335 6: the dynamic port range a random source port is drawn from */
const PORT_DYNAMIC_FIRST = 49152;
const PORT_DYNAMIC_COUNT = 16384;
const SNTP_TTL = 64;

const ST_STOPPED = 0;
/** a request is out, the timer is its timeout */
const ST_QUERY = 1;
/** the timer is the next poll */
const ST_WAIT = 2;
/** no usable server (none given, or all said DENY/RSTR): until setServers */
const ST_NO_SERVER = 3;

export interface SntpOptions {
  /** IPv4 addresses (uint32, host order); setServers replaces them */
  servers?: readonly number[];
  /** between polls after a time was got (default 1,024 s; at least 15 s, RFC 4330 10) */
  pollIntervalMs?: number;
  /** wait for a reply this long before the next server (default 2,000 ms) */
  timeoutMs?: number;
  /** a time was got: Unix ms now, the offset to add to net.now(), the server, the round trip */
  onTime(unixMs: number, offsetMs: number, server: number, delayMs: number): void;
  /** "timeout": no server answered this round (backoff follows); "no server": none usable */
  onError?(reason: string): void;
}

/** What the client did and what it refused (each refused reply is counted, RFC 4330 5). */
export class SntpStats {
  requests = 0;
  /** replies that gave a time */
  replies = 0;
  timeouts = 0;
  /** no socket for the request (the UDP table full) */
  sendErrors = 0;
  /** not from the server asked, or not from port 123 */
  wrongSource = 0;
  /** shorter than 48 bytes, or longer than the client reads */
  badLength = 0;
  /** not mode 4 (a broadcast, mode 5, too) or not version 3 or 4 */
  badMode = 0;
  /** the originate timestamp is not our transmit timestamp: not an answer to our request */
  notOurs = 0;
  /** leap indicator 3, stratum over 15, or a zero transmit timestamp */
  unsynced = 0;
  /** transmit before receive: times no clock gives */
  badTimes = 0;
  kissRate = 0;
  kissDeny = 0;
  /** kiss codes other than RATE, DENY, RSTR: the server is tried again next round */
  kissOther = 0;
}

export class SntpClient implements UdpOwner {
  readonly stats = new SntpStats();
  readonly #net: Net;
  readonly #timer: Timer;
  readonly #onTime: SntpOptions["onTime"];
  readonly #onError: ((reason: string) => void) | null;
  readonly #timeoutMs: number;
  /** the poll interval, doubled by each RATE kiss (RFC 4330 8) */
  #pollMs: number;
  /** the wait after a round where no server answered, doubled each such round */
  #retryMs = SNTP_MIN_POLL_MS;
  readonly #servers = new Uint32Array(SNTP_SERVERS_MAX);
  /** the server said DENY or RSTR: not asked again (RFC 4330 8) */
  readonly #denied = new Uint8Array(SNTP_SERVERS_MAX);
  /** platform ms of the last request to each server, -Infinity for none */
  readonly #lastSent = new Float64Array(SNTP_SERVERS_MAX);
  readonly #oldServers = new Uint32Array(SNTP_SERVERS_MAX);
  readonly #oldDenied = new Uint8Array(SNTP_SERVERS_MAX);
  readonly #oldSent = new Float64Array(SNTP_SERVERS_MAX);
  #serverCount = 0;
  /** the server asked now, or asked next */
  #cur = 0;
  /** servers tried this round without a time */
  #failed = 0;
  #state = ST_STOPPED;
  #closed = false;
  #sock = -1;
  /** the request's server, transmit timestamp and T1 (platform ms) */
  #queryAddr = 0;
  /** its index in the table, -1 when setServers took it out */
  #queryIndex = -1;
  #txSec = 0;
  #txFrac = 0;
  #t1 = 0;
  #synced = false;
  #offsetMs = 0;
  #delayMs = 0;
  readonly #buf = new Uint8Array(SNTP_REPLY_MAX);
  readonly #from = new Uint32Array(2);

  constructor(net: Net, options: SntpOptions) {
    if (options === null || typeof options !== "object" || typeof options.onTime !== "function") {
      throw new TypeError("SntpClient: options.onTime must be a function");
    }
    const poll = options.pollIntervalMs ?? 1_024_000;
    if (!(poll >= SNTP_MIN_POLL_MS && poll <= SNTP_MAX_POLL_MS)) {
      throw new RangeError(`SntpClient: pollIntervalMs ${poll} is not in ${SNTP_MIN_POLL_MS}..${SNTP_MAX_POLL_MS} (RFC 4330 10: 15 s at least)`);
    }
    const timeout = options.timeoutMs ?? 2_000;
    if (!(timeout >= 10 && timeout <= 60_000)) throw new RangeError(`SntpClient: timeoutMs ${timeout} is not in 10..60000`);
    if (options.onError !== undefined && typeof options.onError !== "function") throw new TypeError("SntpClient: options.onError must be a function");
    this.#net = net;
    this.#onTime = options.onTime;
    this.#onError = options.onError ?? null;
    this.#timeoutMs = timeout;
    this.#pollMs = poll;
    this.#lastSent.fill(-Infinity);
    this.setServers(options.servers ?? []);
    // Throws a RangeError naming config.timersMax when the table is full.
    this.#timer = net.timers.create(() => this.#onTimer());
  }

  /**
   * The servers to ask, in order of preference (the DHCP client calls this with the lease's
   * option 42). A server already known keeps its last poll time and a DENY it gave.
   */
  setServers(servers: readonly number[]): void {
    if (!Array.isArray(servers) && !(servers instanceof Uint32Array)) throw new TypeError("SntpClient: servers must be an array of IPv4 addresses (uint32)");
    const n = Math.min(servers.length, SNTP_SERVERS_MAX);
    for (let k = 0; k < n; k++) {
      const a = servers[k];
      if (!Number.isInteger(a) || a <= 0 || a > 0xffffffff) throw new TypeError(`SntpClient: server ${k} (${String(a)}) is not an IPv4 address as a uint32`);
    }
    // Allocation-free: the DHCP client calls this from its receive path.
    const oldServers = this.#oldServers;
    const oldDenied = this.#oldDenied;
    const oldSent = this.#oldSent;
    const oldCount = this.#serverCount;
    oldServers.set(this.#servers);
    oldDenied.set(this.#denied);
    oldSent.set(this.#lastSent);
    for (let k = 0; k < SNTP_SERVERS_MAX; k++) {
      const a = k < n ? servers[k] >>> 0 : 0;
      let was = -1;
      for (let j = 0; j < oldCount && k < n; j++) if (oldServers[j] === a) was = j;
      this.#servers[k] = a;
      this.#denied[k] = was >= 0 ? oldDenied[was] : 0;
      this.#lastSent[k] = was >= 0 ? oldSent[was] : -Infinity;
    }
    this.#serverCount = n;
    // A query out stays out (its reply is still checked against its server's address).
    this.#queryIndex = -1;
    for (let k = 0; k < n && this.#state === ST_QUERY; k++) if (this.#servers[k] === this.#queryAddr) this.#queryIndex = k;
    this.#cur = this.#queryIndex >= 0 ? this.#queryIndex : 0;
    this.#failed = 0;
    // Waiting for a server, or backing off after a silent round: ask the new list now.
    if (this.#state === ST_NO_SERVER || (this.#state === ST_WAIT && !this.#synced)) this.#poll();
  }

  /** Begin asking (now, or when a server is given). */
  start(): void {
    if (this.#closed) throw new Error("SntpClient: closed");
    if (this.#state !== ST_STOPPED) return;
    this.#state = ST_WAIT;
    this.#poll();
  }

  /** Stop asking; the time got so far stays (now() goes on from the platform clock). */
  stop(): void {
    this.#endQuery();
    this.#net.delTimer(this.#timer);
    this.#state = ST_STOPPED;
  }

  /** Stop for good: the socket is unbound, the timer cancelled. */
  close(): void {
    this.stop();
    this.#closed = true;
  }

  /** Unix time in ms from the platform clock and the offset; NaN before the first time. */
  now(): number {
    return this.#synced ? this.#net.now() + this.#offsetMs : NaN;
  }

  /** Unix ms minus platform ms, from the last reply (0 before one) */
  get offsetMs(): number {
    return this.#offsetMs;
  }

  /** the round trip of the last reply, ms */
  get delayMs(): number {
    return this.#delayMs;
  }

  get synced(): boolean {
    return this.#synced;
  }

  /** the poll interval now (RATE kisses double it) */
  get pollIntervalMs(): number {
    return this.#pollMs;
  }

  /** UdpOwner: replies wait (from UDP's tasklet). */
  onDatagrams(waiting: number): void {
    const udp = this.#net.udp;
    const buf = this.#buf;
    // Bounded by what UDP said waits; a reply that ends the query unbinds the socket.
    for (let k = 0; k < waiting && this.#sock >= 0; k++) {
      const len = udp.peekLength(this.#sock);
      if (len < 0) return;
      if (len > buf.length) {
        udp.recv(this.#sock, null, 0, this.#from);
        this.stats.badLength++;
        continue;
      }
      udp.recv(this.#sock, buf, 0, this.#from);
      this.#reply(len);
    }
  }

  onIcmpError(): void {
    // Not asked for (bound without wantsErrors): a silent server is a timeout.
  }

  /** Ask the next usable server, now or when its 15 s are up; a send's result (udp.sendto) or 0. */
  #poll(): number {
    const s = this.#pickServer();
    if (s < 0) {
      this.#state = ST_NO_SERVER;
      this.#net.delTimer(this.#timer);
      if (this.#onError !== null) this.#onError("no server");
      return 0;
    }
    this.#cur = s;
    const now = this.#net.now();
    const earliest = this.#lastSent[s] + SNTP_MIN_POLL_MS;
    if (now < earliest) {
      this.#state = ST_WAIT;
      this.#net.modTimer(this.#timer, earliest);
      return 0;
    }
    // Tail calls down to the device: the timer's chain keeps no frame of ours under the send.
    return this.#send(s, now);
  }

  #send(s: number, now: number): number {
    const net = this.#net;
    this.#state = ST_QUERY;
    this.#queryAddr = this.#servers[s];
    this.#queryIndex = s;
    this.#lastSent[s] = now;
    this.stats.requests++;
    net.modTimer(this.#timer, now + this.#timeoutMs);
    // RFC 4330 5 lets the transmit timestamp be any value: a random one says nothing of our
    // clock and is what a reply must carry back (RFC 5905 9.1's anti-spoofing check).
    const rnd = net.platform;
    this.#txSec = rnd.random32() >>> 0;
    this.#txFrac = (rnd.random32() | 1) >>> 0;
    try {
      this.#sock = this.#bindRandomPort();
    } catch {
      this.#sock = -1;
      this.stats.sendErrors++;
      return -1; // the timeout moves on to the next server
    }
    ntpBuildRequest(this.#buf, 0, this.#txSec, this.#txFrac);
    this.#t1 = now;
    // A refused send is counted by UDP (sndbufErrors) or the device; the timeout moves on.
    return net.udp.sendto(this.#sock, this.#buf, 0, NTP_LEN, this.#queryAddr, NTP_PORT, SNTP_TTL);
  }

  #reply(len: number): void {
    const buf = this.#buf;
    const st = this.stats;
    if (this.#from[0] !== this.#queryAddr || this.#from[1] !== NTP_PORT) {
      st.wrongSource++;
      return;
    }
    const r = ntpCheckReply(buf, 0, len, this.#txSec, this.#txFrac);
    if (r === WIRE_TRUNCATED) {
      st.badLength++;
      return;
    }
    // RFC 4330 5: mode 4 and version 3 or 4 only (ntpCheckReply also lets broadcasts through).
    if (ntpMode(buf, 0) !== NTP_MODE_SERVER || ntpVersion(buf, 0) < 3 || ntpVersion(buf, 0) > 4) {
      st.badMode++;
      return;
    }
    if (r === NTP_NOT_OURS) {
      st.notOurs++;
      return;
    }
    if (r === NTP_UNSYNCED) {
      st.unsynced++;
      return;
    }
    const t4 = this.#net.now();
    if (r === NTP_KISS) {
      this.#kiss(ntpKissCode(buf, 0), t4);
      return;
    }
    // RFC 4330 5: offset ((T2 - T1) + (T3 - T4)) / 2, delay (T4 - T1) - (T3 - T2), with T1
    // and T4 on the platform clock: the offset is what turns it into Unix time.
    const t2 = ntpToUnixMs(ntpReceiveSec(buf, 0), ntpReceiveFrac(buf, 0));
    const t3 = ntpToUnixMs(ntpTransmitSec(buf, 0), ntpTransmitFrac(buf, 0));
    if (t3 < t2) {
      st.badTimes++;
      return;
    }
    const t1 = this.#t1;
    const offset = (t2 - t1 + (t3 - t4)) / 2;
    const delay = t4 - t1 - (t3 - t2);
    st.replies++;
    const server = this.#queryAddr;
    this.#endQuery();
    this.#offsetMs = offset;
    this.#delayMs = delay < 0 ? 0 : delay;
    this.#synced = true;
    this.#failed = 0;
    this.#retryMs = SNTP_MIN_POLL_MS;
    this.#state = ST_WAIT;
    this.#net.modTimer(this.#timer, t4 + this.#pollMs);
    this.#onTime(t4 + offset, offset, server, this.#delayMs);
  }

  #kiss(code: number, now: number): void {
    const st = this.stats;
    this.#endQuery();
    if (code === NTP_KISS_RATE) {
      // RFC 4330 8: ask less often; this server again after the longer interval.
      st.kissRate++;
      this.#pollMs = Math.min(this.#pollMs * 2, SNTP_MAX_POLL_MS);
      this.#state = ST_WAIT;
      this.#net.modTimer(this.#timer, now + this.#pollMs);
      return;
    }
    if (code === NTP_KISS_DENY || code === NTP_KISS_RSTR) {
      // RFC 4330 8: stop asking this server; the next one now.
      st.kissDeny++;
      if (this.#queryIndex >= 0) this.#denied[this.#queryIndex] = 1;
      this.#pollSoon();
      return;
    }
    st.kissOther++;
    this.#failOver();
  }

  #onTimer(): number {
    if (this.#state === ST_QUERY) {
      this.stats.timeouts++;
      this.#endQuery();
      this.#failOver();
    } else if (this.#state === ST_WAIT) {
      return this.#poll();
    }
    return 0;
  }

  /** This server gave no time: the next one, or, when the round has tried them all, backoff. */
  #failOver(): void {
    this.#failed++;
    this.#cur = (this.#cur + 1) % (this.#serverCount > 0 ? this.#serverCount : 1);
    if (this.#failed < this.#usable()) {
      this.#pollSoon();
      return;
    }
    this.#failed = 0;
    this.#state = ST_WAIT;
    this.#net.modTimer(this.#timer, this.#net.now() + this.#retryMs);
    this.#retryMs = Math.min(this.#retryMs * 2, this.#pollMs);
    if (this.#onError !== null) this.#onError("timeout");
  }

  /**
   * The next poll from the timer, not from here: the receive and timeout paths stay shallow
   * (a send goes down through UDP, IP, the neighbour and the device).
   */
  #pollSoon(): void {
    this.#state = ST_WAIT;
    this.#net.modTimer(this.#timer, this.#net.now());
  }

  #endQuery(): void {
    if (this.#sock >= 0) this.#net.udp.unbind(this.#sock);
    this.#sock = -1;
    if (this.#state === ST_QUERY) this.#state = ST_WAIT;
  }

  #pickServer(): number {
    const n = this.#serverCount;
    for (let k = 0; k < n; k++) {
      const s = (this.#cur + k) % n;
      if (this.#denied[s] === 0) return s;
    }
    return -1;
  }

  #usable(): number {
    let u = 0;
    for (let s = 0; s < this.#serverCount; s++) if (this.#denied[s] === 0) u++;
    return u;
  }

  /** A socket on a random free port of the dynamic range (RFC 5452-style source port randomness). */
  #bindRandomPort(): number {
    const udp = this.#net.udp;
    for (let k = 0; k < 8; k++) {
      const port = PORT_DYNAMIC_FIRST + ((this.#net.platform.random32() >>> 0) % PORT_DYNAMIC_COUNT);
      let taken = false;
      for (let i = 0; i < udp.size && !taken; i++) taken = udp.inUse[i] !== 0 && udp.localPort[i] === port;
      if (!taken) return udp.bind(0, port, this, false);
    }
    return udp.bind(0, 0, this, false);
  }
}
