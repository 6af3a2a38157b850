import { describe, expect, it } from "vitest";
import { consumeSkb } from "../../src/core/free";
import type { NetDevice } from "../../src/core/netdevice";
import type { SkBuff } from "../../src/core/skb";
import { EPERM, ipSend } from "../../src/ipv4/output";
import {
  NF_ACCEPT, NF_DROP, NF_HOOK_NAMES, NF_INET_FORWARD, NF_INET_LOCAL_IN, NF_INET_LOCAL_OUT, NF_INET_POST_ROUTING,
  NF_INET_PRE_ROUTING, NF_STOLEN, type NfHookFn,
} from "../../src/ipv4/netfilter";
import { echoRequest, ip, ipFrame, ipOf } from "../packets";
import { HOST_IP, HOST_MAC, makeBench, PEER_IP, PEER_MAC } from "../testbed";

const POINTS = [NF_INET_PRE_ROUTING, NF_INET_LOCAL_IN, NF_INET_FORWARD, NF_INET_LOCAL_OUT, NF_INET_POST_ROUTING];

/** An echo request from the peer to `dst`. */
function echoFrame(dst = HOST_IP, seq = 1): Uint8Array {
  return ipFrame(HOST_MAC, PEER_MAC, { src: PEER_IP, dst, proto: 1, payload: echoRequest(5, seq, new Uint8Array(16)) });
}

