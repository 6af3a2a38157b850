// mDNS responder and DNS-SD (RFC 6762, RFC 6763) for one device: HOSTNAME.local's A record
// and each service's PTR, SRV and TXT records, probed and announced at start, defended,
// renamed on a conflict, withdrawn with goodbye packets on close. Tables, names and both
// packet buffers are made in the constructor; receive and timers allocate nothing.
//
//   udpRcv -> UDP tasklet -> MdnsResponder.onDatagrams (checks, then sends what was decided)
//     -> #query: answers (multicast now or 20-120 ms later, QU unicast, legacy unicast)
//     -> #response: conflicts with our unique records -> #rename
//   #stateTimer: random wait -> 3 probes 250 ms apart -> 2 announcements 1 s apart
//   #replyTimer: the delayed multicast answer (shared records)

import type { Net } from "../core/net";
import type { NetDevice } from "../core/netdevice";
import type { Timer } from "../core/timer";
import { ipMcJoin, ipMcLeave } from "../ipv4/devinet";
import type { UdpOwner } from "../udp/udp";
import { WIRE_OK, read16, read32, write16, write32 } from "../wire/bytes";
import {
  DNS_AA, DNS_CLASS_IN, DNS_CLASS_MDNS_BIT, DNS_HLEN, DNS_OPCODE_MASK, DNS_QR, DNS_RCODE_MASK, DNS_TYPE_A, DNS_TYPE_ANY,
  DNS_TYPE_PTR, DNS_TYPE_SRV, DNS_TYPE_TXT, DnsRecord, MDNS_GROUP, MDNS_PORT, dnsAnCount, dnsArCount, dnsBuildHeader,
  dnsCheckLen, dnsFlags, dnsId, dnsNameIsWire, dnsNsCount, dnsQdCount, dnsReadRecord, dnsSkipName, dnsSkipQuestion,
  dnsWireNameLength, dnsWriteLabel, dnsWriteName, dnsWriteQuestionTail, dnsWriteRecordTail,
} from "../wire/dns";
import { parseIpv4 } from "../wire/ipv4";

/** RFC 6762 10: records with a host name in them live 120 s, the others 75 minutes. */
export const MDNS_TTL_HOST_S = 120;
export const MDNS_TTL_OTHER_S = 4500;
/** RFC 6762 6.7: the TTL of a legacy unicast answer at most */
export const MDNS_LEGACY_TTL_MAX_S = 10;
/** RFC 6762 11: everything sent with IP TTL 255 */
const MDNS_IP_TTL = 255;
const PROBE_WAIT_MS = 250;
const PROBE_INTERVAL_MS = 250;
const PROBES = 3;
const ANNOUNCE_INTERVAL_MS = 1000;
const ANNOUNCEMENTS = 2;
/** RFC 6762 6: a record multicast at most once a second, 250 ms when it defends against a probe */
const RATE_MS = 1000;
const RATE_PROBE_MS = 250;
/** RFC 6762 8.1: 15 conflicts within 10 s, then wait 5 s before the next probe */
const CONFLICTS_MAX = 15;
const CONFLICT_WINDOW_MS = 10_000;
const CONFLICT_BACKOFF_MS = 5000;
/** RFC 6762 8.2: a host that loses a probe tie-break waits 1 s, then probes again */
const TIE_BREAK_WAIT_MS = 1000;

const STATE_IDLE = 0; // no address yet
const STATE_WAIT = 1; // the random wait before the first probe, or a tie-break's second
const STATE_PROBING = 2;
const STATE_ANNOUNCING = 3;
const STATE_ANNOUNCED = 4;
const STATE_CLOSED = 5;
const STATE_NAMES = Object.freeze(["idle", "wait", "probing", "announcing", "announced", "closed"]);

// recMark bits: how the record goes out in the packet being built, or later
const MARK_MCAST = 1;
const MARK_UCAST = 2;
const MARK_ADDITIONAL = 4;

// name slots
const NAME_HOST = 0;
const NAME_SERVICES = 1; // _services._dns-sd._udp.local (RFC 6763 9)
const nameType = (s: number): number => 2 + 2 * s;
const nameInst = (s: number): number => 3 + 2 * s;
// records: the A record, then four a service
const REC_A = 0;
const recEnum = (s: number): number => 1 + 4 * s; // PTR _services -> type
const recPtr = (s: number): number => 2 + 4 * s; // PTR type -> instance
const recSrv = (s: number): number => 3 + 4 * s;
const recTxt = (s: number): number => 4 + 4 * s;

export interface MdnsService {
  /** "_http._tcp": the service type and protocol (RFC 6763 7) */
  type: string;
  port: number;
  /** the TXT record's strings, "key=value" (RFC 6763 6); none gives the one empty string */
  txt?: string[];
  /** the instance name's label (default: the host name) */
  name?: string;
}

export interface MdnsOptions {
  /** the host name's label: "xsnet" answers for xsnet.local */
  hostname: string;
  services?: MdnsService[];
  /** the largest mDNS message received (default 1500; longer ones are counted and dropped) */
  rxBytesMax?: number;
}

