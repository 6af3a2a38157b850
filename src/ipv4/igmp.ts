// IGMP, the host side (RFC 1112, RFC 2236 version 2, RFC 3376 version 3 host compatibility;
// net/ipv4/igmp.c). Tells the routers and snooping switches of a link which groups the
// device listens to:
//
//   ipMcJoin -> net.igmp.joined: an unsolicited report now, repeated (RFC 2236 3, RFC 3376 5.1)
//   ipMcLeave -> net.igmp.left: a v2 Leave to 224.0.0.2, or v3 TO_IN({}) records
//   ipLocalDeliver -> igmpRcv: length, checksum -> query: reports scheduled after a random
//     delay | another host's v1/v2 report: ours suppressed (RFC 2236 3)
//   the device's timer -> Igmp.expire: what is due is sent (ipSendDev, TTL 1, Router Alert)
//
// Every group is joined in EXCLUDE({}) mode (the whole group, no source filter). 224.0.0.1
// is joined by every interface implicitly (Ipv4.mcJoined) and never reported (RFC 2236 6).
// State is per device in fixed tables: NETDEV_MC_MAX group slots and one timer each.

import { SKB_DROP } from "../core/drop";
import { consumeSkb, kfreeSkbReason } from "../core/free";
import { NETDEV_DOWN, NETDEV_UP, registerNetdevNotifier } from "../core/link";
import type { Net } from "../core/net";
import { IFF_LOOPBACK, NETDEV_MC_MAX, type NetDevice } from "../core/netdevice";
import { skbChecksum, type SkBuff } from "../core/skb";
import type { Timer } from "../core/timer";
import { read16 } from "../wire/bytes";
import { csumReduce } from "../wire/checksum";
import {
  IGMP_ALL_HOSTS, IGMP_ALL_ROUTERS, IGMP_HLEN, IGMP_MEMBERSHIP_QUERY, IGMP_V1_MEMBERSHIP_REPORT, IGMP_V2_LEAVE_GROUP,
  IGMP_V2_MEMBERSHIP_REPORT, IGMP_V3_MEMBERSHIP_REPORT, IGMP_V3_QUERY_MIN, IGMP_V3_ROUTERS, IGMPV3_CHANGE_TO_EXCLUDE,
  IGMPV3_CHANGE_TO_INCLUDE, IGMPV3_MODE_IS_EXCLUDE, IGMPV3_RECORD_LEN, igmpBuildV2, igmpBuildV3ReportHeader, igmpFinish,
  igmpGroup, igmpMaxRespCode, igmpMaxRespMs, igmpType, igmpV3Record,
} from "../wire/igmp";
import { IPPROTO_IGMP, ipIsMulticast, ipSaddr } from "../wire/ipv4";
import { ipAllocDatagram, ipSendDev } from "./output";
// mcconfig type-checks each module alone: the modules that add net.ipv4, dev.inDev
import type {} from "./ipv4";
import type {} from "./devinet";

/** Robustness Variable when no querier has said (RFC 3376 8.1, RFC 2236 8.1). */
const IGMP_ROBUSTNESS_DEFAULT = 2;
/**
 * Older Version Querier Present Timeout (RFC 3376 8.12): Robustness Variable x Query
 * Interval (125 s) + Query Response Interval (10 s), at the defaults.
 */
const IGMP_OLDER_QUERIER_MS = 2 * 125_000 + 10_000;
/** Unsolicited Report Interval: 10 s in version 1 and 2 (RFC 2236 8.10), 1 s in version 3 (RFC 3376 8.11). */
const IGMP_V2_UNSOLICITED_MS = 10_000;
const IGMP_V3_UNSOLICITED_MS = 1_000;
/** IGMP messages are never forwarded (RFC 2236 2, RFC 3376 4). */
const IGMP_TTL = 1;

// a group slot's state
const SLOT_FREE = 0;
/** joined: reported when asked, and on join until `retrans` runs out */
const SLOT_MEMBER = 1;
/** left in version 3 mode: TO_IN({}) records still to send (RFC 3376 5.1) */
const SLOT_LEAVING = 2;

// a group slot's flags
/** a query asked for this group: a report at `due` */
const FLAG_QUERIED = 1;
/** we sent the last v2 report for the group: we send the Leave (RFC 2236 3) */
const FLAG_LAST_REPORTER = 2;

