// DNS stub resolver (RFC 1035 7; RFC 5452 against forged answers; RFC 2308 negative
// caching), one per stack, made at start-up: new DnsResolver(net, options). A records only,
// over UDP only: an answer with TC set is an error (DNS_ERR_TRUNCATED), no TCP fallback.
//
//   resolve(host) -> dotted address or cache hit: the answer, later (the slot's timer)
//                 -> else a random port bound, a query with a random ID to server 0
//   slot timer    -> retransmit to the next server, the wait doubling each round; fail after retries
//   udp tasklet -> SlotOwner.onDatagrams -> receive: copy out to the scratch buffer, check
//                  source, ID, question, counts and every name in place (#check), then
//                  #answer: RCODE, the CNAME chain (bounded), the A record, the cache;
//                  #deliver: the socket unbound, the app told at the slot's timer (a shallow stack)
//
// Every table is made here, sized from the options; the receive and timer paths allocate
// nothing. A bad answer is dropped, counted in stats, and the query keeps waiting (RFC 5452
// 9.1: a forger's answer must not end it).

import type { Net } from "../core/net";
import type { Timer } from "../core/timer";
import type { UdpOwner } from "../udp/udp";
import type { HostResolver } from "../socket/common";
import { WIRE_OK, read16, read32 } from "../wire/bytes";
import {
  DNS_BAD_NAME, DNS_CLASS_IN, DNS_HLEN, DNS_LABEL_MAX, DNS_NAME_MAX, DNS_OPCODE_MASK, DNS_PORT, DNS_QR, DNS_RCODE_MASK,
  DNS_RCODE_NOERROR, DNS_RCODE_NXDOMAIN, DNS_RD, DNS_TC, DNS_TYPE_A, DNS_TYPE_CNAME, DNS_TYPE_SOA, DnsRecord,
  dnsAnCount, dnsArCount, dnsBuildHeader, dnsCopyName, dnsFlags, dnsId, dnsNamesEqual, dnsNsCount, dnsQdCount, dnsReadRecord,
  dnsSkipName, dnsWriteName, dnsWriteQuestionTail,
} from "../wire/dns";
import { ipv4FromText } from "../wire/ipv4";
// mcconfig type-checks each module alone: the modules that add net.udp and net.hostResolver
import type {} from "../udp/udp";

// Why a name did not resolve (the onError argument).
/** the name does not exist (RCODE 3) */
export const DNS_ERR_NXDOMAIN = 1;
/** the name exists but has no A record (RFC 2308 2.2) */
export const DNS_ERR_NODATA = 2;
/** no answer from any server after every retry */
export const DNS_ERR_TIMEOUT = 3;
/** SERVFAIL, REFUSED or another RCODE from the last server asked */
export const DNS_ERR_SERVER = 4;
/** the answer had TC set: it needs TCP, which this resolver does not do */
export const DNS_ERR_TRUNCATED = 5;
/** no DNS server is configured (setServers, or DHCP) */
export const DNS_ERR_NO_SERVERS = 6;
/** more CNAMEs than DNS_CNAME_MAX (or a loop of them) */
export const DNS_ERR_CNAME_CHAIN = 7;
/** the resolver was closed while the request waited */
export const DNS_ERR_CLOSED = 8;

const ERROR_TEXT: readonly string[] = Object.freeze([
  "", "NXDOMAIN: no such name", "NODATA: the name has no IPv4 address", "timed out: no DNS server answered",
  "the DNS server failed (SERVFAIL, REFUSED or another error)", "the answer was truncated (TC): TCP fallback is not implemented",
  "no DNS server configured", "CNAME chain too long or looping", "the resolver was closed",
]);

/** The text of a DNS_ERR_ code. */
export function dnsErrorText(code: number): string {
  return code > 0 && code < ERROR_TEXT.length ? ERROR_TEXT[code] : `DNS error ${code}`;
}

/** CNAMEs followed for one name, over all answers and re-queries. */
export const DNS_CNAME_MAX = 8;
/** servers kept (setServers takes at most this many) */
export const DNS_SERVERS_MAX = 4;
/** the largest answer read: RFC 1035 4.2.1 (no EDNS) */
const MSG_MAX = 512;
/** where the query name is copied after the answer, so dnsNamesEqual compares both in place */
const QNAME_AT = MSG_MAX;
/** random source ports tried before the UDP layer picks one (RFC 5452 9.2) */
const PORT_TRIES = 8;
const PORT_FIRST = 49152; // RFC 6335 dynamic range
const PORT_COUNT = 16384;
/** the wait doubles per round of servers, up to this many times */
const BACKOFF_SHIFT_MAX = 4;
const IP_TTL = 64;
/** a query: header, a name, type and class */
const QUERY_MAX = DNS_HLEN + DNS_NAME_MAX + 1 + 4;