/** What the responder did and what it dropped; every drop has its counter. */
export class MdnsStats {
  received = 0;
  queries = 0;
  responses = 0;
  /** longer than the receive buffer */
  tooLong = 0;
  /** shorter than a header, or a question or record that is not one */
  malformed = 0;
  /** opcode or rcode not 0 (RFC 6762 18.3, 18.11) */
  ignored = 0;
  /** our own multicast heard back */
  fromSelf = 0;
  /** from a source not on the local link (RFC 6762 11) */
  offLink = 0;
  legacyQueries = 0;
  /** answers sent, by packet */
  multicastAnswers = 0;
  unicastAnswers = 0;
  legacyAnswers = 0;
  /** records left out: the asker has them (RFC 6762 7.1) */
  knownAnswerSuppressed = 0;
  /** records not multicast again within the rate limit (RFC 6762 6) */
  rateLimited = 0;
  /** records that did not fit in one packet */
  truncated = 0;
  probesSent = 0;
  announcementsSent = 0;
  goodbyesSent = 0;
  conflicts = 0;
  renames = 0;
  tieBreaksLost = 0;
  /** packets the stack refused (no buffer, no route) */
  sendErrors = 0;
}

export class MdnsResponder implements UdpOwner {
  readonly stats = new MdnsStats();
  readonly #net: Net;
  readonly #dev: NetDevice;
  #sock: number;
  #state = STATE_IDLE;
  #probesSent = 0;
  #announcementsSent = 0;
  readonly #stateTimer: Timer;
  readonly #replyTimer: Timer;
  // names, uncompressed wire form, rewritten in place on a rename
  readonly #names: Uint8Array[];
  readonly #hostBase: string;
  readonly #instBase: string[];
  /** rename serials: 1 is the name as given, then -2, -3 (RFC 6762 9) */
  readonly #serial: Uint16Array;
  readonly #conflictAt: Float64Array;
  #conflictNext = 0;
  // records
  readonly #services: number;
  readonly #recName: Uint8Array;
  readonly #recType: Uint16Array;
  readonly #recTtl: Uint32Array;
  readonly #recUnique: Uint8Array;
  readonly #recLastMcast: Float64Array;
  readonly #recMark: Uint8Array;
  readonly #recPending: Uint8Array;
  readonly #port: Uint16Array;
  readonly #txt: Uint8Array[];
  // per-packet scratch
  readonly #rx: Uint8Array;
  readonly #tx: Uint8Array;
  readonly #from = new Uint32Array(2);
  readonly #rr = new DnsRecord();
  /** per name group (host, each instance): a conflict or a lost tie-break seen in this packet */
  readonly #groupFlag: Uint8Array;
  #an = 0;
  #ar = 0;
  // what #query decided to send: the packets are built and sent from onDatagrams, so that
  // the parse's frames are off the XS stack when the send goes down to the driver
  #replyLegacyQd = -1;
  #replyId = 0;
  #replyQuestionsEnd = 0;
  #replyUcast = false;
  #replyMcast = false;
  /** a conflict or a lost tie-break: probe again after this wait (-1: no) */
  #restartWaitMs = -1;
  /** shared records wait for the reply timer: when it should fire (-1: no change) */
  #replyDue = -1;