/** Counters of IGMP (Linux counts some in /proc/net/snmp's Icmp-like rows; these are ours). */
export class IgmpStats {
  inMsgs = 0;
  inQueriesV1 = 0;
  inQueriesV2 = 0;
  inQueriesV3 = 0;
  /** reports and leaves of other hosts (v1/v2 reports suppress ours) */
  inReports = 0;
  /** our pending report cancelled by another host's (RFC 2236 3) */
  suppressed = 0;
  /** types a host does not handle (DVMRP, mtrace, ...): ignored */
  inUnknown = 0;
  /** shorter than 8 bytes, or a reassembled datagram */
  inTruncated = 0;
  inCsumErrors = 0;
  /** a query of no version (9 to 11 bytes, RFC 3376 7.1), sources past its end, or a group that is not multicast */
  inBadQueries = 0;
  /** a query from 0.0.0.0 */
  inBadSource = 0;
  outReportsV1 = 0;
  outReportsV2 = 0;
  outReportsV3 = 0;
  outLeaves = 0;
  /** a message not sent: no skb in the pool, or IP refused it */
  outErrors = 0;
}

declare module "../core/net" {
  interface Net {
    /** IGMP's per-device group tables, made by igmpInit */
    igmp: Igmp;
  }
}

/** igmp_init: IGMP registered with IPv4, its tables made for config.devicesMax devices. */
export function igmpInit(net: Net): void {
  net.igmp = new Igmp(net);
  net.ipv4.addProtocol(IPPROTO_IGMP, igmpRcv);
  registerNetdevNotifier(net, igmpNetdevEvent);
}

function igmpNetdevEvent(net: Net, event: number, dev: NetDevice): void {
  if (event === NETDEV_UP) net.igmp.devUp(dev);
  else if (event === NETDEV_DOWN) net.igmp.devDown(dev);
}

/**
 * igmp_rcv: skb.data at the IGMP message, the IP payload. Router Alert is not required on
 * input (RFC 3376 9.1 leaves it to the receiver; Linux does not ask for it either).
 */
export function igmpRcv(net: Net, skb: SkBuff): void {
  const igmp = net.igmp;
  const stats = igmp.stats;
  const buf = net.pool.buf;
  stats.inMsgs++;
  const len = skb.len;
  if (len < IGMP_HLEN || skb.fragNext !== null) {
    stats.inTruncated++;
    kfreeSkbReason(net, skb, SKB_DROP.IGMP_INVALID);
    return;
  }
  // RFC 2236 2.3, RFC 3376 4.1.2: the checksum covers the whole message.
  if (csumReduce(skbChecksum(net.pool, skb, 0)) !== 0xffff) {
    stats.inCsumErrors++;
    kfreeSkbReason(net, skb, SKB_DROP.IGMP_INVALID);
    return;
  }
  const at = skb.data;
  const dev = skb.dev as NetDevice;
  const type = igmpType(buf, at);
  if (type === IGMP_MEMBERSHIP_QUERY) {
    if (!igmp.query(dev, buf, at, len, ipSaddr(buf, skb.networkHeader))) {
      kfreeSkbReason(net, skb, SKB_DROP.IGMP_INVALID);
      return;
    }
  } else if (type === IGMP_V1_MEMBERSHIP_REPORT || type === IGMP_V2_MEMBERSHIP_REPORT) {
    stats.inReports++;
    igmp.heardReport(dev, igmpGroup(buf, at));
  } else if (type === IGMP_V3_MEMBERSHIP_REPORT || type === IGMP_V2_LEAVE_GROUP) {
    stats.inReports++; // for the routers; a v3 host does not suppress (RFC 3376 5)
  } else {
    stats.inUnknown++;
  }
  consumeSkb(net, skb);
}

export class Igmp {
  readonly #net: Net;
  readonly stats = new IgmpStats();
  /** devices the tables hold (config.devicesMax); a device's index is its ifindex - 1 */
  readonly devicesMax: number;
  // group slots: device d's are d * NETDEV_MC_MAX .. + NETDEV_MC_MAX - 1
  readonly group: Uint32Array;
  readonly state: Uint8Array;
  readonly flags: Uint8Array;
  /** state-change reports still to send (the first counts) */
  readonly retrans: Uint8Array;
  /** when the slot's next report is due (ms), 0 for none */
  readonly due: Float64Array;
  // per device
  /** Older Version Querier Present timers: until when v1 / v2 mode holds (RFC 3376 7.2.1) */
  readonly v1Until: Float64Array;
  readonly v2Until: Float64Array;
  /** when the answer to a v3 General Query is due, 0 for none (RFC 3376 5.2: the interface timer) */
  readonly generalDue: Float64Array;
  /** the Robustness Variable, from the last v3 query's QRV (RFC 3376 4.1.6) */
  readonly robustness: Uint8Array;
  readonly #timers: Timer[];

