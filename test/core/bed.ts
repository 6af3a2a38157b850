// The bench of the tests of src/core/dev.ts, link.ts and softirq.ts: a stack with fake
// interfaces and a handler for a test ethertype that records what reaches it, and frames
// and skbs whose first payload byte is a marker.

import type { NetConfig } from "../../src/config";
import { devAddPack } from "../../src/core/link";
import { consumeSkb } from "../../src/core/free";
import type { Net } from "../../src/core/net";
import type { NetDevice } from "../../src/core/netdevice";
import type { SkBuff } from "../../src/core/skb";
import { ETH_HLEN } from "../../src/wire/ethernet";
import { ethFrame, mac } from "../packets";
import { fakeStack, PEER_MAC } from "../testbed";

export const ETH_P_TEST = 0x88b5; // IEEE local experimental ethertype
export const MAC0 = mac("02:00:00:00:00:10");
export const MAC1 = mac("02:00:00:00:00:11");

export interface Seen {
  dev: string;
  marker: number;
  pktType: number;
  len: number;
}

/** A stack with up to two fake interfaces, up with carrier, and a handler for ETH_P_TEST. */
export function setup(config: Partial<NetConfig> = {}, devices = 1) {
  const { net, platform, devs } = fakeStack(config, [MAC0, MAC1].slice(0, devices), { label: "dev" });
  const seen: Seen[] = [];
  devAddPack(net, ETH_P_TEST, (n, skb) => {
    // skb.data is past the Ethernet header; the marker is the first payload byte.
    seen.push({ dev: (skb.dev as NetDevice).name, marker: n.pool.buf[skb.data], pktType: skb.pktType, len: skb.len });
    consumeSkb(n, skb);
  });
  platform.requests.length = 0;
  return { net, platform, devs, seen };
}

/** A test frame to `dst` from `src` whose first payload byte is `marker`. */
export function frame(dst: Uint8Array, src: Uint8Array, marker: number, payloadLen = 46, type = ETH_P_TEST): Uint8Array {
  const payload = new Uint8Array(payloadLen).fill(0x5a);
  payload[0] = marker;
  return ethFrame(dst, src, type, payload);
}

/** An outgoing skb on dev: Ethernet header to PEER_MAC, marker in the first payload byte. */
export function txSkb(net: Net, dev: NetDevice, marker: number, priority = 0): SkBuff {
  const skb = net.pool.alloc() as SkBuff;
  const bytes = frame(PEER_MAC, dev.addr, marker);
  net.pool.buf.set(bytes, skb.put(bytes.length));
  skb.dev = dev;
  skb.priority = priority;
  return skb;
}

/** The markers of frames made by frame(). */
export const markers = (frames: Uint8Array[]): number[] => frames.map((f) => f[ETH_HLEN]);