const FREE = 0;
/** a query on the wire */
const QUERY = 1;
/** an answer known at once (an address, the cache, no server): given at the timer */
const DELIVER = 2;

export interface DnsResolverOptions {
  /** IPv4 addresses (uint32) of the servers, tried in order; DHCP sets them with setServers */
  servers?: readonly number[];
  /** answers kept (default 8); when full the oldest goes */
  cacheEntries?: number;
  /** names resolving at once (default 4); one more is a RangeError */
  queriesMax?: number;
  /** the first wait for an answer (default 1000 ms), doubled per round of servers */
  timeoutMs?: number;
  /** retransmissions after the first query (default 3), across the servers in turn */
  retries?: number;
  /** the longest a positive answer is cached (default 3600 s) */
  ttlMaxS?: number;
  /** the longest a negative answer is cached (default 300 s; RFC 2308 5) */
  negativeTtlMaxS?: number;
  /** become net.hostResolver, which the TCP socket's `host` option uses (default true) */
  install?: boolean;
}

export class DnsResolverStats {
  /** resolve() calls */
  requests = 0;
  /** queries put on the wire (first sends, retransmissions, re-queries) */
  sent = 0;
  retransmits = 0;
  /** sendto refused (no route, no buffer): the timer retries */
  sendErrors = 0;
  /** datagrams received on the resolver's ports */
  received = 0;
  /** answers that passed the checks (received = accepted + dropped) */
  accepted = 0;
  resolved = 0;
  failed = 0;
  cacheHits = 0;
  cacheMisses = 0;
  /** an entry thrown out while live to make room */
  cacheEvictions = 0;
  negativeCached = 0;
  nxdomain = 0;
  nodata = 0;
  timeouts = 0;
  /** SERVFAIL, REFUSED, ... (the next server is asked) */
  serverFailures = 0;
  truncated = 0;
  cnamesFollowed = 0;
  /** a CNAME chain that ended without an A: the target asked for (RFC 1034 5.3.3) */
  requeries = 0;
  cnameChainTooLong = 0;
  /** a random port was taken: another drawn */
  portRetries = 0;
  /** resolve() refused: queriesMax names pending */
  pendingFull = 0;
  // Answers dropped (the query keeps waiting), by why.
  /** from an address not asked or a port not 53 (RFC 5452 9.1) */
  wrongSource = 0;
  wrongId = 0;
  /** not one question, or not ours (name, type, class) */
  wrongQuestion = 0;
  /** QR clear or an opcode not QUERY */
  notResponse = 0;
  /** shorter than the header */
  shortHeader = 0;
  /** a name that is not one: pointer loop or forward pointer, label > 63, name > 255, past the end */
  badName = 0;
  /** a question or record past the end: counts the message does not hold */
  recordBeyond = 0;
  /** over 512 bytes */
  tooBig = 0;
  /** every drop above */
  dropped = 0;
}

type Resolved = (addr: number, ttlS: number) => void;
type Failed = (code: number) => void;

/** What tells the resolver of datagrams on one query's socket (one per slot, made at init). */
class SlotOwner implements UdpOwner {
  readonly resolver: DnsResolver;
  readonly slot: number;
  constructor(resolver: DnsResolver, slot: number) {
    this.resolver = resolver;
    this.slot = slot;
  }
  onDatagrams(_waiting: number): void {
    this.resolver.receive(this.slot);
  }
  onIcmpError(): void {}
}

export class DnsResolver implements HostResolver {
  readonly net: Net;
  readonly stats = new DnsResolverStats();
  readonly queriesMax: number;
  readonly cacheEntries: number;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly ttlMaxS: number;
  readonly negativeTtlMaxS: number;
  readonly #servers = new Uint32Array(DNS_SERVERS_MAX);
  #serverCount = 0;
  // The pending table, by slot.
  readonly #state: Uint8Array;
  readonly #gen: Uint16Array;
  readonly #id: Uint16Array;
  readonly #sock: Int16Array;
  /** queries sent for the current name */
  readonly #attempt: Uint8Array;
  /** the servers asked for the current name, a bit per index */
  readonly #asked: Uint8Array;
  readonly #hops: Uint8Array;
  /** the smallest TTL of the records used so far, seconds */
  readonly #ttl: Uint32Array;
  /** DELIVER: the address, or the DNS_ERR_ code when #ok is 0 */
  readonly #result: Uint32Array;
  readonly #ok: Uint8Array;
  /** the name asked now (wire form, lower case), 256 bytes a slot */
  readonly #name: Uint8Array;
  readonly #nameLen: Uint16Array;
  /** the name the app asked for: the cache's key */
  readonly #key: Uint8Array;
  readonly #keyLen: Uint16Array;
  /** each slot's query as sent (QUERY_MAX bytes a slot) */
  readonly #query: Uint8Array;
  readonly #queryLen: Uint16Array;
  readonly #onResolved: (Resolved | null)[];
  readonly #onError: (Failed | null)[];
  readonly #timers: Timer[];
  readonly #owners: SlotOwner[];
  // The cache.
  readonly #cName: Uint8Array;
  readonly #cNameLen: Uint16Array;
  readonly #cAddr: Uint32Array;
  /** 0: an address; else the DNS_ERR_ code cached (NXDOMAIN, NODATA) */
  readonly #cErr: Uint8Array;
  readonly #cExpires: Float64Array;
  /** when the entry was stored (the oldest goes first) */
  readonly #cBorn: Float64Array;
  #cSeq = 0;
  // Scratch: the answer (then the query name at QNAME_AT), [addr, port].
  readonly #rx = new Uint8Array(MSG_MAX + DNS_NAME_MAX + 1);