  constructor(net: Net) {
    this.#net = net;
    const d = net.config.devicesMax;
    const slots = d * NETDEV_MC_MAX;
    this.devicesMax = d;
    this.group = new Uint32Array(slots);
    this.state = new Uint8Array(slots);
    this.flags = new Uint8Array(slots);
    this.retrans = new Uint8Array(slots);
    this.due = new Float64Array(slots);
    this.v1Until = new Float64Array(d);
    this.v2Until = new Float64Array(d);
    this.generalDue = new Float64Array(d);
    this.robustness = new Uint8Array(d).fill(IGMP_ROBUSTNESS_DEFAULT);
    const expire = (i: number): void => this.expire(i);
    this.#timers = [];
    for (let i = 0; i < d; i++) this.#timers.push(net.timers.create(expire, i));
  }

  /** The version the device speaks: the oldest querier heard within the timeout (RFC 3376 7.2.1). */
  mode(dev: NetDevice): number {
    const d = dev.ifindex - 1;
    const now = this.#net.now();
    return this.v1Until[d] > now ? 1 : this.v2Until[d] > now ? 2 : 3;
  }

  /** ipMcJoin added `group` to dev's list: report it now and again (RFC 2236 3, RFC 3376 5.1). */
  joined(dev: NetDevice, group: number): void {
    if (group === IGMP_ALL_HOSTS || (dev.flags & IFF_LOOPBACK) !== 0) return;
    const base = (dev.ifindex - 1) * NETDEV_MC_MAX;
    let s = this.#find(base, group);
    if (s < 0) s = this.#find(base, 0);
    // Every slot taken: one holds a left group's last TO_IN records (members <= the list's size).
    if (s < 0) for (let i = base; i < base + NETDEV_MC_MAX && s < 0; i++) if (this.state[i] === SLOT_LEAVING) s = i;
    if (s < 0) return;
    const mode = this.mode(dev);
    this.group[s] = group;
    this.state[s] = SLOT_MEMBER;
    this.flags[s] = 0;
    this.retrans[s] = mode === 3 ? this.robustness[dev.ifindex - 1] : 2;
    this.due[s] = 0;
    if (dev.isUp && dev.hasCarrier) this.#report(dev, s, mode);
    this.#arm(dev);
  }

  /** ipMcLeave took `group` off dev's list: a v2 Leave, or v3 TO_IN({}) records (RFC 3376 5.1). */
  left(dev: NetDevice, group: number): void {
    const base = (dev.ifindex - 1) * NETDEV_MC_MAX;
    const s = this.#find(base, group);
    if (s < 0 || this.state[s] !== SLOT_MEMBER) return;
    const mode = this.mode(dev);
    const up = dev.isUp && dev.hasCarrier;
    if (mode === 3 && up) {
      this.state[s] = SLOT_LEAVING;
      this.flags[s] = 0;
      this.retrans[s] = this.robustness[dev.ifindex - 1];
      this.#report(dev, s, mode);
    } else {
      // RFC 2236 3: a Leave only if we sent the last report; version 1 has no Leave.
      if (mode === 2 && up && (this.flags[s] & FLAG_LAST_REPORTER) !== 0) this.#sendV12(dev, IGMP_V2_LEAVE_GROUP, group, IGMP_ALL_ROUTERS);
      this.#free(s);
    }
    this.#arm(dev);
  }

  /** The link works again: every group reported anew, soon (ip_mc_up). */
  devUp(dev: NetDevice): void {
    const base = (dev.ifindex - 1) * NETDEV_MC_MAX;
    const mode = this.mode(dev);
    const now = this.#net.now();
    for (let s = base; s < base + NETDEV_MC_MAX; s++) {
      if (this.state[s] !== SLOT_MEMBER) continue;
      this.retrans[s] = mode === 3 ? this.robustness[dev.ifindex - 1] : 2;
      this.due[s] = now + 1; // from the timer, out of the driver's call
    }
    this.#arm(dev);
  }

  /** The device went down: nothing more is sent; the groups stay (ip_mc_down). */
  devDown(dev: NetDevice): void {
    const d = dev.ifindex - 1;
    const base = d * NETDEV_MC_MAX;
    for (let s = base; s < base + NETDEV_MC_MAX; s++) {
      if (this.state[s] === SLOT_LEAVING) this.#free(s);
      this.flags[s] = 0;
      this.retrans[s] = 0;
      this.due[s] = 0;
    }
    this.generalDue[d] = 0;
    this.#net.delTimer(this.#timers[d]);
  }

