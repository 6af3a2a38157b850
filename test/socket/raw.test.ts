// Raw IP sockets: a ping client written by an app over them (it builds the echo requests
// and matches the replies itself), the IP header on receive, send with the stack's header
// and fragmentation, the bounded queue, ICMP errors, and bad arguments.
import { describe, expect, it } from "vitest";
import { rawSocketClass, type RawPacket, type RawSocket } from "../../src/socket/raw";
import { ICMP_ECHOREPLY, icmpId, icmpSeq, icmpType } from "../../src/wire/icmp";
import { formatIpv4, ipIhlBytes, ipProto, ipSaddr, ipTotLen, ipVersion } from "../../src/wire/ipv4";
import { makeWorld, seedFrom, withSeed } from "../helpers";
import { checksum, echoRequest, ip, ipFrame, ipOf, joinFragments, patternBytes } from "../packets";
import { HOST_IP, HOST_MAC, makeBench, PEER_IP, PEER_MAC } from "../testbed";

/**
 * The example: a ping client an app writes over a raw ICMP socket, as iputils ping does
 * over SOCK_RAW. It builds each echo request (type 8, id, seq, data, checksum) and matches
 * replies by id and sequence, checking their checksum and data byte for byte.
 */
class AppPing {
  readonly socket: RawSocket;
  readonly id: number;
  readonly sent = new Map<number, Uint8Array>();
  readonly replies = new Map<number, { from: string; bytes: number }>();
  bad = 0;
  others = 0;
  #seq = 0;

  constructor(Raw: ReturnType<typeof rawSocketClass>, id: number) {
    this.id = id;
    this.socket = new Raw({
      protocol: 1,
      target: this,
      onReadable(this: RawSocket, packets: number) {
        const app = this.target as AppPing;
        for (let i = 0; i < packets; i++) app.#onPacket(this.read() as RawPacket);
      },
    });
  }

  send(address: string, dataBytes: number): number {
    const seq = this.#seq++;
    const data = new Uint8Array(dataBytes).map((_, k) => ((8 + k) * 31 + seq) & 0xff);
    this.sent.set(seq, data);
    this.socket.write(echoRequest(this.id, seq, data), address);
    return seq;
  }

  #onPacket(p: RawPacket): void {
    const b = new Uint8Array(p);
    const icmp = b.subarray(ipIhlBytes(b, 0));
    // Linux SOCK_RAW gives every ICMP message for this host: keep only our echo replies.
    if (icmpType(icmp, 0) !== ICMP_ECHOREPLY || icmpId(icmp, 0) !== this.id) {
      this.others++;
      return;
    }
    const seq = icmpSeq(icmp, 0);
    const data = this.sent.get(seq);
    if (data === undefined || checksum(icmp) !== 0 || icmp.length - 8 !== data.length || icmp.subarray(8).some((v, k) => v !== data[k])) {
      this.bad++;
      return;
    }
    // The IP header is the one the reply came with.
    expect([ipVersion(b, 0), ipProto(b, 0), ipTotLen(b, 0), formatIpv4(ipSaddr(b, 0))]).toEqual([4, 1, b.length, p.address]);
    expect(p.protocol).toBe(1);
    this.replies.set(seq, { from: p.address, bytes: data.length });
  }
}

