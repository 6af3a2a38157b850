// Raw delivery (raw_local_deliver): before the L4 handler, every raw handler registered
// for the datagram's protocol sees it. The L4 handler still runs afterwards, as in Linux.

import type { Net } from "../core/net";
import type { SkBuff } from "../core/skb";

/**
 * Sees a local datagram: skb.networkHeader at the IP header, skb.data at the L4 header;
 * the bytes may continue in skb.fragNext. It must copy what it keeps and not free the skb.
 */
export type RawHandler = (net: Net, skb: SkBuff) => void;

export class RawTable {
  readonly #protocol: Int16Array;
  readonly #handler: (RawHandler | null)[];
  delivered = 0;

  constructor(size: number) {
    this.#protocol = new Int16Array(size).fill(-1);
    this.#handler = new Array<RawHandler | null>(size).fill(null);
  }

  /** Returns a handle for unregister. */
  register(protocol: number, handler: RawHandler): number {
    if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255) throw new RangeError(`raw: protocol ${protocol} is not in 0..255`);
    if (typeof handler !== "function") throw new TypeError("raw: handler must be a function");
    for (let i = 0; i < this.#protocol.length; i++) {
      if (this.#protocol[i] < 0) {
        this.#protocol[i] = protocol;
        this.#handler[i] = handler;
        return i;
      }
    }
    throw new RangeError(`raw: handler table full (config.rawHandlersMax is ${this.#protocol.length})`);
  }

  unregister(handle: number): void {
    if (handle >= 0 && handle < this.#protocol.length) {
      this.#protocol[handle] = -1;
      this.#handler[handle] = null;
    }
  }

  /** True when at least one raw handler took a copy. */
  deliver(net: Net, skb: SkBuff, protocol: number): boolean {
    let any = false;
    for (let i = 0; i < this.#protocol.length; i++) {
      if (this.#protocol[i] === protocol) {
        (this.#handler[i] as RawHandler)(net, skb);
        any = true;
        this.delivered++;
      }
    }
    return any;
  }
}