  /**
   * A Membership Query (RFC 3376 7.1: its version from its length and Max Resp Code).
   * Schedules reports; false for a malformed query (counted).
   */
  query(dev: NetDevice, buf: Uint8Array, at: number, len: number, saddr: number): boolean {
    const stats = this.stats;
    if (saddr === 0) {
      stats.inBadSource++;
      return false;
    }
    const group = igmpGroup(buf, at);
    const code = igmpMaxRespCode(buf, at);
    let version: number;
    if (len === IGMP_HLEN) version = code === 0 ? 1 : 2;
    else if (len >= IGMP_V3_QUERY_MIN && IGMP_V3_QUERY_MIN + 4 * read16(buf, at + 10) <= len) version = 3;
    else version = 0; // 9 to 11 bytes, or sources past the end: ignored (RFC 3376 7.1)
    if (version === 0 || (group !== 0 && !ipIsMulticast(group))) {
      stats.inBadQueries++;
      return false;
    }
    const net = this.#net;
    const now = net.now();
    const d = dev.ifindex - 1;
    // An older querier puts the interface in its mode; pending v3 answers go (RFC 3376 7.2.1).
    if (version === 1) {
      stats.inQueriesV1++;
      this.v1Until[d] = now + IGMP_OLDER_QUERIER_MS;
      this.generalDue[d] = 0;
    } else if (version === 2) {
      stats.inQueriesV2++;
      this.v2Until[d] = now + IGMP_OLDER_QUERIER_MS;
      this.generalDue[d] = 0;
    } else {
      stats.inQueriesV3++;
      const qrv = buf[at + 8] & 7;
      if (qrv !== 0) this.robustness[d] = qrv; // RFC 3376 4.1.6
    }
    // A random delay in (0, Max Resp Time] (RFC 2236 3, RFC 3376 5.2); 0 in `due` means none.
    const maxMs = igmpMaxRespMs(code, version === 3);
    const due = now + 1 + (net.platform.random32() % maxMs);
    const base = d * NETDEV_MC_MAX;
    const mode = this.mode(dev);
    if (mode === 3 && group === 0) {
      // RFC 3376 5.2 (1): one report for the interface, an earlier one kept.
      if (this.generalDue[d] === 0 || this.generalDue[d] > due) this.generalDue[d] = due;
    } else if (mode !== 3 || this.generalDue[d] === 0 || this.generalDue[d] > due) {
      // RFC 2236 3, RFC 3376 5.2 (2, 3): a timer per group, reset only to an earlier time.
      // A group-and-source-specific query is answered as group-specific: IS_EX({}) covers its sources.
      for (let s = base; s < base + NETDEV_MC_MAX; s++) {
        if (this.state[s] !== SLOT_MEMBER || (group !== 0 && this.group[s] !== group)) continue;
        this.flags[s] |= FLAG_QUERIED;
        if (this.due[s] === 0 || this.due[s] > due) this.due[s] = due;
      }
    }
    this.#arm(dev);
    return true;
  }

  /** Another host reported the group (v1/v2): our pending report is not needed (RFC 2236 3). */
  heardReport(dev: NetDevice, group: number): void {
    if (this.mode(dev) === 3) return; // RFC 3376 5: no suppression in version 3
    const s = this.#find((dev.ifindex - 1) * NETDEV_MC_MAX, group);
    if (s < 0 || this.state[s] !== SLOT_MEMBER) return;
    if (this.due[s] !== 0) this.stats.suppressed++;
    this.flags[s] = 0;
    this.retrans[s] = 0;
    this.due[s] = 0;
    this.#arm(dev);
  }

  /** The device's timer: whatever is due is sent. */
  expire(d: number): void {
    const net = this.#net;
    const dev = net.devices[d];
    if (dev === undefined) return;
    const now = net.now();
    const mode = this.mode(dev);
    const base = d * NETDEV_MC_MAX;
    if (this.generalDue[d] !== 0 && this.generalDue[d] <= now) {
      this.generalDue[d] = 0;
      if (mode === 3) this.#sendV3(dev, -1, IGMPV3_MODE_IS_EXCLUDE);
    }
    for (let s = base; s < base + NETDEV_MC_MAX; s++) {
      if (this.state[s] !== SLOT_FREE && this.due[s] !== 0 && this.due[s] <= now) this.#report(dev, s, mode);
    }
    this.#arm(dev);
  }