describe("netfilter hooks", () => {
  it("each hook point sees the packets that pass it, with their devices", () => {
    const b = makeBench({ ipForward: true });
    b.net.neigh.addPermanent(ip("10.0.0.99"), b.dev, PEER_MAC);
    const log: string[] = [];
    for (const p of POINTS) {
      b.net.ipv4.netfilter.register(p, (skb: SkBuff, inDev: NetDevice | null, outDev: NetDevice | null) => {
        const buf = b.net.pool.buf;
        expect(skb.data).toBe(skb.networkHeader); // hooks see the IP header at data
        const icmpType = buf[skb.networkHeader + 20];
        log.push(`${NF_HOOK_NAMES[p]} in=${inDev?.name ?? "-"} out=${outDev?.name ?? "-"} type=${icmpType} dst=${buf[skb.networkHeader + 19]}`);
        return NF_ACCEPT;
      });
    }
    // For us: PRE_ROUTING, LOCAL_IN; the reply: LOCAL_OUT, POST_ROUTING.
    b.rx(echoFrame());
    expect(log).toEqual([
      "PRE_ROUTING in=eth0 out=- type=8 dst=1",
      "LOCAL_IN in=eth0 out=- type=8 dst=1",
      "LOCAL_OUT in=- out=eth0 type=0 dst=2",
      "POST_ROUTING in=- out=eth0 type=0 dst=2",
    ]);
    log.length = 0;
    // Not for us, forwarding on: PRE_ROUTING, FORWARD, POST_ROUTING.
    b.rx(echoFrame(ip("10.0.0.99")));
    expect(log).toEqual([
      "PRE_ROUTING in=eth0 out=- type=8 dst=99",
      "FORWARD in=eth0 out=eth0 type=8 dst=99",
      "POST_ROUTING in=- out=eth0 type=8 dst=99",
    ]);
    const nf = b.net.ipv4.netfilter;
    expect(POINTS.map((p) => nf.verdictCount(p, NF_ACCEPT))).toEqual([2, 1, 1, 1, 2]);
    expect(b.take().length).toBe(2);
  });

  it("NF_DROP frees the packet as NETFILTER_DROP, stops later hooks, and is counted per point", () => {
    const b = makeBench();
    const nf = b.net.ipv4.netfilter;
    const calls: string[] = [];
    let dropSeq = 2;
    nf.register(NF_INET_LOCAL_IN, (skb) => {
      calls.push("first");
      const seq = b.net.pool.buf[skb.networkHeader + 20 + 7];
      return seq === dropSeq ? NF_DROP : NF_ACCEPT;
    });
    nf.register(NF_INET_LOCAL_IN, () => {
      calls.push("second");
      return NF_ACCEPT;
    });
    b.rx(echoFrame(HOST_IP, 1));
    b.rx(echoFrame(HOST_IP, 2));
    expect(calls).toEqual(["first", "second", "first"]);
    expect(b.net.drops.snapshot()).toEqual({ NETFILTER_DROP: 1 });
    expect(nf.verdictCount(NF_INET_LOCAL_IN, NF_DROP)).toBe(1);
    expect(nf.verdictCount(NF_INET_LOCAL_IN, NF_ACCEPT)).toBe(1);
    expect(nf.verdictCount(NF_INET_LOCAL_IN, NF_STOLEN)).toBe(0);
    const out = b.take();
    expect(out.length).toBe(1); // only the first request was answered
    expect(ipOf(out[0]).payload[7]).toBe(1);
    expect(b.net.ipv4.icmp.stats.inEchos).toBe(1);
    dropSeq = -1;
  });

  it("a drop at LOCAL_OUT makes ipSend return -EPERM", () => {
    const b = makeBench();
    const nf = b.net.ipv4.netfilter;
    nf.register(NF_INET_LOCAL_OUT, () => NF_DROP);
    const skb = b.net.pool.alloc() as SkBuff;
    skb.put(8);
    expect(ipSend(b.net, skb, 0, PEER_IP, 253, 0, 64, false)).toBe(-EPERM);
    expect(b.net.drops.snapshot()).toEqual({ NETFILTER_DROP: 1 });
    expect(nf.verdictCount(NF_INET_LOCAL_OUT, NF_DROP)).toBe(1);
    expect(b.take()).toEqual([]);
    expect(b.net.pool.inUse).toBe(0);
  });

  it("a drop at POST_ROUTING stops the frame after routing", () => {
    const b = makeBench();
    b.net.ipv4.netfilter.register(NF_INET_POST_ROUTING, () => NF_DROP);
    b.rx(echoFrame());
    expect(b.net.ipv4.icmp.stats.outEchoReps).toBe(1);
    expect(b.take()).toEqual([]);
    expect(b.net.drops.snapshot()).toEqual({ NETFILTER_DROP: 1 });
  });

  it("NF_STOLEN hands the packet to the hook, which frees it later", () => {
    const b = makeBench();
    const nf = b.net.ipv4.netfilter;
    const stolen: SkBuff[] = [];
    nf.register(NF_INET_PRE_ROUTING, (skb) => {
      stolen.push(skb);
      return NF_STOLEN;
    });
    b.rx(echoFrame());
    expect(stolen.length).toBe(1);
    expect(nf.verdictCount(NF_INET_PRE_ROUTING, NF_STOLEN)).toBe(1);
    expect(b.net.drops.total).toBe(0);
    expect(b.net.ipv4.icmp.stats.inMsgs).toBe(0); // it went no further
    expect(b.take()).toEqual([]);
    expect(b.net.pool.inUse).toBe(1); // the hook owns it now
    consumeSkb(b.net, stolen[0]);
    expect(b.net.pool.inUse).toBe(0);
  });

  it("holds config.nfHooksPerPoint hooks per point; unregister makes room", () => {
    const b = makeBench({ nfHooksPerPoint: 2 });
    const nf = b.net.ipv4.netfilter;
    const order: string[] = [];
    const h = (name: string): NfHookFn => () => {
      order.push(name);
      return NF_ACCEPT;
    };
    const a = h("a");
    const c = h("c");
    nf.register(NF_INET_LOCAL_IN, a);
    nf.register(NF_INET_LOCAL_IN, h("b"));
    expect(() => nf.register(NF_INET_LOCAL_IN, c)).toThrow(RangeError);
    expect(() => nf.register(NF_INET_LOCAL_IN, c)).toThrow(/LOCAL_IN has 2 hooks/);
    nf.register(NF_INET_LOCAL_OUT, c); // another point has its own places
    expect(() => nf.register(5, c)).toThrow(RangeError);
    expect(() => nf.register(-1, c)).toThrow(RangeError);
    expect(() => nf.register(NF_INET_FORWARD, null as unknown as NfHookFn)).toThrow(TypeError);
    expect(nf.registered).toBe(3);
    nf.unregister(NF_INET_LOCAL_IN, a);
    nf.unregister(NF_INET_LOCAL_IN, a); // not there any more: nothing changes
    expect(nf.registered).toBe(2);
    nf.register(NF_INET_LOCAL_IN, h("d"));
    b.rx(echoFrame());
    expect(order).toEqual(["b", "d", "c"]);
  });

  it("with every hook unregistered, the paths skip netfilter and count no verdict", () => {
    const b = makeBench();
    const nf = b.net.ipv4.netfilter;
    const seen: string[] = [];
    const hook: NfHookFn = () => {
      seen.push("in");
      return NF_ACCEPT;
    };
    nf.register(NF_INET_LOCAL_IN, hook);
    b.rx(echoFrame());
    expect([seen.length, nf.verdictCount(NF_INET_LOCAL_IN, NF_ACCEPT)]).toEqual([1, 1]);
    nf.unregister(NF_INET_LOCAL_IN, hook);
    expect(nf.registered).toBe(0);
    b.rx(echoFrame());
    expect([seen.length, nf.verdictCount(NF_INET_LOCAL_IN, NF_ACCEPT)]).toEqual([1, 1]);
    expect(b.net.ipv4.icmp.stats.outEchoReps).toBe(2); // both answered
  });
});
