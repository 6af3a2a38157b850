// A small IGMP querier for simulated LANs (RFC 2236 3, RFC 3376 6.1, only what a scenario
// needs: no election, no group state). It sends General and Group-Specific Queries of
// version 1, 2 or 3 from a host's stack, and counts the reports it hears through an
// ETH_P_ALL tap, its device promiscuous as a multicast router listens to every group.
// Node-free: this file also runs inside XS.

import { addTap, removeTap } from "../../src/core/link";
import type { Net } from "../../src/core/net";
import { IFF_PROMISC, type NetDevice } from "../../src/core/netdevice";
import type { SkBuff } from "../../src/core/skb";
import { ipAllocDatagram, ipSendDev } from "../../src/ipv4/output";
import { read16, read32, write32 } from "../../src/wire/bytes";
import { ETH_HLEN, ETH_P_IP, ethType } from "../../src/wire/ethernet";
import {
  IGMP_ALL_HOSTS, IGMP_MEMBERSHIP_QUERY, IGMP_V1_MEMBERSHIP_REPORT, IGMP_V2_LEAVE_GROUP, IGMP_V2_MEMBERSHIP_REPORT,
  IGMP_V3_MEMBERSHIP_REPORT, IGMP_V3_QUERY_MIN, IGMP_HLEN, igmpFinish,
} from "../../src/wire/igmp";
import { IPPROTO_IGMP, ipIhlBytes, ipProto } from "../../src/wire/ipv4";

export class SimIgmpQuerier {
  readonly net: Net;
  readonly dev: NetDevice;
  queries = 0;
  v1Reports = 0;
  v2Reports = 0;
  v3Reports = 0;
  leaves = 0;
  /** v3 group records heard, by record type (1..6) */
  readonly v3Records = [0, 0, 0, 0, 0, 0, 0];
  /** the group of the last report or leave heard */
  lastGroup = 0;
  readonly #tap: (dev: NetDevice, skb: SkBuff, outgoing: boolean) => void;

  constructor(net: Net, dev: NetDevice) {
    this.net = net;
    this.dev = dev;
    this.#tap = (d, skb, outgoing) => {
      if (!outgoing && d === dev) this.#heard(skb);
    };
    addTap(net, this.#tap);
    dev.flags |= IFF_PROMISC;
    dev.ops.setRxMode(dev);
  }

  /** A query of `version` for `group` (0: general) to 224.0.0.1 (general) or the group. */
  query(version: number, group = 0, maxRespTenths = 100): void {
    const net = this.net;
    const len = version === 3 ? IGMP_V3_QUERY_MIN : IGMP_HLEN;
    const skb = ipAllocDatagram(net, len, this.dev.mtu);
    if (skb === null) return;
    const buf = net.pool.buf;
    const at = skb.data;
    buf[at] = IGMP_MEMBERSHIP_QUERY;
    buf[at + 1] = version === 1 ? 0 : maxRespTenths;
    write32(buf, at + 4, group);
    if (version === 3) write32(buf, at + 8, (2 << 24) | (125 << 16)); // QRV 2, QQIC 125 s, no sources
    igmpFinish(buf, at, len);
    this.queries++;
    ipSendDev(net, skb, this.dev.inDev.addr, group === 0 ? IGMP_ALL_HOSTS : group, IPPROTO_IGMP, 1, this.dev, true);
  }

  close(): void {
    removeTap(this.net, this.#tap);
  }

  #heard(skb: SkBuff): void {
    const buf = this.net.pool.buf;
    const f = skb.data;
    if (skb.len < ETH_HLEN + 20 + IGMP_HLEN || ethType(buf, f) !== ETH_P_IP || ipProto(buf, f + ETH_HLEN) !== IPPROTO_IGMP) return;
    const at = f + ETH_HLEN + ipIhlBytes(buf, f + ETH_HLEN);
    const type = buf[at];
    if (type === IGMP_V1_MEMBERSHIP_REPORT) this.v1Reports++;
    else if (type === IGMP_V2_MEMBERSHIP_REPORT) this.v2Reports++;
    else if (type === IGMP_V2_LEAVE_GROUP) this.leaves++;
    else if (type === IGMP_V3_MEMBERSHIP_REPORT) {
      this.v3Reports++;
      let o = at + IGMP_HLEN;
      const end = f + skb.len;
      for (let n = read16(buf, at + 6); n > 0 && o + 8 <= end; n--) {
        const recordType = buf[o];
        if (recordType >= 1 && recordType <= 6) this.v3Records[recordType]++;
        this.lastGroup = read32(buf, o + 4);
        o += 8 + 4 * (buf[o + 1] + read16(buf, o + 2));
      }
      return;
    } else return;
    this.lastGroup = read32(buf, at + 4);
  }
}
