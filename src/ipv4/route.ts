// The IPv4 routing table (FIB): fixed entries, longest-prefix match, then lowest metric.
// A connected route is added with each interface address; a default route is prefix 0.

import type { NetDevice } from "../core/netdevice";
import { formatIpv4, prefixMask } from "../wire/ipv4";

// What ip_route_input decided (Linux RTN_*), kept in the skb's control block for the layers
// above (IPCB_RT_TYPE).
export const RTN_UNREACHABLE = 0;
export const RTN_LOCAL = 1;
export const RTN_BROADCAST = 2;
export const RTN_MULTICAST = 3;
export const RTN_FORWARD = 4;

/**
 * The cb word where IP input leaves its route decision for L4 (Linux's IPCB(skb) and
 * rt_type): reassembly's words (0, 1) leave it alone, and TCP reads it before its own
 * control block takes the words over (as tcp_v4_fill_cb moves IPCB aside).
 */
export const IPCB_RT_TYPE = 2;

export class RouteTable {
  readonly size: number;
  readonly dst: Uint32Array;
  readonly mask: Uint32Array;
  readonly prefixLen: Uint8Array;
  /** 0: on-link (the destination itself is the next hop) */
  readonly gateway: Uint32Array;
  readonly metric: Uint32Array;
  readonly dev: (NetDevice | null)[];
  /** connected route made by an address, removed with it */
  readonly connected: Uint8Array;
  count = 0;

  constructor(size: number) {
    this.size = size;
    this.dst = new Uint32Array(size);
    this.mask = new Uint32Array(size);
    this.prefixLen = new Uint8Array(size);
    this.gateway = new Uint32Array(size);
    this.metric = new Uint32Array(size);
    this.dev = new Array<NetDevice | null>(size).fill(null);
    this.connected = new Uint8Array(size);
  }

  /** Add or replace the route for (dst, prefixLen, metric). */
  add(dst: number, prefixLen: number, gateway: number, dev: NetDevice, metric: number, connected = gateway === 0 && prefixLen > 0): void {
    if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > 32) throw new RangeError(`route prefix length ${prefixLen} is not in 0..32`);
    if (!Number.isInteger(metric) || metric < 0) throw new RangeError(`route metric ${metric} must be an integer >= 0`);
    const mask = prefixMask(prefixLen);
    let i = 0;
    for (; i < this.count; i++) if (this.dst[i] === ((dst & mask) >>> 0) && this.prefixLen[i] === prefixLen && this.metric[i] === metric) break;
    if (i === this.count) {
      if (this.count >= this.size) throw new RangeError(`routing table full: config.routesMax is ${this.size}`);
      this.count++;
    }
    this.dst[i] = (dst & mask) >>> 0;
    this.mask[i] = mask;
    this.prefixLen[i] = prefixLen;
    this.gateway[i] = gateway >>> 0;
    this.metric[i] = metric;
    this.dev[i] = dev;
    this.connected[i] = connected ? 1 : 0;
  }

  #remove(i: number): void {
    const last = --this.count;
    this.dst[i] = this.dst[last];
    this.mask[i] = this.mask[last];
    this.prefixLen[i] = this.prefixLen[last];
    this.gateway[i] = this.gateway[last];
    this.metric[i] = this.metric[last];
    this.dev[i] = this.dev[last];
    this.connected[i] = this.connected[last];
    this.dev[last] = null;
  }

  del(dst: number, prefixLen: number): boolean {
    for (let i = 0; i < this.count; i++) {
      if (this.dst[i] === dst >>> 0 && this.prefixLen[i] === prefixLen) {
        this.#remove(i);
        return true;
      }
    }
    return false;
  }

  /** Remove the route (dst, prefixLen, gateway, dev, metric) only: one a DHCP lease added. */
  delExact(dst: number, prefixLen: number, gateway: number, dev: NetDevice, metric: number): boolean {
    for (let i = 0; i < this.count; i++) {
      if (this.dst[i] === dst >>> 0 && this.prefixLen[i] === prefixLen && this.gateway[i] === gateway >>> 0 && this.dev[i] === dev && this.metric[i] === metric) {
        this.#remove(i);
        return true;
      }
    }
    return false;
  }

  delConnected(dev: NetDevice): void {
    for (let i = this.count - 1; i >= 0; i--) if (this.dev[i] === dev && this.connected[i] === 1) this.#remove(i);
  }

  /** fib_lookup: index of the best route to daddr over an interface that is up, or -1. */
  lookup(daddr: number): number {
    let best = -1;
    let bestLen = -1;
    let bestMetric = 0;
    for (let i = 0; i < this.count; i++) {
      if (((daddr & this.mask[i]) >>> 0) !== this.dst[i]) continue;
      const d = this.dev[i] as NetDevice;
      if (!d.isUp) continue;
      const len = this.prefixLen[i];
      if (len > bestLen || (len === bestLen && this.metric[i] < bestMetric)) {
        best = i;
        bestLen = len;
        bestMetric = this.metric[i];
      }
    }
    return best;
  }

  /** Routes as text lines (diagnostics; allocates). */
  dump(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.count; i++) {
      const via = this.gateway[i] === 0 ? "" : ` via ${formatIpv4(this.gateway[i])}`;
      const dst = this.prefixLen[i] === 0 ? "default" : `${formatIpv4(this.dst[i])}/${this.prefixLen[i]}`;
      out.push(`${dst}${via} dev ${(this.dev[i] as NetDevice).name} metric ${this.metric[i]}`);
    }
    return out;
  }
}