  constructor(net: Net, dev: NetDevice, options: MdnsOptions) {
    const host = options.hostname;
    if (typeof host !== "string" || !/^[A-Za-z0-9]([A-Za-z0-9-]{0,55}[A-Za-z0-9])?$/.test(host)) {
      throw new TypeError(`mDNS: hostname '${host}' is not a host name label (letters, digits, hyphens, 1 to 57)`);
    }
    const services = options.services ?? [];
    const S = (this.#services = services.length);
    this.#net = net;
    this.#dev = dev;
    this.#hostBase = host;
    this.#names = [new Uint8Array(64 + 7), new Uint8Array(0)];
    this.#instBase = [];
    this.#txt = [];
    this.#port = new Uint16Array(S);
    const scratch = new Uint8Array(256);
    const encode = (name: string): Uint8Array => {
      const end = dnsWriteName(scratch, 0, name);
      if (end < 0) throw new TypeError(`mDNS: '${name}' is not a DNS name`);
      return scratch.slice(0, end);
    };
    this.#names[NAME_SERVICES] = encode("_services._dns-sd._udp.local");
    for (let s = 0; s < S; s++) {
      const svc = services[s];
      if (typeof svc.type !== "string" || !/^_[A-Za-z0-9-]{1,15}\._(tcp|udp)$/.test(svc.type)) {
        throw new TypeError(`mDNS: service type '${svc.type}' is not _name._tcp or _name._udp (RFC 6763 7)`);
      }
      for (let k = 0; k < s; k++) if (services[k].type.toLowerCase() === svc.type.toLowerCase()) throw new TypeError(`mDNS: service type ${svc.type} given twice`);
      if (!Number.isInteger(svc.port) || svc.port < 1 || svc.port > 65535) throw new RangeError(`mDNS: service ${svc.type}: port ${svc.port} is not 1..65535`);
      const type = encode(`${svc.type}.local`);
      const inst = svc.name ?? host;
      if (dnsWriteLabel(scratch, 0, inst) < 0 || inst.length > 57) throw new TypeError(`mDNS: instance name '${inst}' is not 1 to 57 printable ASCII characters`);
      this.#names.push(type, new Uint8Array(64 + type.length));
      this.#instBase.push(inst);
      this.#port[s] = svc.port;
      this.#txt.push(txtBytes(svc));
    }
    this.#serial = new Uint16Array(1 + S).fill(1);
    this.#groupFlag = new Uint8Array(1 + S);
    this.#conflictAt = new Float64Array(CONFLICTS_MAX).fill(-Infinity);
    for (let g = 0; g <= S; g++) this.#writeGroupName(g);
    const R = 1 + 4 * S;
    this.#recName = new Uint8Array(R);
    this.#recType = new Uint16Array(R);
    this.#recTtl = new Uint32Array(R);
    this.#recUnique = new Uint8Array(R);
    this.#recLastMcast = new Float64Array(R).fill(-Infinity);
    this.#recMark = new Uint8Array(R);
    this.#recPending = new Uint8Array(R);
    this.#setRecord(REC_A, NAME_HOST, DNS_TYPE_A, MDNS_TTL_HOST_S, true);
    for (let s = 0; s < S; s++) {
      this.#setRecord(recEnum(s), NAME_SERVICES, DNS_TYPE_PTR, MDNS_TTL_OTHER_S, false);
      this.#setRecord(recPtr(s), nameType(s), DNS_TYPE_PTR, MDNS_TTL_OTHER_S, false);
      this.#setRecord(recSrv(s), nameInst(s), DNS_TYPE_SRV, MDNS_TTL_HOST_S, true);
      this.#setRecord(recTxt(s), nameInst(s), DNS_TYPE_TXT, MDNS_TTL_OTHER_S, true);
    }
    const rxMax = options.rxBytesMax ?? 1500;
    if (!Number.isInteger(rxMax) || rxMax < DNS_HLEN || rxMax > 9000) throw new RangeError(`mDNS: rxBytesMax ${rxMax} is not ${DNS_HLEN}..9000`);
    this.#rx = new Uint8Array(rxMax);
    // one Ethernet frame's UDP payload (RFC 6762 17: no fragments from us)
    this.#tx = new Uint8Array(Math.max(512, dev.mtu - 28));
    // Timers first (they throw naming config.timersMax), then the socket, then the group.
    this.#stateTimer = net.timers.create(() => this.#onStateTimer());
    this.#replyTimer = net.timers.create(() => this.#onReplyTimer());
    this.#sock = net.udp.bind(0, MDNS_PORT, this, true);
    net.udp.bindToDevice(this.#sock, dev);
    ipMcJoin(dev, MDNS_GROUP);
    if (dev.inDev.addr !== 0) this.#startProbing(PROBE_WAIT_MS);
  }

  /** The host name now claimed ("xsnet", or "xsnet-2" after a conflict). */
  get hostname(): string {
    return labelString(this.#names[NAME_HOST]);
  }

  /** The instance name of service s now claimed. */
  instanceName(s: number): string {
    if (!(s >= 0 && s < this.#services)) throw new RangeError(`mDNS: no service ${s}`);
    return labelString(this.#names[nameInst(s)]);
  }

  /** "idle" (no address), "wait", "probing", "announcing", "announced" or "closed". */
  get state(): string {
    return STATE_NAMES[this.#state];
  }

  /**
   * The device's address changed (the DHCP client calls this): probe when there was none,
   * announce again when the records were out (RFC 6762 8.4), stop when it is gone.
   */
  addressChanged(): void {
    const st = this.#state;
    if (st === STATE_CLOSED) return;
    if (this.#dev.inDev.addr === 0) {
      this.#net.delTimer(this.#stateTimer);
      this.#net.delTimer(this.#replyTimer);
      this.#recPending.fill(0);
      this.#state = STATE_IDLE;
      return;
    }
    if (st === STATE_ANNOUNCING || st === STATE_ANNOUNCED) {
      this.#state = STATE_ANNOUNCING;
      this.#announcementsSent = 0;
      this.#net.modTimer(this.#stateTimer, this.#net.now());
    } else {
      this.#startProbing(PROBE_WAIT_MS);
    }
  }

  /** Goodbye packets (RFC 6762 10.1) when the records were out; the socket, timers and group go. */
  close(): void {
    if (this.#state === STATE_CLOSED) return;
    if ((this.#state === STATE_ANNOUNCING || this.#state === STATE_ANNOUNCED) && this.#dev.inDev.addr !== 0) {
      this.#sendTx(this.#buildAll(true), MDNS_GROUP_ADDR, MDNS_PORT);
      this.stats.goodbyesSent++;
    }
    this.#state = STATE_CLOSED;
    this.#net.delTimer(this.#stateTimer);
    this.#net.delTimer(this.#replyTimer);
    this.#net.udp.unbind(this.#sock);
    this.#sock = -1;
    ipMcLeave(this.#dev, MDNS_GROUP);
  }

  onIcmpError(): void {}

  /** UDP's tasklet: read each datagram into the scratch buffer and act on it in place. */
  onDatagrams(waiting: number): void {
    // Each datagram: #receive reads and parses it and only decides; #act then sends the
    // answers and arms the timers from this shallow frame (few locals: the XS stack).
    for (let k = 0; k < waiting && this.#sock >= 0; k++) {
      if (!this.#receive()) return;
      this.#act();
    }
  }

  /** Read and parse one datagram, deciding what to send; false when none waits. */
  #receive(): boolean {
    const udp = this.#net.udp;
    this.#replyLegacyQd = -1;
    this.#replyUcast = this.#replyMcast = false;
    this.#restartWaitMs = -1;
    this.#replyDue = -1;
    const len = udp.peekLength(this.#sock);
    if (len < 0) return false;
    const st = this.stats;
    st.received++;
    if (len > this.#rx.length) {
      udp.recv(this.#sock, null, 0, this.#from);
      st.tooLong++;
      return true;
    }
    udp.recv(this.#sock, this.#rx, 0, this.#from);
    if (dnsCheckLen(len) !== WIRE_OK) {
      st.malformed++;
      return true;
    }
    if (this.#from[0] === this.#dev.inDev.addr) {
      st.fromSelf++;
      return true;
    }
    // RFC 6762 11: only from the local link; a unicast datagram to port 5353 from a routed
    // host (which could claim our name, or aim our answers at a forged source) is dropped.
    const inDev = this.#dev.inDev;
    const src = this.#from[0];
    if (inDev.configured && ((src ^ inDev.addr) & inDev.mask) !== 0 && (src & 0xffff0000) !== 0xa9fe0000) {
      st.offLink++;
      return true;
    }
    const flags = dnsFlags(this.#rx, 0);
    // RFC 6762 18.3, 18.11: other opcodes and rcodes are ignored
    if ((flags & (DNS_OPCODE_MASK | DNS_RCODE_MASK)) !== 0) {
      st.ignored++;
      return true;
    }
    if (this.#state < STATE_WAIT || this.#state === STATE_CLOSED) return true;
    if ((flags & DNS_QR) !== 0) {
      st.responses++;
      this.#response(len);
    } else {
      st.queries++;
      this.#query(len);
    }
    return true;
  }

  /** What #receive decided: probe again, arm the reply timer, send the answers. */
  #act(): void {
    if (this.#restartWaitMs >= 0) this.#startProbing(this.#restartWaitMs);
    if (this.#replyDue >= 0 && (!this.#replyTimer.pending || this.#replyTimer.expires > this.#replyDue)) this.#net.modTimer(this.#replyTimer, this.#replyDue);
    let n: number;
    if (this.#replyLegacyQd >= 0 && (n = this.#build(MARK_UCAST, true, this.#replyId, this.#replyQuestionsEnd, this.#replyLegacyQd)) > 0) {
      this.stats.legacyAnswers++;
      this.#sendTx(n, this.#from[0], this.#from[1]);
    }
    if (this.#replyUcast && (n = this.#build(MARK_UCAST, false, 0, 0, 0)) > 0) {
      this.stats.unicastAnswers++;
      this.#sendTx(n, this.#from[0], MDNS_PORT);
    }
    if (this.#replyMcast && (n = this.#build(MARK_MCAST, false, 0, 0, 0)) > 0) {
      this.stats.multicastAnswers++;
      this.#sendTx(n, MDNS_GROUP_ADDR, MDNS_PORT);
    }
  }


  /** Which name slot the name at `at` is, or -1. */
  #nameIndex(at: number): number {
    const names = this.#names;
    for (let n = 0; n < names.length; n++) if (dnsNameIsWire(this.#rx, 0, at, names[n], 0)) return n;
    return -1;
  }

  /** A query (RFC 6762 6): mark the records asked for, strike the known answers, answer. */
  #query(len: number): void {
    const rx = this.#rx;
    const st = this.stats;
    const now = this.#net.now();
    const legacy = this.#from[1] !== MDNS_PORT;
    const qd = dnsQdCount(rx, 0);
    const an = dnsAnCount(rx, 0);
    const ns = dnsNsCount(rx, 0);
    const mark = this.#recMark;
    mark.fill(0);
    let at = DNS_HLEN;
    // Questions
    for (let q = 0; q < qd; q++) {
      const after = dnsSkipQuestion(rx, 0, len, at);
      if (after < 0) {
        st.malformed++;
        return;
      }
      const type = read16(rx, after - 4);
      const klass = read16(rx, after - 2);
      const n = this.#nameIndex(at);
      at = after;
      if (n < 0 || ((klass & ~DNS_CLASS_MDNS_BIT) !== DNS_CLASS_IN && (klass & ~DNS_CLASS_MDNS_BIT) !== DNS_TYPE_ANY)) continue;
      // RFC 6762 5.4: QU asks for unicast, unless the record was not multicast within a quarter of its TTL
      const qu = legacy || (klass & DNS_CLASS_MDNS_BIT) !== 0;
      for (let r = 0; r < mark.length; r++) {
        if (this.#recName[r] !== n || (type !== DNS_TYPE_ANY && type !== this.#recType[r])) continue;
        const recent = now - this.#recLastMcast[r] < this.#recTtl[r] * 250;
        mark[r] |= qu && (legacy || recent) ? MARK_UCAST : MARK_MCAST;
      }
    }
    const questionsEnd = at;
    // Known answers (RFC 6762 7.1), then a probe's proposed records (8.2)
    const rr = this.#rr;
    let probe = false;
    this.#groupFlag.fill(0);
    for (let i = 0; i < an + ns; i++) {
      if (dnsReadRecord(rx, 0, len, at, rr) !== WIRE_OK) {
        st.malformed++;
        return;
      }
      at = rr.next;
      const n = this.#nameIndex(rr.nameAt);
      if (n < 0) continue;
      if (i < an) {
        for (let r = 0; r < mark.length; r++) {
          if (mark[r] === 0 || this.#recName[r] !== n || this.#recType[r] !== rr.type) continue;
          if (rr.ttl * 2 >= this.#recTtl[r] && this.#sameRdata(r, len)) {
            mark[r] = 0;
            st.knownAnswerSuppressed++;
          }
        }
      } else {
        probe = true;
        if (this.#state === STATE_PROBING) this.#tieBreak(n, len);
      }
    }
    if (this.#state === STATE_PROBING || this.#state === STATE_WAIT) {
      this.#afterTieBreak();
      return; // no answers before our names are ours
    }
    if (legacy) {
      st.legacyQueries++;
      this.#replyLegacyQd = qd;
      this.#replyId = dnsId(rx, 0);
      this.#replyQuestionsEnd = questionsEnd;
      return;
    }
    this.#replyUcast = true;
    // Multicast: the rate limit, then now (unique records only) or 20-120 ms later (RFC 6762 6)
    let any = false;
    let shared = false;
    for (let r = 0; r < mark.length; r++) {
      if ((mark[r] & MARK_MCAST) === 0) continue;
      if (now - this.#recLastMcast[r] < (probe ? RATE_PROBE_MS : RATE_MS)) {
        mark[r] &= ~MARK_MCAST;
        st.rateLimited++;
        continue;
      }
      any = true;
      if (this.#recUnique[r] === 0) shared = true;
    }
    if (!any) return;
    if (!shared) {
      this.#replyMcast = true;
      return;
    }
    for (let r = 0; r < mark.length; r++) if ((mark[r] & MARK_MCAST) !== 0) this.#recPending[r] = 1;
    this.#replyDue = now + 20 + (this.#net.platform.random32() % 101);
  }

  #onReplyTimer(): void {
    const mark = this.#recMark;
    mark.fill(0);
    for (let r = 0; r < mark.length; r++) if (this.#recPending[r] !== 0) mark[r] = MARK_MCAST;
    this.#recPending.fill(0);
    if (this.#state !== STATE_ANNOUNCING && this.#state !== STATE_ANNOUNCED) return;
    const n = this.#build(MARK_MCAST, false, 0, 0, 0);
    if (n > 0) {
      this.stats.multicastAnswers++;
      this.#sendTx(n, MDNS_GROUP_ADDR, MDNS_PORT);
    }
  }

  /**
   * RFC 6762 8.2: another host probes for name slot n while we do. Its proposed record
   * against ours of the same type, lexicographically (class, type, rdata bytes); the later
   * wins. A records are compared whole; SRV by priority, weight and port; TXT by its bytes.
   */
  #tieBreak(n: number, len: number): void {
    const g = this.#groupOf(n);
    if (g < 0) return;
    const rr = this.#rr;
    const klass = rr.klass & ~DNS_CLASS_MDNS_BIT;
    let cmp: number;
    if (klass !== DNS_CLASS_IN) cmp = klass < DNS_CLASS_IN ? 1 : -1;
    else {
      const r = g === 0 ? REC_A : rr.type === DNS_TYPE_TXT ? recTxt(g - 1) : recSrv(g - 1);
      if (rr.type !== this.#recType[r]) cmp = rr.type < this.#recType[r] ? 1 : -1;
      else cmp = this.#compareRdata(r, len);
    }
    if (cmp < 0 && this.#groupFlag[g] === 0) this.#groupFlag[g] = 2; // theirs is later: we lose
    else if (cmp > 0) this.#groupFlag[g] = 1; // ours is later: we win, whatever else they sent
  }

  /** A lost tie-break: defer for a second, then probe the same names again. */
  #afterTieBreak(): void {
    for (let g = 0; g < this.#groupFlag.length; g++) {
      if (this.#groupFlag[g] !== 2) continue;
      this.stats.tieBreaksLost++;
      this.#restartWaitMs = TIE_BREAK_WAIT_MS;
      return;
    }
  }

  /** Ours (record r) against the record in #rr of the same type: <0 when theirs is later. */
  #compareRdata(r: number, len: number): number {
    const rx = this.#rx;
    const rr = this.#rr;
    // our rdata byte by byte, made here (no call deeper: this runs under the receive's parse)
    const type = this.#recType[r];
    const s = (r - 1) >> 2;
    const addr = this.#dev.inDev.addr;
    const port = type === DNS_TYPE_SRV ? this.#port[s] : 0;
    const txt = type === DNS_TYPE_TXT ? this.#txt[s] : null;
    const ourLen = txt !== null ? txt.length : type === DNS_TYPE_A ? 4 : 6;
    const n = ourLen < rr.rdLength ? ourLen : rr.rdLength;
    for (let i = 0; i < n; i++) {
      if (rr.rdataAt + i >= len) return 1;
      const ours = txt !== null ? txt[i] : type === DNS_TYPE_A ? (addr >>> (24 - 8 * i)) & 0xff : i === 4 ? port >>> 8 : i === 5 ? port & 0xff : 0;
      const d = ours - rx[rr.rdataAt + i];
      if (d !== 0) return d;
    }
    return type === DNS_TYPE_SRV ? 0 : ourLen - rr.rdLength;
  }

  /** Name group of name slot n: 0 the host, 1 + s service s's instance, -1 a shared name. */
  #groupOf(n: number): number {
    if (n === NAME_HOST) return 0;
    if (n >= 2 && (n & 1) === 1) return 1 + ((n - 3) >> 1);
    return -1;
  }

  /** A response (RFC 6762 9): a record of another host with one of our unique names, types, other data. */
  #response(len: number): void {
    const rx = this.#rx;
    const rr = this.#rr;
    const total = dnsAnCount(rx, 0) + dnsNsCount(rx, 0) + dnsArCount(rx, 0);
    let at = DNS_HLEN;
    for (let q = dnsQdCount(rx, 0); q > 0; q--) {
      at = dnsSkipQuestion(rx, 0, len, at);
      if (at < 0) {
        this.stats.malformed++;
        return;
      }
    }
    this.#groupFlag.fill(0);
    for (let i = 0; i < total; i++) {
      if (dnsReadRecord(rx, 0, len, at, rr) !== WIRE_OK) {
        this.stats.malformed++;
        break; // what came before was read whole: act on it
      }
      at = rr.next;
      if ((rr.klass & ~DNS_CLASS_MDNS_BIT) !== DNS_CLASS_IN || rr.ttl === 0) continue;
      const n = this.#nameIndex(rr.nameAt);
      const g = n < 0 ? -1 : this.#groupOf(n);
      if (g < 0) continue;
      const r = g === 0 ? REC_A : rr.type === DNS_TYPE_SRV ? recSrv(g - 1) : rr.type === DNS_TYPE_TXT ? recTxt(g - 1) : -1;
      if (r < 0 || rr.type !== this.#recType[r]) continue;
      if (!this.#sameRdata(r, len)) this.#groupFlag[g] = 1;
    }
    let renamed = false;
    for (let g = 0; g < this.#groupFlag.length; g++) {
      if (this.#groupFlag[g] === 0) continue;
      this.stats.conflicts++;
      this.#rename(g);
      renamed = true;
    }
    if (!renamed) return;
    // RFC 6762 8.1: at most 15 conflicts in 10 s, then a 5 s wait
    const now = this.#net.now();
    const oldest = this.#conflictAt[this.#conflictNext];
    this.#conflictAt[this.#conflictNext] = now;
    this.#conflictNext = (this.#conflictNext + 1) % CONFLICTS_MAX;
    this.#restartWaitMs = now - oldest < CONFLICT_WINDOW_MS ? CONFLICT_BACKOFF_MS : PROBE_WAIT_MS;
  }

  /** RFC 6762 9: a conflict takes the next name, "xsnet" -> "xsnet-2" -> "xsnet-3". */
  #rename(g: number): void {
    this.stats.renames++;
    this.#serial[g]++;
    this.#writeGroupName(g);
  }

  #writeGroupName(g: number): void {
    const base = g === 0 ? this.#hostBase : this.#instBase[g - 1];
    const wire = this.#names[g === 0 ? NAME_HOST : nameInst(g - 1)];
    let serial = this.#serial[g];
    let o = 1;
    for (let i = 0; i < base.length; i++) wire[o++] = base.charCodeAt(i);
    if (serial > 1) {
      wire[o++] = 0x2d; // "-"
      let digits = 1;
      for (let v = serial; v >= 10; v = Math.floor(v / 10)) digits++;
      for (let d = digits - 1; d >= 0; d--, serial = Math.floor(serial / 10)) wire[o + d] = 0x30 + (serial % 10);
      o += digits;
    }
    wire[0] = o - 1;
    if (g === 0) {
      // "local"
      wire[o++] = 5;
      wire[o++] = 0x6c; wire[o++] = 0x6f; wire[o++] = 0x63; wire[o++] = 0x61; wire[o++] = 0x6c;
      wire[o] = 0;
    } else {
      const type = this.#names[nameType(g - 1)];
      for (let i = 0; i < type.length; i++) wire[o + i] = type[i];
    }
  }

  #startProbing(waitMs: number): void {
    this.#state = STATE_WAIT;
    this.#probesSent = 0;
    this.#announcementsSent = 0;
    this.#net.delTimer(this.#replyTimer);
    this.#recPending.fill(0);
    // RFC 6762 8.1: a random 0-250 ms before the first probe
    const wait = waitMs === PROBE_WAIT_MS ? this.#net.platform.random32() % (PROBE_WAIT_MS + 1) : waitMs;
    this.#net.modTimer(this.#stateTimer, this.#net.now() + wait);
  }

  #onStateTimer(): void {
    const net = this.#net;
    if (this.#dev.inDev.addr === 0) {
      this.#state = STATE_IDLE;
      return;
    }
    if (this.#state === STATE_WAIT) this.#state = STATE_PROBING;
    if (this.#state === STATE_PROBING) {
      if (this.#probesSent < PROBES) {
        const n = this.#buildProbe();
        if (n > 0) {
          this.stats.probesSent++;
          this.#sendTx(n, MDNS_GROUP_ADDR, MDNS_PORT);
        }
        this.#probesSent++;
        net.modTimer(this.#stateTimer, net.now() + PROBE_INTERVAL_MS);
        return;
      }
      this.#state = STATE_ANNOUNCING; // RFC 6762 8.3: no conflict in 750 ms, the names are ours
      this.#announcementsSent = 0;
    }
    if (this.#state === STATE_ANNOUNCING) {
      this.#sendTx(this.#buildAll(false), MDNS_GROUP_ADDR, MDNS_PORT);
      this.stats.announcementsSent++;
      if (++this.#announcementsSent < ANNOUNCEMENTS) net.modTimer(this.#stateTimer, net.now() + ANNOUNCE_INTERVAL_MS);
      else this.#state = STATE_ANNOUNCED;
    }
  }

  /** RFC 6762 8.1: questions of type ANY for our unique names (QU), our records in the authority section. */
  #buildProbe(): number {
    const tx = this.#tx;
    const S = this.#services;
    let o = DNS_HLEN;
    for (let g = 0; g <= S; g++) {
      const name = this.#names[g === 0 ? NAME_HOST : nameInst(g - 1)];
      o = copyName(tx, o, name);
      // QU on the first probe only would be as good; every probe asking for unicast is allowed (8.1)
      o = dnsWriteQuestionTail(tx, o, DNS_TYPE_ANY, DNS_CLASS_IN | DNS_CLASS_MDNS_BIT);
    }
    this.#an = this.#ar = 0;
    o = this.#putRecord(o, REC_A, MDNS_TTL_HOST_S, false);
    for (let s = 0; s < S && o > 0; s++) {
      o = this.#putRecord(o, recSrv(s), MDNS_TTL_HOST_S, false);
      if (o > 0) o = this.#putRecord(o, recTxt(s), MDNS_TTL_OTHER_S, false);
    }
    if (o < 0) {
      this.stats.truncated++;
      return 0;
    }
    dnsBuildHeader(tx, 0, 0, 0, 1 + S, 0, this.#an, 0);
    return o;
  }

  /** An announcement (RFC 6762 8.3) or goodbye (10.1): every record, unsolicited, multicast. */
  #buildAll(goodbye: boolean): number {
    this.#recMark.fill(MARK_MCAST);
    return this.#build(MARK_MCAST, false, 0, 0, goodbye ? -1 : 0);
  }

  /**
   * One response of the records marked `bit`, with their additional records (RFC 6763 12).
   * Legacy unicast (id != 0 or qd > 0): the query's id and questions echoed, TTL <= 10, no
   * cache-flush bit (RFC 6762 6.7). qd -1 is a goodbye: TTL 0.
   */
  #build(bit: number, legacy: boolean, id: number, questionsEnd: number, qd: number): number {
    const mark = this.#recMark;
    const S = this.#services;
    let any = false;
    for (let r = 0; r < mark.length; r++) if ((mark[r] & bit) !== 0) any = true;
    if (!any) return 0;
    const goodbye = qd < 0;
    // RFC 6763 12: a PTR to an instance brings its SRV, TXT and the address; an SRV the address
    for (let r = 0; r < mark.length; r++) mark[r] &= ~MARK_ADDITIONAL;
    if (!goodbye) {
      for (let s = 0; s < S; s++) {
        if ((mark[recPtr(s)] & bit) !== 0) {
          mark[recSrv(s)] |= MARK_ADDITIONAL;
          mark[recTxt(s)] |= MARK_ADDITIONAL;
          mark[REC_A] |= MARK_ADDITIONAL;
        }
        if ((mark[recSrv(s)] & bit) !== 0) mark[REC_A] |= MARK_ADDITIONAL;
      }
    }
    const tx = this.#tx;
    const rx = this.#rx;
    let o = DNS_HLEN;
    if (legacy) {
      // the questions as they came: their compression pointers stay right at the same offsets
      for (let i = DNS_HLEN; i < questionsEnd; i++) tx[i] = rx[i];
      o = questionsEnd;
    }
    this.#an = this.#ar = 0;
    const now = this.#net.now();
    for (let pass = 0; pass < 2; pass++) {
      for (let r = 0; r < mark.length; r++) {
        const m = mark[r];
        if (pass === 0 ? (m & bit) === 0 : (m & bit) !== 0 || (m & MARK_ADDITIONAL) === 0) continue;
        let ttl = goodbye ? 0 : this.#recTtl[r];
        if (legacy && ttl > MDNS_LEGACY_TTL_MAX_S) ttl = MDNS_LEGACY_TTL_MAX_S;
        const next = this.#putRecord(o, r, ttl, !legacy && this.#recUnique[r] !== 0);
        if (next < 0) {
          this.stats.truncated++;
          continue;
        }
        o = next;
        if (pass === 1) {
          this.#an--;
          this.#ar++;
        }
        if (bit === MARK_MCAST) this.#recLastMcast[r] = now;
      }
    }
    if (this.#an === 0) return 0;
    dnsBuildHeader(tx, 0, id, DNS_QR | DNS_AA, legacy ? Math.max(qd, 0) : 0, this.#an, 0, this.#ar);
    return o;
  }

  /** Write record r at o (name uncompressed); -1 when it does not fit. Counts it in #an. */
  #putRecord(o: number, r: number, ttl: number, flush: boolean): number {
    const tx = this.#tx;
    const name = this.#names[this.#recName[r]];
    const nameLen = dnsWireNameLength(name, 0);
    if (o + nameLen + 10 + this.#rdataLength(r) > tx.length) return -1;
    o = copyName(tx, o, name);
    const rdataAt = this.#writeRdata(tx, r, o + 10);
    dnsWriteRecordTail(tx, o, this.#recType[r], DNS_CLASS_IN | (flush ? DNS_CLASS_MDNS_BIT : 0), ttl, rdataAt - (o + 10));
    this.#an++;
    return rdataAt;
  }

  #rdataLength(r: number): number {
    const type = this.#recType[r];
    if (type === DNS_TYPE_A) return 4;
    const s = (r - 1) >> 2;
    if (type === DNS_TYPE_TXT) return this.#txt[s].length;
    if (type === DNS_TYPE_SRV) return 6 + dnsWireNameLength(this.#names[NAME_HOST], 0);
    return dnsWireNameLength(this.#names[r === recEnum(s) ? nameType(s) : nameInst(s)], 0);
  }

  /** Record r's rdata at o in tx; returns the offset after it. */
  #writeRdata(tx: Uint8Array, r: number, o: number): number {
    const type = this.#recType[r];
    if (type === DNS_TYPE_A) {
      write32(tx, o, this.#dev.inDev.addr);
      return o + 4;
    }
    const s = (r - 1) >> 2;
    if (type === DNS_TYPE_PTR) return copyName(tx, o, this.#names[r === recEnum(s) ? nameType(s) : nameInst(s)]);
    if (type === DNS_TYPE_SRV) {
      write16(tx, o, 0); // priority
      write16(tx, o + 2, 0); // weight
      write16(tx, o + 4, this.#port[s]);
      return copyName(tx, o + 6, this.#names[NAME_HOST]);
    }
    const txt = this.#txt[s];
    for (let i = 0; i < txt.length; i++) tx[o + i] = txt[i];
    return o + txt.length;
  }

  /** Is the rdata of the record in #rr (same type as r) ours? */
  #sameRdata(r: number, len: number): boolean {
    const rx = this.#rx;
    const rr = this.#rr;
    const at = rr.rdataAt;
    const type = this.#recType[r];
    if (type === DNS_TYPE_A) return rr.rdLength === 4 && read32(rx, at) === this.#dev.inDev.addr >>> 0;
    const s = (r - 1) >> 2;
    if (type === DNS_TYPE_PTR || type === DNS_TYPE_SRV) {
      const nameAt = type === DNS_TYPE_SRV ? at + 6 : at;
      if (type === DNS_TYPE_SRV && (rr.rdLength < 7 || read16(rx, at) !== 0 || read16(rx, at + 2) !== 0 || read16(rx, at + 4) !== this.#port[s])) return false;
      const after = dnsSkipName(rx, 0, rr.next, nameAt);
      if (after < 0 || after > rr.next) return false;
      const target = type === DNS_TYPE_SRV ? NAME_HOST : r === recEnum(s) ? nameType(s) : nameInst(s);
      return dnsNameIsWire(rx, 0, nameAt, this.#names[target], 0);
    }
    const txt = this.#txt[s];
    if (rr.rdLength !== txt.length || at + txt.length > len) return false;
    for (let i = 0; i < txt.length; i++) if (rx[at + i] !== txt[i]) return false;
    return true;
  }

  /** Send the first len bytes of the send buffer (0: nothing was built). */
  #sendTx(len: number, daddr: number, dport: number): void {
    if (len > 0 && this.#net.udp.sendto(this.#sock, this.#tx, 0, len, daddr, dport, MDNS_IP_TTL) !== 0) this.stats.sendErrors++;
  }

  #setRecord(r: number, name: number, type: number, ttl: number, unique: boolean): void {
    this.#recName[r] = name;
    this.#recType[r] = type;
    this.#recTtl[r] = ttl;
    this.#recUnique[r] = unique ? 1 : 0;
  }
}

const MDNS_GROUP_ADDR = parseIpv4(MDNS_GROUP);

/** Copy the uncompressed wire name at the start of `name` to o; returns the offset after it. */
function copyName(buf: Uint8Array, o: number, name: Uint8Array): number {
  const n = dnsWireNameLength(name, 0);
  for (let i = 0; i < n; i++) buf[o + i] = name[i];
  return o + n;
}

/** The first label of a wire name, as a string (app-facing). */
function labelString(wire: Uint8Array): string {
  let s = "";
  for (let i = 1; i <= wire[0]; i++) s += String.fromCharCode(wire[i]);
  return s;
}

/** RFC 6763 6: length-prefixed strings; none is one empty string (6.1). */
function txtBytes(svc: MdnsService): Uint8Array {
  const strings = svc.txt ?? [];
  let total = 0;
  for (const t of strings) {
    if (typeof t !== "string" || t.length > 255 || !/^[\x20-\x7e]*$/.test(t)) throw new TypeError(`mDNS: service ${svc.type}: TXT string '${t}' is not up to 255 printable ASCII characters`);
    total += 1 + t.length;
  }
  if (total > 1300) throw new RangeError(`mDNS: service ${svc.type}: TXT record of ${total} bytes (at most 1300)`);
  if (strings.length === 0) return new Uint8Array(1);
  const out = new Uint8Array(total);
  let o = 0;
  for (const t of strings) {
    out[o++] = t.length;
    for (let i = 0; i < t.length; i++) out[o++] = t.charCodeAt(i);
  }
  return out;
}