  /** Send the slot's report now (v1/v2 report, v3 record), and schedule its repeat. */
  #report(dev: NetDevice, s: number, mode: number): void {
    const group = this.group[s];
    const changes = this.retrans[s];
    if (this.state[s] === SLOT_LEAVING) {
      if (mode === 3) this.#sendV3(dev, s, IGMPV3_CHANGE_TO_INCLUDE);
    } else if (mode === 3) {
      this.#sendV3(dev, s, changes > 0 ? IGMPV3_CHANGE_TO_EXCLUDE : IGMPV3_MODE_IS_EXCLUDE);
    } else {
      this.#sendV12(dev, mode === 1 ? IGMP_V1_MEMBERSHIP_REPORT : IGMP_V2_MEMBERSHIP_REPORT, group, group);
      this.flags[s] |= FLAG_LAST_REPORTER;
    }
    this.flags[s] &= ~FLAG_QUERIED;
    if (changes > 0) this.retrans[s] = changes - 1;
    if (this.retrans[s] > 0) {
      const interval = mode === 3 ? IGMP_V3_UNSOLICITED_MS : IGMP_V2_UNSOLICITED_MS;
      this.due[s] = this.#net.now() + 1 + (this.#net.platform.random32() % interval);
    } else if (this.state[s] === SLOT_LEAVING) {
      this.#free(s);
    } else {
      this.due[s] = 0;
    }
  }

  /** A v1/v2 report or a v2 leave (8 bytes). */
  #sendV12(dev: NetDevice, type: number, group: number, daddr: number): void {
    const net = this.#net;
    const skb = ipAllocDatagram(net, IGMP_HLEN, dev.mtu);
    if (skb === null) {
      this.stats.outErrors++;
      return;
    }
    igmpBuildV2(net.pool.buf, skb.data, type, group);
    if (type === IGMP_V2_LEAVE_GROUP) this.stats.outLeaves++;
    else if (type === IGMP_V2_MEMBERSHIP_REPORT) this.stats.outReportsV2++;
    else this.stats.outReportsV1++;
    if (ipSendDev(net, skb, dev.inDev.addr, daddr, IPPROTO_IGMP, IGMP_TTL, dev, true) < 0) this.stats.outErrors++;
  }

  /**
   * A v3 report to 224.0.0.22 (RFC 3376 4.2.14) of one record for slot `only`, or of a
   * current-state record for every joined group (`only` -1; none joined: nothing sent).
   * The source is the interface's address, 0.0.0.0 before it has one (RFC 3376 4.2.13).
   */
  #sendV3(dev: NetDevice, only: number, recordType: number): void {
    const net = this.#net;
    const base = (dev.ifindex - 1) * NETDEV_MC_MAX;
    let records = 1;
    if (only < 0) {
      records = 0;
      for (let s = base; s < base + NETDEV_MC_MAX; s++) if (this.state[s] === SLOT_MEMBER) records++;
      if (records === 0) return;
    }
    const len = IGMP_HLEN + records * IGMPV3_RECORD_LEN;
    const skb = ipAllocDatagram(net, len, dev.mtu);
    if (skb === null) {
      this.stats.outErrors++;
      return;
    }
    const buf = net.pool.buf;
    const at = skb.data;
    let o = igmpBuildV3ReportHeader(buf, at, records);
    if (only >= 0) o = igmpV3Record(buf, o, recordType, this.group[only]);
    else for (let s = base; s < base + NETDEV_MC_MAX; s++) if (this.state[s] === SLOT_MEMBER) o = igmpV3Record(buf, o, recordType, this.group[s]);
    igmpFinish(buf, at, len);
    this.stats.outReportsV3++;
    if (ipSendDev(net, skb, dev.inDev.addr, IGMP_V3_ROUTERS, IPPROTO_IGMP, IGMP_TTL, dev, true) < 0) this.stats.outErrors++;
  }

  /** The device's timer set to its earliest due report, or stopped. */
  #arm(dev: NetDevice): void {
    const d = dev.ifindex - 1;
    const base = d * NETDEV_MC_MAX;
    let next = this.generalDue[d];
    for (let s = base; s < base + NETDEV_MC_MAX; s++) {
      const t = this.due[s];
      if (t !== 0 && (next === 0 || t < next)) next = t;
    }
    if (next === 0 || !dev.isUp || !dev.hasCarrier) this.#net.delTimer(this.#timers[d]);
    else this.#net.modTimer(this.#timers[d], next);
  }

  #find(base: number, group: number): number {
    for (let s = base; s < base + NETDEV_MC_MAX; s++) {
      if (group === 0 ? this.state[s] === SLOT_FREE : this.state[s] !== SLOT_FREE && this.group[s] === group) return s;
    }
    return -1;
  }

  #free(s: number): void {
    this.state[s] = SLOT_FREE;
    this.group[s] = 0;
    this.flags[s] = 0;
    this.retrans[s] = 0;
    this.due[s] = 0;
  }
}