  readonly #from = new Uint32Array(2);
  readonly #rec = new DnsRecord();
  #closed = false;

  constructor(net: Net, options: DnsResolverOptions = {}) {
    if (typeof options !== "object" || options === null) throw new TypeError("DnsResolver: options must be an object");
    this.net = net;
    const q = (this.queriesMax = intOption(options.queriesMax, 4, 1, 255, "queriesMax"));
    const c = (this.cacheEntries = intOption(options.cacheEntries, 8, 0, 4096, "cacheEntries"));
    this.timeoutMs = intOption(options.timeoutMs, 1000, 1, 600_000, "timeoutMs");
    this.retries = intOption(options.retries, 3, 0, 32, "retries");
    this.ttlMaxS = intOption(options.ttlMaxS, 3600, 0, 0x7fffffff, "ttlMaxS");
    this.negativeTtlMaxS = intOption(options.negativeTtlMaxS, 300, 0, 0x7fffffff, "negativeTtlMaxS");
    this.#state = new Uint8Array(q);
    this.#gen = new Uint16Array(q);
    this.#id = new Uint16Array(q);
    this.#sock = new Int16Array(q).fill(-1);
    this.#attempt = new Uint8Array(q);
    this.#asked = new Uint8Array(q);
    this.#hops = new Uint8Array(q);
    this.#ttl = new Uint32Array(q);
    this.#result = new Uint32Array(q);
    this.#ok = new Uint8Array(q);
    this.#name = new Uint8Array(q * (DNS_NAME_MAX + 1));
    this.#nameLen = new Uint16Array(q);
    this.#key = new Uint8Array(q * (DNS_NAME_MAX + 1));
    this.#keyLen = new Uint16Array(q);
    this.#query = new Uint8Array(q * QUERY_MAX);
    this.#queryLen = new Uint16Array(q);
    this.#onResolved = new Array<Resolved | null>(q).fill(null);
    this.#onError = new Array<Failed | null>(q).fill(null);
    this.#cName = new Uint8Array(c * (DNS_NAME_MAX + 1));
    this.#cNameLen = new Uint16Array(c);
    this.#cAddr = new Uint32Array(c);
    this.#cErr = new Uint8Array(c);
    this.#cExpires = new Float64Array(c);
    this.#cBorn = new Float64Array(c);
    this.#owners = [];
    for (let i = 0; i < q; i++) this.#owners.push(new SlotOwner(this, i));
    this.#timers = [];
    // One timer per slot, its callback made once here.
    // The slot's timer: give a known answer, send what the receive path left to send, or no
    // answer came in time. Written here, not as a method: one frame less under the sends.
    const onTimer = (slot: number): void => {
      const state = this.#state[slot];
      if (state === DELIVER) {
        this.#finish(slot, this.#ok[slot], this.#result[slot]);
      } else if (state === QUERY) {
        if (this.#attempt[slot] > this.retries) {
          this.stats.timeouts++;
          this.#finish(slot, 0, DNS_ERR_TIMEOUT);
        } else {
          if (this.#attempt[slot] > 0) this.stats.retransmits++;
          this.#send(slot);
        }
      }
    };
    try {
      for (let i = 0; i < q; i++) this.#timers.push(net.timers.create(onTimer, i));
    } catch {
      throw new RangeError(`DnsResolver: config.timersMax is too small for queriesMax ${q} (one timer per pending query)`);
    }
    if (options.servers !== undefined) this.setServers(options.servers);
    if (options.install !== false) net.hostResolver = this;
  }

  /** The servers asked, in order (DHCP's lease, or the app's). Pending queries go on with the new list. */
  setServers(servers: readonly number[]): void {
    if (!Array.isArray(servers)) throw new TypeError("DnsResolver.setServers: servers must be an array of IPv4 addresses (uint32)");
    if (servers.length > DNS_SERVERS_MAX) throw new RangeError(`DnsResolver.setServers: at most ${DNS_SERVERS_MAX} servers, got ${servers.length}`);
    for (const s of servers) {
      if (typeof s !== "number" || !Number.isInteger(s) || s <= 0 || s > 0xffffffff) throw new TypeError(`DnsResolver.setServers: ${String(s)} is not an IPv4 address (uint32)`);
    }
    const old = this.#servers.slice(0, this.#serverCount);
    for (let i = 0; i < servers.length; i++) this.#servers[i] = servers[i];
    this.#serverCount = servers.length;
    // A query in flight stays answerable by a server it asked that is still on the list (a
    // DHCP lease often names the same one): its bit moves to that server's new index.
    const asked = this.#asked;
    for (let q = 0; q < asked.length; q++) {
      const was = asked[q];
      let now = 0;
      for (let i = 0; i < old.length && was !== 0; i++) {
        if ((was & (1 << i)) === 0) continue;
        for (let j = 0; j < servers.length; j++) if (servers[j] === old[i]) now |= 1 << j;
      }
      asked[q] = now;
    }
  }

  /** The servers, as setServers took them. */
  get servers(): number[] {
    return Array.from(this.#servers.subarray(0, this.#serverCount));
  }

  /**
   * Resolve `host` (a name, or a dotted IPv4 address given back as it is) to an IPv4 address.
   * One callback runs, later: onResolved(addr, ttlS) or onError(DNS_ERR_...). Returns a handle
   * for cancel(). Throws a TypeError or RangeError for a name that is not one (an empty
   * label, a label over 63 bytes, over 253 characters) and a RangeError when queriesMax names
   * are pending.
   */
  resolve(host: string, onResolved: Resolved, onError: Failed): number {
    if (this.#closed) throw new Error("DnsResolver: closed");
    if (typeof onResolved !== "function" || typeof onError !== "function") throw new TypeError("DnsResolver.resolve: onResolved and onError must be functions");
    if (typeof host !== "string") throw new TypeError(`DnsResolver.resolve: host must be a string, got ${typeof host}`);
    const s = this.#freeSlot();
    if (s < 0) {
      this.stats.pendingFull++;
      throw new RangeError(`DnsResolver.resolve: ${this.queriesMax} names are already being resolved (queriesMax)`);
    }
    this.stats.requests++;
    const addr = host === "localhost" ? 0x7f000001 : ipv4FromText(host);
    if (addr >= 0) return this.#deliverLater(s, onResolved, onError, 1, addr, 0);
    checkHostName(host);
    const base = s * (DNS_NAME_MAX + 1);
    const len = dnsWriteName(this.#key, base, host) - base;
    for (let i = base; i < base + len; i++) this.#key[i] = lowerByte(this.#key[i]);
    this.#keyLen[s] = len;
    const hit = this.#cacheFind(this.#key, base, len);
    if (hit >= 0) {
      this.stats.cacheHits++;
      const left = Math.ceil((this.#cExpires[hit] - this.net.now()) / 1000);
      return this.#cErr[hit] === 0 ? this.#deliverLater(s, onResolved, onError, 1, this.#cAddr[hit], left) : this.#deliverLater(s, onResolved, onError, 0, this.#cErr[hit], 0);
    }
    this.stats.cacheMisses++;
    if (this.#serverCount === 0) return this.#deliverLater(s, onResolved, onError, 0, DNS_ERR_NO_SERVERS, 0);
    const sock = this.net.udp.bind(0, this.#randomPort(), this.#owners[s], false);
    this.#sock[s] = sock;
    for (let i = 0; i < len; i++) this.#name[base + i] = this.#key[base + i];
    this.#nameLen[s] = len;
    this.#hops[s] = 0;
    this.#ttl[s] = this.ttlMaxS;
    this.#onResolved[s] = onResolved;
    this.#onError[s] = onError;
    this.#state[s] = QUERY;
    this.#startName(s, true);
    return this.#handle(s);
  }

  /** No callback for this request any more (a handle from resolve). */
  cancel(handle: number): void {
    const s = handle & 0xff;
    if (s < this.queriesMax && this.#state[s] !== FREE && this.#handle(s) === handle) this.#free(s);
  }

  /** HostResolver (the TCP socket's `host` option): onError gets the reason as text. */
  resolveHost(host: string, onResolved: (addr: number) => void, onError: (reason: string) => void): number {
    return this.resolve(host, (addr) => onResolved(addr), (code) => onError(`${host}: ${dnsErrorText(code)}`));
  }

  cancelHost(handle: number): void {
    this.cancel(handle);
  }

  /** Names pending now. */
  get pending(): number {
    let n = 0;
    for (let s = 0; s < this.queriesMax; s++) if (this.#state[s] !== FREE) n++;
    return n;
  }

  /** Forget every cached answer. */
  flushCache(): void {
    this.#cExpires.fill(0);
    this.#cNameLen.fill(0);
  }

  /** Unbind every socket, cancel every timer; no callback runs after this. */
  close(): void {
    if (this.#closed) return;
    // Every request still waiting hears that it will not be answered (a TCP socket resolving
    // its host then reports onError rather than waiting for ever).
    this.#closed = true;
    if (this.net.hostResolver === this) this.net.hostResolver = undefined;
    for (let s = 0; s < this.queriesMax; s++) {
      if (this.#state[s] === FREE) continue;
      const onError = this.#onError[s];
      this.#free(s);
      if (onError !== null) onError(DNS_ERR_CLOSED);
    }
  }

  #freeSlot(): number {
    for (let s = 0; s < this.queriesMax; s++) if (this.#state[s] === FREE) return s;
    return -1;
  }

  #handle(s: number): number {
    return (this.#gen[s] << 8) | s;
  }

  #deliverLater(s: number, onResolved: Resolved, onError: Failed, ok: number, value: number, ttlS: number): number {
    this.#onResolved[s] = onResolved;
    this.#onError[s] = onError;
    this.#ok[s] = ok;
    this.#result[s] = value;
    this.#ttl[s] = ttlS;
    this.#state[s] = DELIVER;
    this.net.modTimer(this.#timers[s], this.net.now());
    return this.#handle(s);
  }

  /** RFC 5452 9.2: a source port drawn at random from the dynamic range; 0 (UDP's choice) when unlucky. */
  #randomPort(): number {
    const udp = this.net.udp;
    for (let tries = 0; tries < PORT_TRIES; tries++) {
      const port = PORT_FIRST + (this.net.platform.random32() % PORT_COUNT);
      let taken = false;
      for (let i = 0; i < udp.size; i++) if (udp.inUse[i] !== 0 && udp.localPort[i] === port) taken = true;
      if (!taken) return port;
      this.stats.portRetries++;
    }
    return 0;
  }

  /**
   * A new name for slot s (the first, or a CNAME's target): a new ID, server 0 first. Sent
   * now from resolve(); from the receive path, at the slot's timer (a send from inside the
   * receive path would stack the whole transmit path on top of it).
   */
  #startName(s: number, now: boolean): void {
    this.#id[s] = this.net.platform.random32() & 0xffff;
    this.#attempt[s] = 0;
    this.#asked[s] = 0;
    // The query, built once for every server and retransmission.
    const q = this.#query;
    const at = s * QUERY_MAX;
    let o = dnsBuildHeader(q, at, this.#id[s], DNS_RD, 1, 0, 0, 0);
    const base = s * (DNS_NAME_MAX + 1);
    const len = this.#nameLen[s];
    for (let i = 0; i < len; i++) q[o + i] = this.#name[base + i];
    o = dnsWriteQuestionTail(q, o + len, DNS_TYPE_A, DNS_CLASS_IN);
    this.#queryLen[s] = o - at;
    if (now) this.#send(s);
    else this.net.modTimer(this.#timers[s], this.net.now());
  }

  /** Send slot s's query to the next server in turn and wait: timeoutMs, doubled per round (RFC 1035 4.2.1). */
  #send(s: number): void {
    const n = this.#serverCount;
    if (n === 0) {
      this.#deliver(s, 0, DNS_ERR_NO_SERVERS);
      return;
    }
    const attempt = this.#attempt[s]++;
    this.#asked[s] |= 1 << attempt % n;
    this.stats.sent++;
    if (this.net.udp.sendto(this.#sock[s], this.#query, s * QUERY_MAX, this.#queryLen[s], this.#servers[attempt % n], DNS_PORT, IP_TTL) !== 0) this.stats.sendErrors++;
    this.net.modTimer(this.#timers[s], this.net.now() + waitMs(this.timeoutMs, attempt, n));
  }

  /** Datagrams on slot s's socket (UDP's tasklet): each checked, at most what waits now. */
  receive(s: number): void {
    const sock = this.#sock[s];
    const udp = this.net.udp;
    for (let budget = udp.queue[sock].qlen; budget > 0; budget--) {
      if (this.#state[s] !== QUERY || this.#sock[s] !== sock) return;
      const len = udp.peekLength(sock);
      if (len < 0) return;
      this.stats.received++;
      if (len > MSG_MAX) {
        udp.recv(sock, null, 0, this.#from);
        this.#drop(DROP_TOO_BIG);
        continue;
      }
      udp.recv(sock, this.#rx, 0, this.#from);
      const why = this.#check(s, len);
      if (why !== 0) {
        this.#drop(why);
      } else {
        this.stats.accepted++;
        this.#answer(s, len);
      }
    }
  }

  /**
   * The gate (RFC 5452 9.1, RFC 1035 7.3): from a server asked, to our ID, a response to our
   * question, and every question and record within the message with names that are names.
   * Returns 0 or a DROP_ code.
   */
  #check(s: number, len: number): number {
    const b = this.#rx;
    const from = this.#from;
    if (from[1] !== DNS_PORT || !this.#askedFrom(s, from[0])) return DROP_WRONG_SOURCE;
    if (len < DNS_HLEN) return DROP_SHORT;
    if (dnsId(b, 0) !== this.#id[s]) return DROP_WRONG_ID;
    const flags = dnsFlags(b, 0);
    if ((flags & DNS_QR) === 0 || (flags & DNS_OPCODE_MASK) !== 0) return DROP_NOT_RESPONSE;
    if (dnsQdCount(b, 0) !== 1) return DROP_WRONG_QUESTION;
    const qEnd = dnsSkipName(b, 0, len, DNS_HLEN);
    if (qEnd < 0) return DROP_BAD_NAME;
    if (qEnd + 4 > len) return DROP_BEYOND;
    // Our name beside the answer, so the two compare in place.
    const base = s * (DNS_NAME_MAX + 1);
    const nameLen = this.#nameLen[s];
    for (let i = 0; i < nameLen; i++) b[QNAME_AT + i] = this.#name[base + i];
    if (!dnsNamesEqual(b, 0, DNS_HLEN, QNAME_AT) || read16(b, qEnd) !== DNS_TYPE_A || read16(b, qEnd + 2) !== DNS_CLASS_IN) return DROP_WRONG_QUESTION;
    // Every record within the message (counts that do not match it are a forgery or a fault).
    let at = qEnd + 4;
    const records = dnsAnCount(b, 0) + dnsNsCount(b, 0) + dnsArCount(b, 0);
    const rec = this.#rec;
    for (let r = 0; r < records; r++) {
      if (at >= len) return DROP_BEYOND;
      const rc = dnsReadRecordIn(b, len, at, rec);
      if (rc !== WIRE_OK) return rc === DNS_BAD_NAME ? DROP_BAD_NAME : DROP_BEYOND;
      // A name in the rdata the answer is read for: within its rdata.
      if ((rec.type === DNS_TYPE_CNAME || rec.type === DNS_TYPE_SOA) && dnsSkipName(b, 0, rec.rdataAt + rec.rdLength, rec.rdataAt) < 0) return DROP_BAD_NAME;
      at = rec.next;
    }
    return 0;
  }

  #askedFrom(s: number, addr: number): boolean {
    const asked = this.#asked[s];
    for (let i = 0; i < this.#serverCount; i++) if ((asked & (1 << i)) !== 0 && this.#servers[i] === addr) return true;
    return false;
  }

  /** A checked answer to slot s: what it says. */
  #answer(s: number, len: number): void {
    const b = this.#rx;
    const st = this.stats;
    const flags = dnsFlags(b, 0);
    if ((flags & DNS_TC) !== 0) {
      // RFC 1035 4.2.1 would retry over TCP; not implemented: say so.
      st.truncated++;
      this.#deliver(s, 0, DNS_ERR_TRUNCATED);
      return;
    }
    const rcode = flags & DNS_RCODE_MASK;
    const anAt = dnsSkipName(b, 0, len, DNS_HLEN) + 4;
    const an = dnsAnCount(b, 0);
    if (rcode === DNS_RCODE_NXDOMAIN) {
      st.nxdomain++;
      this.#negative(s, len, anAt, an, DNS_ERR_NXDOMAIN);
      return;
    }
    if (rcode !== DNS_RCODE_NOERROR) {
      // RFC 1035 7.3: a server failing is a reason to ask the next one.
      st.serverFailures++;
      if (this.#attempt[s] > this.retries) this.#deliver(s, 0, DNS_ERR_SERVER);
      else this.net.modTimer(this.#timers[s], this.net.now()); // the next server, at the timer
      return;
    }
    // Follow the chain from the question's name (RFC 1034 5.3.3), the records in any order.
    const rec = this.#rec;
    let name = DNS_HLEN;
    let ttl = this.#ttl[s];
    for (;;) {
      let cname = -1;
      let at = anAt;
      for (let r = 0; r < an; r++) {
        dnsReadRecordIn(b, len, at, rec);
        at = rec.next;
        if (rec.klass !== DNS_CLASS_IN || !dnsNamesEqual(b, 0, rec.nameAt, name)) continue;
        if (rec.type === DNS_TYPE_A && rec.rdLength === 4) {
          const addr = read32(b, rec.rdataAt);
          if (rec.ttl < ttl) ttl = rec.ttl;
          this.#cacheStore(s, addr, 0, ttl);
          this.#ttl[s] = ttl;
          this.#deliver(s, 1, addr);
          return;
        }
        if (rec.type === DNS_TYPE_CNAME && cname < 0) {
          cname = rec.rdataAt;
          if (rec.ttl < ttl) ttl = rec.ttl;
        }
      }
      if (cname < 0) break;
      if (this.#hops[s] >= DNS_CNAME_MAX) {
        st.cnameChainTooLong++;
        this.#deliver(s, 0, DNS_ERR_CNAME_CHAIN);
        return;
      }
      this.#hops[s]++;
      st.cnamesFollowed++;
      name = cname;
    }
    this.#ttl[s] = ttl;
    if (name === DNS_HLEN) {
      st.nodata++;
      this.#negative(s, len, anAt, an, DNS_ERR_NODATA);
      return;
    }
    // The chain ends at a name the answer has no record for: ask for it.
    st.requeries++;
    const base = s * (DNS_NAME_MAX + 1);
    this.#nameLen[s] = dnsCopyName(b, 0, name, this.#name, base);
    this.#startName(s, false);
  }

  /** NXDOMAIN or NODATA: cached for the SOA's time (RFC 2308 5), or not at all without one. */
  #negative(s: number, len: number, anAt: number, an: number, code: number): void {
    const b = this.#rx;
    const rec = this.#rec;
    let at = anAt;
    for (let r = 0; r < an; r++) {
      dnsReadRecordIn(b, len, at, rec);
      at = rec.next;
    }
    const ns = dnsNsCount(b, 0);
    for (let r = 0; r < ns; r++) {
      dnsReadRecordIn(b, len, at, rec);
      at = rec.next;
      if (rec.type !== DNS_TYPE_SOA) continue;
      // SOA rdata: MNAME, RNAME, SERIAL, REFRESH, RETRY, EXPIRE, MINIMUM (RFC 1035 3.3.13)
      const rdEnd = rec.rdataAt + rec.rdLength;
      const afterMname = dnsSkipName(b, 0, rdEnd, rec.rdataAt);
      const afterRname = afterMname < 0 ? -1 : dnsSkipName(b, 0, rdEnd, afterMname);
      if (afterRname < 0 || afterRname + 20 > rdEnd) continue;
      const minimum = read32(b, afterRname + 16);
      let ttl = rec.ttl < minimum ? rec.ttl : minimum;
      if (ttl > this.negativeTtlMaxS) ttl = this.negativeTtlMaxS;
      if (ttl > 0) {
        this.stats.negativeCached++;
        this.#cacheStore(s, 0, code, ttl);
      }
      break;
    }
    this.#deliver(s, 0, code);
  }

  /**
   * The answer is known on the receive path: the socket goes now, the app hears at the slot's
   * timer, so its callback (which may connect a TCP socket) runs on a shallow stack.
   */
  #deliver(s: number, ok: number, value: number): void {
    if (this.#sock[s] >= 0) this.net.udp.unbind(this.#sock[s]);
    this.#sock[s] = -1;
    this.#ok[s] = ok;
    this.#result[s] = value;
    this.#state[s] = DELIVER;
    this.net.modTimer(this.#timers[s], this.net.now());
  }

  /** Slot s is done: freed first (a callback may resolve again), then told. */
  #finish(s: number, ok: number, value: number): void {
    const onResolved = this.#onResolved[s];
    const onError = this.#onError[s];
    const ttl = this.#ttl[s];
    this.#free(s);
    if (ok !== 0) {
      this.stats.resolved++;
      if (onResolved !== null) onResolved(value, ttl);
    } else {
      this.stats.failed++;
      if (onError !== null) onError(value);
    }
  }

  #free(s: number): void {
    this.net.delTimer(this.#timers[s]);
    if (this.#sock[s] >= 0) this.net.udp.unbind(this.#sock[s]);
    this.#sock[s] = -1;
    this.#state[s] = FREE;
    this.#onResolved[s] = null;
    this.#onError[s] = null;
    this.#gen[s] = (this.#gen[s] + 1) & 0x7fff;
  }

  #drop(why: number): void {
    const st = this.stats;
    st.dropped++;
    if (why === DROP_WRONG_SOURCE) st.wrongSource++;
    else if (why === DROP_SHORT) st.shortHeader++;
    else if (why === DROP_WRONG_ID) st.wrongId++;
    else if (why === DROP_NOT_RESPONSE) st.notResponse++;
    else if (why === DROP_WRONG_QUESTION) st.wrongQuestion++;
    else if (why === DROP_BAD_NAME) st.badName++;
    else if (why === DROP_BEYOND) st.recordBeyond++;
    else st.tooBig++;
  }

  #cacheFind(name: Uint8Array, o: number, len: number): number {
    const now = this.net.now();
    for (let e = 0; e < this.cacheEntries; e++) {
      if (this.#cNameLen[e] !== len || this.#cExpires[e] <= now) continue;
      const base = e * (DNS_NAME_MAX + 1);
      let i = 0;
      while (i < len && this.#cName[base + i] === name[o + i]) i++;
      if (i === len) return e;
    }
    return -1;
  }

  /** Keep slot s's answer under the name the app asked, for ttlS (capped); TTL 0 is not kept (RFC 1035 3.2.1). */
  #cacheStore(s: number, addr: number, err: number, ttlS: number): void {
    if (this.cacheEntries === 0) return;
    const cap = err === 0 ? this.ttlMaxS : this.negativeTtlMaxS;
    if (ttlS > cap) ttlS = cap;
    if (ttlS <= 0) return;
    const now = this.net.now();
    const kBase = s * (DNS_NAME_MAX + 1);
    const len = this.#keyLen[s];
    let e = this.#cacheFind(this.#key, kBase, len);
    if (e < 0) {
      // A free or stale entry, else the oldest.
      let oldest = 0;
      for (let i = 0; i < this.cacheEntries && e < 0; i++) {
        if (this.#cNameLen[i] === 0 || this.#cExpires[i] <= now) e = i;
        else if (this.#cBorn[i] < this.#cBorn[oldest]) oldest = i;
      }
      if (e < 0) {
        e = oldest;
        this.stats.cacheEvictions++;
      }
    }
    const base = e * (DNS_NAME_MAX + 1);
    for (let i = 0; i < len; i++) this.#cName[base + i] = this.#key[kBase + i];
    this.#cNameLen[e] = len;
    this.#cAddr[e] = addr;
    this.#cErr[e] = err;
    this.#cExpires[e] = now + ttlS * 1000;
    this.#cBorn[e] = ++this.#cSeq;
  }
}

const DROP_WRONG_SOURCE = 1;
const DROP_SHORT = 2;
const DROP_WRONG_ID = 3;
const DROP_NOT_RESPONSE = 4;
const DROP_WRONG_QUESTION = 5;
const DROP_BAD_NAME = 6;
const DROP_BEYOND = 7;
const DROP_TOO_BIG = 8;

/** dnsReadRecord of wire/dns.ts, the message at 0. */
function dnsReadRecordIn(b: Uint8Array, len: number, at: number, rec: DnsRecord): number {
  return dnsReadRecord(b, 0, len, at, rec);
}

function lowerByte(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

/** A host name the resolver can ask for, or a TypeError/RangeError saying what is wrong with it. */
function checkHostName(host: string): void {
  const n = host.length > 0 && host.charCodeAt(host.length - 1) === 0x2e ? host.length - 1 : host.length;
  if (n === 0) throw new TypeError("DnsResolver.resolve: host is empty");
  if (n > 253) throw new RangeError(`DnsResolver.resolve: host is ${n} characters, over 253 (RFC 1035 2.3.4)`);
  let label = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? host.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (label === 0) throw new TypeError(`DnsResolver.resolve: "${host}" has an empty label`);
      label = 0;
    } else if (c < 0x21 || c > 0x7e) {
      throw new TypeError(`DnsResolver.resolve: "${host}" has a character that is not printable ASCII (at ${i})`);
    } else if (++label > DNS_LABEL_MAX) {
      throw new RangeError(`DnsResolver.resolve: "${host}" has a label over ${DNS_LABEL_MAX} bytes`);
    }
  }
}

/** The wait after query `attempt` of n servers: timeoutMs, doubled each round, at most 2^BACKOFF_SHIFT_MAX times. */
function waitMs(timeoutMs: number, attempt: number, n: number): number {
  const round = Math.floor(attempt / n);
  return timeoutMs * (1 << (round < BACKOFF_SHIFT_MAX ? round : BACKOFF_SHIFT_MAX));
}

function intOption(v: number | undefined, dflt: number, min: number, max: number, name: string): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw new RangeError(`DnsResolver: ${name} must be an integer in ${min}..${max}, got ${String(v)}`);
  return v;
}
