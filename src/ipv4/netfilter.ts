// Netfilter-style hook points (nf_hook): a fixed table of hook functions per point, run
// in order; the first verdict other than ACCEPT decides. Verdicts are counted per point.

import { SKB_DROP } from "../core/drop";
import { kfreeSkbReason } from "../core/free";
import type { Net } from "../core/net";
import type { NetDevice } from "../core/netdevice";
import type { SkBuff } from "../core/skb";

export const NF_INET_PRE_ROUTING = 0;
export const NF_INET_LOCAL_IN = 1;
export const NF_INET_FORWARD = 2;
export const NF_INET_LOCAL_OUT = 3;
export const NF_INET_POST_ROUTING = 4;
const NF_INET_NUMHOOKS = 5;
export const NF_HOOK_NAMES = Object.freeze(["PRE_ROUTING", "LOCAL_IN", "FORWARD", "LOCAL_OUT", "POST_ROUTING"] as const);

export const NF_DROP = 0;
export const NF_ACCEPT = 1;
/** the hook took the skb (it now owns it and must free it) */
export const NF_STOLEN = 2;

/**
 * A hook sees an IPv4 datagram (skb.networkHeader at its IP header, skb.data at the IP
 * header too) and returns NF_ACCEPT, NF_DROP or NF_STOLEN. It must not free the skb
 * unless it returns NF_STOLEN.
 */
export type NfHookFn = (skb: SkBuff, inDev: NetDevice | null, outDev: NetDevice | null) => number;

export class Netfilter {
  readonly #net: Net;
  readonly #hooks: (NfHookFn | null)[];
  readonly #perPoint: number;
  readonly #count: Uint8Array;
  /** verdicts[point * 3 + verdict] */
  readonly verdicts: Uint32Array;
  /**
   * Hooks registered at all points: while 0, the IP paths skip run() altogether (Linux's
   * nf_hooks_needed static keys do the same).
   */
  registered = 0;

  constructor(net: Net) {
    this.#net = net;
    this.#perPoint = net.config.nfHooksPerPoint;
    this.#hooks = new Array<NfHookFn | null>(NF_INET_NUMHOOKS * this.#perPoint).fill(null);
    this.#count = new Uint8Array(NF_INET_NUMHOOKS);
    this.verdicts = new Uint32Array(NF_INET_NUMHOOKS * 3);
  }

  /** nf_register_net_hook; the table has config.nfHooksPerPoint places per point. */
  register(point: number, fn: NfHookFn): void {
    if (!(point >= 0 && point < NF_INET_NUMHOOKS)) throw new RangeError(`netfilter: no hook point ${point}`);
    if (typeof fn !== "function") throw new TypeError("netfilter: hook must be a function");
    const n = this.#count[point];
    if (n >= this.#perPoint) throw new RangeError(`netfilter: ${NF_HOOK_NAMES[point]} has ${n} hooks, config.nfHooksPerPoint is ${this.#perPoint}`);
    this.#hooks[point * this.#perPoint + n] = fn;
    this.#count[point] = n + 1;
    this.registered++;
  }

  unregister(point: number, fn: NfHookFn): void {
    const base = point * this.#perPoint;
    const n = this.#count[point];
    for (let i = 0; i < n; i++) {
      if (this.#hooks[base + i] === fn) {
        for (let j = i; j < n - 1; j++) this.#hooks[base + j] = this.#hooks[base + j + 1];
        this.#hooks[base + n - 1] = null;
        this.#count[point] = n - 1;
        this.registered--;
        return;
      }
    }
  }

  /** nf_hook: true when the packet goes on; otherwise it was dropped (freed) or stolen. */
  run(point: number, skb: SkBuff, inDev: NetDevice | null, outDev: NetDevice | null): boolean {
    const n = this.#count[point];
    if (n === 0) return true;
    const base = point * this.#perPoint;
    for (let i = 0; i < n; i++) {
      const verdict = (this.#hooks[base + i] as NfHookFn)(skb, inDev, outDev);
      if (verdict === NF_ACCEPT) continue;
      if (verdict === NF_STOLEN) {
        this.verdicts[point * 3 + NF_STOLEN]++;
        return false;
      }
      this.verdicts[point * 3 + NF_DROP]++;
      kfreeSkbReason(this.#net, skb, SKB_DROP.NETFILTER_DROP);
      return false;
    }
    this.verdicts[point * 3 + NF_ACCEPT]++;
    return true;
  }

  verdictCount(point: number, verdict: number): number {
    return this.verdicts[point * 3 + verdict];
  }
}
