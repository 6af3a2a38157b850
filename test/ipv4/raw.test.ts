import { describe, expect, it } from "vitest";
import { consumeSkb } from "../../src/core/free";
import type { RawHandler } from "../../src/ipv4/raw";
import { echoRequest, ipFrame, ipOf, patternBytes } from "../packets";
import { HOST_IP, HOST_MAC, makeBench, PEER_IP, PEER_MAC, skbBytes } from "../testbed";

describe("raw delivery (raw_local_deliver)", () => {
  it("a raw handler sees the datagram before L4, and L4 still runs", () => {
    const b = makeBench();
    const events: string[] = [];
    b.net.ipv4.raw.register(1, (net, skb) => {
      const buf = net.pool.buf;
      // Before icmp_rcv turned the request into the reply in place: still type 8.
      events.push(`raw type=${buf[skb.data]} l4off=${skb.data - skb.networkHeader} len=${skb.len}`);
    });
    b.net.ipv4.raw.register(200, () => events.push("raw 200"));
    b.net.ipv4.addProtocol(200, (net, skb) => {
      events.push("l4 200");
      consumeSkb(net, skb);
    });
    b.rx(ipFrame(HOST_MAC, PEER_MAC, { src: PEER_IP, dst: HOST_IP, proto: 1, payload: echoRequest(1, 1, new Uint8Array(24)) }));
    b.rx(ipFrame(HOST_MAC, PEER_MAC, { src: PEER_IP, dst: HOST_IP, proto: 200, payload: new Uint8Array(4) }));
    expect(events).toEqual(["raw type=8 l4off=20 len=32", "raw 200", "l4 200"]);
    const out = b.take();
    expect(out.length).toBe(1); // L4 (ICMP) answered the echo
    expect(ipOf(out[0]).payload[0]).toBe(0);
    expect(b.net.ipv4.raw.delivered).toBe(2);
    expect(b.net.ipv4.stats.inDelivers).toBe(2);
    expect(b.net.drops.total).toBe(0);
  });

  it("a protocol only raw handlers know is consumed, with no protocol unreachable", () => {
    const b = makeBench();
    const seen: number[] = [];
    b.net.ipv4.raw.register(99, (net, skb) => seen.push(net.pool.buf[skb.data]));
    const consumed = b.net.drops.consumed;
    b.rx(ipFrame(HOST_MAC, PEER_MAC, { src: PEER_IP, dst: HOST_IP, proto: 99, payload: new Uint8Array([42, 0, 0]) }));
    expect(seen).toEqual([42]);
    expect(b.take()).toEqual([]);
    expect(b.net.drops.total).toBe(0);
    expect(b.net.drops.consumed).toBe(consumed + 1);
    expect(b.net.ipv4.stats.inDelivers).toBe(1);
    expect(b.net.ipv4.stats.inUnknownProtos).toBe(0);
    expect(b.net.ipv4.icmp.stats.outMsgs).toBe(0);
  });

  it("every handler for the protocol sees it; a handler for another does not", () => {
    const b = makeBench({ rawHandlersMax: 3 });
    const seen: string[] = [];
    const mk = (name: string): RawHandler => () => {
      seen.push(name);
    };
    b.net.ipv4.raw.register(99, mk("a"));
    b.net.ipv4.raw.register(98, mk("x"));
    b.net.ipv4.raw.register(99, mk("b"));
    b.rx(ipFrame(HOST_MAC, PEER_MAC, { src: PEER_IP, dst: HOST_IP, proto: 99, payload: new Uint8Array(4) }));
    expect(seen).toEqual(["a", "b"]);
    expect(b.net.ipv4.raw.delivered).toBe(2);
  });

  it("a raw handler sees a reassembled datagram as a chain", () => {
    const b = makeBench();
    const payload = patternBytes(3000, 7);
    let got: Uint8Array | null = null;
    b.net.ipv4.raw.register(99, (net, skb) => {
      expect(skb.fragNext).not.toBeNull();
      got = skbBytes(net, skb);
    });
    for (const [off, len, mf] of [[0, 1480, true], [1480, 1480, true], [2960, 40, false]] as const) {
      b.drv.inject(ipFrame(HOST_MAC, PEER_MAC, {
        src: PEER_IP, dst: HOST_IP, proto: 99, id: 77, frag: (mf ? 0x2000 : 0) | (off >> 3), payload: payload.subarray(off, off + len),
      }));
    }
    b.run();
    expect(got).toEqual(payload);
  });

  it("the table is bounded; unregister frees a place; bad arguments throw", () => {
    const b = makeBench({ rawHandlersMax: 2 });
    const raw = b.net.ipv4.raw;
    const seen: string[] = [];
    expect(raw.bound).toBe(0);
    const h1 = raw.register(50, () => seen.push("h1"));
    raw.register(51, () => seen.push("h2"));
    expect(raw.bound).toBe(2);
    expect(() => raw.register(52, () => {})).toThrow(RangeError);
    expect(() => raw.register(52, () => {})).toThrow(/rawHandlersMax is 2/);
    raw.unregister(h1);
    raw.unregister(h1); // harmless twice
    raw.unregister(-1);
    expect(raw.bound).toBe(1); // what input reads to skip raw delivery when nothing is bound
    raw.register(50, () => seen.push("h3"));
    expect(raw.bound).toBe(2);
    expect(() => raw.register(256, () => {})).toThrow(RangeError);
    expect(() => raw.register(-1, () => {})).toThrow(RangeError);
    expect(() => raw.register(50, null as unknown as RawHandler)).toThrow(TypeError);
    b.rx(ipFrame(HOST_MAC, PEER_MAC, { src: PEER_IP, dst: HOST_IP, proto: 50, payload: new Uint8Array(4) }));
    expect(seen).toEqual(["h3"]);
  });
});