describe("raw IP sockets", () => {
  it("an app's ping over a raw ICMP socket: small and fragmented echoes, over a lossy link", () =>
    withSeed(seedFrom(41), (seed) => {
      const { world, a } = makeWorld(seed).twoHosts({ faults: { delayMs: 1, lossRate: 0.02 } });
      const ping = new AppPing(rawSocketClass(a.net), 0x4242);
      const sizes = [0, 56, 1472, 1473, 4000];
      for (let i = 0; i < 40; i++) {
        ping.send("10.0.0.2", sizes[i % sizes.length]);
        world.runFor(20);
      }
      world.runFor(1000);
      expect(ping.bad).toBe(0);
      expect(ping.replies.size).toBeGreaterThan(30);
      for (const [seq, r] of ping.replies) expect([r.from, r.bytes]).toEqual(["10.0.0.2", sizes[seq % sizes.length]]);
      // Every request went out as one datagram of protocol 1, fragmented by IP when large.
      expect(a.net.ipv4.raw.stats.outDatagrams).toBe(40);
      expect(a.net.ipv4.stats.fragOKs).toBe(16);
      // The stack's ICMP still counted the replies it saw after the socket did.
      expect(a.net.ipv4.icmp.stats.inEchoReps).toBe(ping.replies.size);
      ping.socket.close();
    }));

  it("reads a request as it came while the stack answers it from the same buffers", () =>
    withSeed(seedFrom(42), (seed) => {
      const { world, a, b } = makeWorld(seed).twoHosts({ faults: { delayMs: 1 } });
      const ping = new AppPing(rawSocketClass(a.net), 7);
      // b's socket reads only after b answered: it held clones of the requests meanwhile.
      const RawB = rawSocketClass(b.net);
      const watcher = new RawB({ protocol: 1 });
      ping.send("10.0.0.2", 100);
      world.runFor(50);
      ping.send("10.0.0.2", 3000); // reassembled on b: the socket holds a chain
      world.runFor(50);
      expect([...ping.replies.keys()]).toEqual([0, 1]);
      const seen: Uint8Array[] = [];
      let p: ArrayBuffer | undefined;
      while ((p = watcher.read()) !== undefined) seen.push(new Uint8Array(p));
      expect(seen.length).toBe(2);
      for (const [k, req] of seen.entries()) {
        const v = ipOf(req, 0);
        // Still the request (type 8) with its own header, though b replied in a copy.
        expect([v.src, v.dst, v.proto, v.totLen, v.frag, v.csumOk, req.length]).toEqual([ip("10.0.0.1"), ip("10.0.0.2"), 1, req.length, 0, true, 20 + 8 + [100, 3000][k]]);
        expect([v.payload[0], checksum(v.payload)]).toEqual([8, 0]);
      }
      expect(b.net.ipv4.icmp.stats.outEchoReps).toBe(2);
      watcher.close();
      ping.socket.close();
    }));

  it("gives the IP header with its options, and a reassembled datagram with its whole length", () => {
    const bench = makeBench();
    const Raw = rawSocketClass(bench.net);
    const s = new Raw({ protocol: 253 });
    bench.rx(ipFrame(HOST_MAC, PEER_MAC, { src: PEER_IP, dst: HOST_IP, proto: 253, ihlWords: 6, payload: new Uint8Array([1, 2, 3]) }));
    const p = s.read() as RawPacket;
    expect([p.byteLength, p.address, p.protocol]).toEqual([27, "10.0.0.2", 253]);
    expect([...new Uint8Array(p).subarray(24)]).toEqual([1, 2, 3]);
    const payload = patternBytes(3000, 5);
    for (const [off, len, mf] of [[0, 1480, true], [1480, 1480, true], [2960, 40, false]] as const) {
      bench.drv.inject(ipFrame(HOST_MAC, PEER_MAC, {
        src: PEER_IP, dst: HOST_IP, proto: 253, id: 9, frag: (mf ? 0x2000 : 0) | (off >> 3), payload: payload.subarray(off, off + len),
      }));
    }
    bench.run();
    const into = new Uint8Array(3020);
    expect(() => s.read(new Uint8Array(3019))).toThrow(/smaller than the 3020-byte datagram/);
    expect(s.read(into)).toBe(3020);
    const v = ipOf(into, 0);
    expect([v.totLen, v.frag, v.csumOk]).toEqual([3020, 0, true]);
    expect(into.subarray(20)).toEqual(payload);
    expect(s.read()).toBeUndefined();
    expect(s.read(into)).toBe(0);
    // A protocol only the raw socket speaks: no protocol unreachable went back.
    expect(bench.take()).toEqual([]);
    expect(bench.net.ipv4.stats.inUnknownProtos).toBe(0);
    s.close();
  });

  it("sends the payload as one datagram of its protocol, fragmented over the MTU, to itself through lo", () => {
    const bench = makeBench();
    const Raw = rawSocketClass(bench.net);
    const s = new Raw({ protocol: 253, timeToLive: 9 });
    s.write(new Uint8Array([9, 8, 7]), "10.0.0.2");
    let out = bench.take();
    expect(out.length).toBe(1);
    let v = ipOf(out[0]);
    expect([v.proto, v.src, v.dst, v.ttl, v.csumOk, [...v.payload]]).toEqual([253, HOST_IP, PEER_IP, 9, true, [9, 8, 7]]);
    const big = patternBytes(4000, 3);
    s.write(big.buffer as ArrayBuffer, "10.0.0.2");
    out = bench.take();
    expect(out.length).toBe(3);
    expect(joinFragments(out)).toEqual(big);
    // To one of our own addresses: through lo, and this socket reads it back.
    const got: number[] = [];
    const t = new Raw({ protocol: 254, onReadable: (n) => got.push(n) });
    t.write(new DataView(new Uint8Array([5, 5]).buffer), "127.0.0.1");
    bench.run();
    expect(got).toEqual([1]);
    const p = t.read() as RawPacket;
    expect([p.address, [...new Uint8Array(p).subarray(20)]]).toEqual(["127.0.0.1", [5, 5]]);
    expect(bench.net.ipv4.raw.stats.outDatagrams).toBe(3);
    s.close();
    t.close();
  });

  it("a full queue drops and counts; close drops what was never read and frees the place", () => {
    const bench = makeBench({ rawRxQueueMax: 3, rawHandlersMax: 1 });
    const Raw = rawSocketClass(bench.net);
    const counts: number[] = [];
    const s = new Raw({ protocol: 253, onReadable: (n) => counts.push(n) });
    for (let i = 0; i < 5; i++) bench.rx(ipFrame(HOST_MAC, PEER_MAC, { src: PEER_IP, dst: HOST_IP, proto: 253, payload: new Uint8Array([i]) }));
    expect(counts).toEqual([1, 2, 3]);
    expect(bench.net.ipv4.raw.stats).toMatchObject({ inDatagrams: 3, rcvbufErrors: 2 });
    expect(bench.net.drops.count("SOCKET_RCVBUFF")).toBe(2);
    expect(new Uint8Array(s.read() as ArrayBuffer)[20]).toBe(0);
    expect(bench.net.pool.inUse).toBe(2);
    expect(() => new Raw({ protocol: 1 })).toThrow(/rawHandlersMax is 1/);
    s.close();
    s.close(); // harmless twice
    expect(bench.net.drops.count("SOCKET_CLOSE")).toBe(2);
    expect(bench.net.pool.inUse).toBe(0);
    expect(() => s.read()).toThrow(/closed/);
    const again = new Raw({ protocol: 1 });
    again.close();
  });

  it("an ICMP error about its datagrams reaches a socket that asked, and only that one", () =>
    withSeed(seedFrom(43), (seed) => {
      const { world, a } = makeWorld(seed).twoHosts({ faults: { delayMs: 1 } });
      const Raw = rawSocketClass(a.net);
      const errors: string[] = [];
      const asks = new Raw({ protocol: 253, onError() { errors.push("asks"); } });
      const quiet = new Raw({ protocol: 253 });
      // b speaks no 253: protocol unreachable. (8 bytes at least: a quote shorter than the IP
      // header and 8 more bytes is dropped, as Linux does.)
      asks.write(new Uint8Array(8), "10.0.0.2");
      world.runFor(50);
      expect(errors).toEqual(["asks"]);
      expect(asks.readError()).toEqual({ reason: "ENOPROTOOPT", address: "10.0.0.2", from: "10.0.0.2", type: 3, code: 2 });
      expect(asks.readError()).toBeUndefined();
      expect(quiet.readError()).toBeUndefined();
      expect(a.net.ipv4.raw.stats.icmpErrors).toBe(1);
      asks.close();
      quiet.close();
    }));

  it("refuses bad arguments with errors that name them", () => {
    const bench = makeBench();
    const Raw = rawSocketClass(bench.net);
    expect(() => new Raw(undefined as unknown as { protocol: number })).toThrow(TypeError);
    expect(() => new Raw({} as { protocol: number })).toThrow(/protocol must be an integer in 0\.\.255, got undefined/);
    expect(() => new Raw({ protocol: 256 })).toThrow(RangeError);
    expect(() => new Raw({ protocol: -1 })).toThrow(RangeError);
    expect(() => new Raw({ protocol: 1.5 })).toThrow(RangeError);
    expect(() => new Raw({ protocol: 1, format: "number" as "buffer" })).toThrow(/format/);
    expect(() => new Raw({ protocol: 1, timeToLive: 0 })).toThrow(/timeToLive/);
    expect(() => new Raw({ protocol: 1, onReadable: 5 as unknown as () => void })).toThrow(TypeError);
    expect(() => new Raw({ protocol: 1, onError: "x" as unknown as () => void })).toThrow(/onError must be a function/);
    const s = new Raw({ protocol: 0 });
    expect(s.protocol).toBe(0);
    expect(s.format).toBe("buffer");
    expect(() => s.write("hello" as unknown as ArrayBuffer, "10.0.0.2")).toThrow(TypeError);
    expect(() => s.write(new ArrayBuffer(1), 5 as unknown as string)).toThrow(TypeError);
    expect(() => s.write(new ArrayBuffer(1), "300.1.1.1")).toThrow(/300\.1\.1\.1/);
    expect(() => s.write(new ArrayBuffer(1), "0.0.0.0")).toThrow(RangeError);
    expect(() => s.write(new ArrayBuffer(65516), "10.0.0.2")).toThrow(/65515/);
    expect(() => s.write(new ArrayBuffer(1), "192.168.7.7")).toThrow(/no route/);
    expect(() => s.read(5 as unknown as ArrayBuffer)).toThrow(TypeError);
    s.close();
    expect(() => s.write(new ArrayBuffer(1), "10.0.0.2")).toThrow(/closed/);
    expect(() => s.readError()).toThrow(/closed/);
    expect(bench.take()).toEqual([]);
  });

});
