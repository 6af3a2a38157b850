import { describe, expect, it } from "vitest";
import { EventLoop } from "../../host-sim/sim/event-loop";
import { NO_FAULTS, SimLan, type LanEndpoint, type LinkFaults, type LinkStats } from "../../host-sim/sim/lan";
import { Prng } from "../../host-sim/sim/prng";
import { write32 } from "../../src/wire/bytes";
import { ETH_HLEN } from "../../src/wire/ethernet";
import { ethFrame } from "../packets";

const BROADCAST = 0xff;

function mac(i: number): number[] {
  return [0x02, 0, 0, 0, 0, i];
}

/** An Ethernet frame of ethertype 0x88b5 (local experimental): a 4-byte seq, then filler. */
function frame(dst: number[], src: number[], seq: number, len = 64): Uint8Array {
  const payload = new Uint8Array(len - ETH_HLEN).map((_, k) => (seq + ETH_HLEN + k) & 0xff);
  write32(payload, 0, seq);
  return ethFrame(Uint8Array.from(dst), Uint8Array.from(src), 0x88b5, payload);
}

function seqOf(f: Uint8Array): number {
  return new DataView(f.buffer, f.byteOffset).getUint32(14);
}

class Host implements LanEndpoint {
  readonly frames: Uint8Array[] = [];
  readonly times: number[] = [];
  port = -1;
  constructor(
    readonly loop: EventLoop,
    readonly trace: Trace | null = null,
  ) {}
  onFrame(buf: Uint8Array, off: number, len: number): void {
    this.frames.push(buf.slice(off, off + len));
    this.times.push(this.loop.now);
    if (this.trace) this.trace.add(this.loop.now, this.port, buf, off, len);
  }
  seqs(): number[] {
    return this.frames.map(seqOf);
  }
}

/** FNV-1a over (time, port, bytes) of every delivery. */
class Trace {
  h = 0x811c9dc5;
  count = 0;
  #byte(b: number): void {
    this.h = Math.imul(this.h ^ (b & 0xff), 0x01000193) >>> 0;
  }
  #word(w: number): void {
    for (let i = 0; i < 4; i++) this.#byte(w >>> (i * 8));
  }
  add(time: number, port: number, buf: Uint8Array, off: number, len: number): void {
    const us = Math.round(time * 1000);
    this.#word(us % 0x100000000);
    this.#word(Math.floor(us / 0x100000000));
    this.#word(port);
    this.#word(len);
    for (let i = 0; i < len; i++) this.#byte(buf[off + i]);
    this.count++;
  }
}

function setup(n: number, options: { seed?: number; faults?: Partial<LinkFaults>; framesMax?: number; trace?: Trace } = {}) {
  const loop = new EventLoop(1 << 16);
  const lan = new SimLan(loop, { seed: options.seed ?? 1, faults: options.faults, framesMax: options.framesMax });
  const hosts: Host[] = [];
  for (let i = 0; i < n; i++) {
    const h = new Host(loop, options.trace ?? null);
    h.port = lan.attach(h);
    hosts.push(h);
  }
  return { loop, lan, hosts };
}

const DROPS = ["lost", "filterDropped", "mtuDropped", "queueDropped", "poolDropped", "downDropped"] as const;

/** No frame disappears without a counter. */
function expectConserved(lan: SimLan, seed: number): void {
  expect(lan.inFlight, `frames still in flight; reproduce with seed=${seed}`).toBe(0);
  const check = (s: LinkStats, what: string) => {
    let dropped = 0;
    for (const k of DROPS) dropped += s[k];
    expect(s.delivered + dropped, `${what}: sent + duplicated != delivered + drops; reproduce with seed=${seed}`).toBe(
      s.sent + s.duplicated,
    );
  };
  for (let from = 0; from < lan.ports; from++) for (let to = 0; to < lan.ports; to++) if (from !== to) check(lan.stats(from, to), `${from}->${to}`);
  check(lan.totals(), "totals");
}

describe("SimLan switching", () => {
  it("floods unknown unicast, then learns and delivers to one port", () => {
    const { loop, lan, hosts } = setup(3);
    const [a, b, c] = hosts;
    lan.transmit(0, frame(mac(1), mac(0), 1), 0, 64); // B unknown: flood
    loop.runUntil(1);
    expect(a.frames.length).toBe(0);
    expect(b.seqs()).toEqual([1]);
    expect(c.seqs()).toEqual([1]);
    expect(lan.switchStats().flooded).toBe(1);

    lan.transmit(1, frame(mac(0), mac(1), 2), 0, 64); // A was learned on port 0
    loop.runUntil(2);
    expect(a.seqs()).toEqual([2]);
    expect(c.seqs()).toEqual([1]);

    lan.transmit(0, frame(mac(1), mac(0), 3), 0, 64); // B now learned on port 1
    loop.runUntil(3);
    expect(b.seqs()).toEqual([1, 3]);
    expect(c.seqs()).toEqual([1]);
    expect(lan.switchStats().flooded).toBe(1);
    expect(lan.lookupMac(new Uint8Array(mac(1)), 0)).toBe(1);
    expect(lan.lookupMac(new Uint8Array(mac(9)), 0)).toBe(-1);
    expect(lan.stats(0, 1)).toMatchObject({ sent: 2, delivered: 2 });
    expect(lan.stats(0, 2)).toMatchObject({ sent: 1, delivered: 1 });
    expectConserved(lan, 1);
  });

  it("floods broadcast and multicast to every other port, and never learns a multicast source", () => {
    const { loop, lan, hosts } = setup(4);
    lan.transmit(2, frame(Array(6).fill(BROADCAST), mac(2), 7), 0, 64);
    lan.transmit(1, frame([0x01, 0x00, 0x5e, 0, 0, 1], mac(1), 8), 0, 64);
    lan.transmit(3, frame(mac(0), [0x01, 0, 0, 0, 0, 3], 9), 0, 64);
    loop.runUntil(1);
    expect(hosts[0].seqs()).toEqual([7, 8, 9]);
    expect(hosts[1].seqs()).toEqual([7, 9]);
    expect(hosts[2].seqs()).toEqual([8, 9]);
    expect(hosts[3].seqs()).toEqual([7, 8]);
    expect(lan.lookupMac(new Uint8Array([0x01, 0, 0, 0, 0, 3]), 0)).toBe(-1);
    expect(lan.switchStats().flooded).toBe(3);
  });

  it("filters unicast back to the sending port, and counts runts and oversize frames", () => {
    const { loop, lan, hosts } = setup(2);
    lan.transmit(0, frame(mac(5), mac(0), 1), 0, 64);
    lan.transmit(0, frame(mac(0), mac(5), 2), 0, 64); // mac 0 lives on port 0
    lan.transmit(0, new Uint8Array(13), 0, 13);
    lan.transmit(0, new Uint8Array(2000), 0, 2000);
    expect(() => lan.transmit(0, new Uint8Array(10), 4, 10)).toThrow(RangeError);
    expect(() => lan.transmit(5, new Uint8Array(64), 0, 64)).toThrow(RangeError);
    loop.runUntil(1);
    expect(hosts[1].seqs()).toEqual([1]);
    expect(lan.switchStats()).toMatchObject({ transmitted: 4, filtered: 1, runtDropped: 1, oversizeDropped: 1 });
  });

  it("copies the frame in: the sender may reuse its buffer at once", () => {
    const { loop, lan, hosts } = setup(2);
    const f = frame(mac(1), mac(0), 1);
    lan.transmit(0, f, 0, 64);
    f.fill(0);
    loop.runUntil(1);
    expect(hosts[1].seqs()).toEqual([1]);
  });

  it("delivers from an event, so an endpoint can answer from onFrame", () => {
    const loop = new EventLoop(64);
    const lan = new SimLan(loop, { seed: 3, faults: { delayMs: 0.5 } });
    const got: number[] = [];
    let pong = -1;
    const pinger: LanEndpoint = { onFrame: (buf, off) => got.push(buf[off + 17]) };
    const echo: LanEndpoint = {
      onFrame(buf, off, len) {
        const reply = buf.slice(off, off + len);
        reply.copyWithin(0, 6, 12);
        reply.set(mac(1), 6);
        lan.transmit(pong, reply, 0, len);
      },
    };
    lan.attach(pinger);
    pong = lan.attach(echo);
    for (let i = 0; i < 5; i++) lan.transmit(0, frame(mac(1), mac(0), i), 0, 64);
    expect(got).toEqual([]); // nothing synchronous
    loop.runUntil(10);
    expect(got).toEqual([0, 1, 2, 3, 4]);
    expect(loop.now).toBe(10);
    expect(lan.inFlight).toBe(0);
  });

  it("gives every frame to onWire once, as transmitted", () => {
    const { loop, lan } = setup(3, { faults: { lossRate: 1 } });
    const seen: Array<[number, number, number]> = [];
    lan.onWire = (from, buf, off, len) => seen.push([loop.now, from, seqOf(buf.subarray(off, off + len))]);
    lan.transmit(0, frame(Array(6).fill(BROADCAST), mac(0), 1), 0, 64);
    loop.runUntil(5);
    lan.transmit(2, frame(mac(0), mac(2), 2), 0, 64);
    loop.runUntil(6);
    expect(seen).toEqual([
      [0, 0, 1],
      [5, 2, 2],
    ]);
    expect(lan.totals().lost).toBe(3);
  });
});

describe("SimLan MAC table", () => {
  it("counts MACs it has no room to learn, and floods frames to them", () => {
    const loop = new EventLoop(256);
    const lan = new SimLan(loop, { seed: 1, macsMax: 4 });
    const hosts = [new Host(loop), new Host(loop)];
    for (const h of hosts) h.port = lan.attach(h);
    for (let i = 0; i < 6; i++) lan.transmit(0, frame(Array(6).fill(BROADCAST), mac(10 + i), i), 0, 64);
    expect(lan.switchStats().macTableFull).toBe(2);
    expect(lan.lookupMac(new Uint8Array(mac(13)), 0)).toBe(0);
    expect(lan.lookupMac(new Uint8Array(mac(14)), 0)).toBe(-1);
    // a known MAC moving to another port is relearned
    lan.transmit(1, frame(Array(6).fill(BROADCAST), mac(10), 6), 0, 64);
    expect(lan.lookupMac(new Uint8Array(mac(10)), 0)).toBe(1);
    loop.runUntil(1);
    expect(lan.inFlight).toBe(0);
  });
});

describe("SimLan ports", () => {
  it("a down port neither sends nor receives, counted; in-flight frames to it are dropped", () => {
    const { loop, lan, hosts } = setup(3, { faults: { delayMs: 10 } });
    lan.transmit(1, frame(mac(0), mac(1), 0), 0, 64); // learn mac 1 on port 1
    loop.runUntil(20);
    lan.transmit(0, frame(mac(1), mac(0), 1), 0, 64); // in flight to port 1
    loop.runUntil(25);
    lan.setPortUp(1, false);
    expect(lan.isPortUp(1)).toBe(false);
    loop.runUntil(40);
    expect(hosts[1].seqs()).toEqual([]);
    expect(lan.stats(0, 1).downDropped).toBe(1);
    // the switch forgot mac 1: unknown unicast floods again; port 1 is down, counted
    expect(lan.lookupMac(new Uint8Array(mac(1)), 0)).toBe(-1);
    lan.transmit(0, frame(mac(1), mac(0), 2), 0, 64);
    // and the down port's own frames go nowhere
    lan.transmit(1, frame(mac(0), mac(1), 3), 0, 64);
    loop.runUntil(60);
    expect(hosts[2].seqs()).toEqual([0, 2]);
    expect(hosts[0].seqs()).toEqual([0]);
    expect(lan.stats(0, 1).downDropped).toBe(2);
    expect(lan.stats(1, 0).downDropped).toBe(1);
    expect(lan.lookupMac(new Uint8Array(mac(1)), 0)).toBe(-1); // not learned from a down port
    lan.setPortUp(1, true);
    lan.transmit(0, frame(mac(1), mac(0), 4), 0, 64);
    loop.runUntil(80);
    expect(hosts[1].seqs()).toEqual([4]);
    expectConserved(lan, 1);
  });

  it("rejects bad set-up", () => {
    const loop = new EventLoop();
    const lan = new SimLan(loop, { seed: 1, portsMax: 2 });
    lan.attach({ onFrame() {} });
    lan.attach({ onFrame() {} });
    expect(() => lan.attach({ onFrame() {} })).toThrow(/portsMax/);
    expect(() => lan.setFaults(0, 0, {})).toThrow(RangeError);
    expect(() => lan.setFaults(0, 2, {})).toThrow(RangeError);
    expect(() => lan.setFaults(0, 1, { lossRate: 1.5 })).toThrow(/lossRate/);
    expect(() => lan.setAllFaults({ mtu: 0 })).toThrow(/mtu/);
    expect(lan.faults(0, 1)).toEqual(NO_FAULTS);
    expect(() => new SimLan(loop, { seed: 1, framesMax: 0 })).toThrow(/framesMax/);
  });

  it("merges fault changes per direction, and setAllFaults reaches ports attached later", () => {
    const { lan } = setup(2);
    lan.setFaults(0, 1, { lossRate: 0.1 });
    lan.setFaults(0, 1, { delayMs: 3 });
    expect(lan.faults(0, 1)).toMatchObject({ lossRate: 0.1, delayMs: 3 });
    expect(lan.faults(1, 0)).toEqual(NO_FAULTS);
    lan.setAllFaults({ jitterMs: 2 });
    lan.attach({ onFrame() {} });
    expect(lan.faults(0, 1)).toMatchObject({ lossRate: 0.1, delayMs: 3, jitterMs: 2 });
    expect(lan.faults(2, 0)).toMatchObject({ lossRate: 0, jitterMs: 2 });
  });
});

describe("SimLan faults", () => {
  it("loses frames near the loss rate (10,000 frames)", () => {
    for (const seed of [1, 2, 3]) {
      const { loop, lan, hosts } = setup(2, { seed, faults: { lossRate: 0.1 } });
      const f = frame(Array(6).fill(BROADCAST), mac(0), 0);
      for (let i = 0; i < 10000; i++) {
        lan.transmit(0, f, 0, 64);
        loop.runUntil(loop.now + 0.1);
      }
      const s = lan.stats(0, 1);
      expect(s.sent).toBe(10000);
      expect(s.lost / 10000, `reproduce with seed=${seed}`).toBeGreaterThan(0.085);
      expect(s.lost / 10000, `reproduce with seed=${seed}`).toBeLessThan(0.115);
      expect(hosts[1].frames.length).toBe(10000 - s.lost);
      expectConserved(lan, seed);
    }
  });

  it("duplicates: each duplicate is delivered right after its original", () => {
    const seed = 4;
    const { loop, lan, hosts } = setup(2, { seed, faults: { duplicateRate: 0.2 } });
    for (let i = 0; i < 2000; i++) {
      lan.transmit(0, frame(mac(1), mac(0), i), 0, 64);
      loop.runUntil(loop.now + 1);
    }
    const s = lan.stats(0, 1);
    expect(s.duplicated, `seed=${seed}`).toBeGreaterThan(300);
    expect(s.duplicated, `seed=${seed}`).toBeLessThan(500);
    expect(s.delivered).toBe(2000 + s.duplicated);
    const seqs = hosts[1].seqs();
    let dups = 0;
    for (let i = 1; i < seqs.length; i++) {
      expect(seqs[i] === seqs[i - 1] || seqs[i] === seqs[i - 1] + 1, `order at ${i}, seed=${seed}`).toBe(true);
      if (seqs[i] === seqs[i - 1]) dups++;
    }
    expect(dups).toBe(s.duplicated);
    expectConserved(lan, seed);
  });

  it("corrupts: exactly one bit flipped in each corrupted frame", () => {
    const seed = 5;
    const { loop, lan, hosts } = setup(2, { seed, faults: { corruptRate: 0.1 } });
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 2000; i++) {
      const f = frame(mac(1), mac(0), i, 100);
      sent.push(f);
      lan.transmit(0, f, 0, f.length);
    }
    loop.runUntil(1);
    const got = hosts[1].frames;
    expect(got.length).toBe(2000);
    let flipped = 0;
    for (let i = 0; i < 2000; i++) {
      let bits = 0;
      for (let j = 0; j < 100; j++) {
        let x = got[i][j] ^ sent[i][j];
        while (x) {
          bits += x & 1;
          x >>>= 1;
        }
      }
      expect(bits <= 1, `frame ${i} seed=${seed}`).toBe(true);
      flipped += bits;
    }
    const s = lan.stats(0, 1);
    expect(flipped).toBe(s.corrupted);
    expect(s.corrupted).toBeGreaterThan(140);
    expect(s.corrupted).toBeLessThan(260);
  });

  it("jitter alone never reorders; reorderRate does, and is counted", () => {
    const inversions = (seqs: number[]) => {
      let n = 0;
      for (let i = 1; i < seqs.length; i++) if (seqs[i] < seqs[i - 1]) n++;
      return n;
    };
    const run = (faults: Partial<LinkFaults>, seed: number) => {
      const { loop, lan, hosts } = setup(2, { seed, faults });
      for (let i = 0; i < 1000; i++) {
        lan.transmit(0, frame(mac(1), mac(0), i), 0, 64);
        loop.runUntil(loop.now + 1);
      }
      loop.runUntil(loop.now + 100);
      expectConserved(lan, seed);
      return { seqs: hosts[1].seqs(), times: hosts[1].times, s: lan.stats(0, 1) };
    };
    const j = run({ delayMs: 2, jitterMs: 5 }, 6);
    expect(j.seqs.length).toBe(1000);
    expect(inversions(j.seqs)).toBe(0);
    expect(j.s.reordered).toBe(0);
    // the jitter is real: delays spread over [2, 7)
    const delays = j.times.map((t, i) => t - i);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...delays)).toBeLessThan(7 + 5);
    expect(new Set(delays.map((d) => Math.round(d))).size).toBeGreaterThan(3);

    const r = run({ delayMs: 2, reorderRate: 0.1, reorderDelayMs: 3.5 }, 7);
    expect(r.seqs.length).toBe(1000);
    expect(r.s.reordered).toBeGreaterThan(60);
    expect(r.s.reordered).toBeLessThan(140);
    // each held-back frame is overtaken by the next ones (frames 1 ms apart, held 3.5 ms)
    expect(inversions(r.seqs)).toBeGreaterThan(r.s.reordered * 0.8);
    expect([...r.seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it("serializes at the rate: 1500-byte frames at 12 Mbit/s arrive 1 ms apart", () => {
    const { loop, lan, hosts } = setup(2, { faults: { rateBps: 12_000_000, delayMs: 0.25 } });
    for (let i = 0; i < 5; i++) lan.transmit(0, frame(mac(1), mac(0), i, 1500), 0, 1500);
    loop.runUntil(100);
    expect(hosts[1].seqs()).toEqual([0, 1, 2, 3, 4]);
    const times = hosts[1].times;
    for (let i = 0; i < 5; i++) expect(times[i]).toBeCloseTo(1.25 + i, 9);
    // the link is idle again: a later frame waits for nothing
    lan.transmit(0, frame(mac(1), mac(0), 5, 750), 0, 750);
    loop.runUntil(200);
    expect(hosts[1].times[5]).toBeCloseTo(100.75, 9);
  });

  it("tail-drops past the queue limit", () => {
    const { loop, lan, hosts } = setup(2, { faults: { rateBps: 12_000_000, queueLimitMs: 10 } });
    for (let i = 0; i < 200; i++) lan.transmit(0, frame(mac(1), mac(0), i, 1500), 0, 1500);
    loop.runUntil(1000);
    // frame k starts after k ms of backlog: k = 0..10 fit
    expect(hosts[1].frames.length).toBe(11);
    expect(lan.stats(0, 1).queueDropped).toBe(189);
    expectConserved(lan, 1);
  });

  it("drops frames over the direction's MTU", () => {
    const { loop, lan, hosts } = setup(2);
    lan.setFaults(0, 1, { mtu: 1000 });
    lan.transmit(0, frame(mac(1), mac(0), 1, 1014), 0, 1014);
    lan.transmit(0, frame(mac(1), mac(0), 2, 1015), 0, 1015);
    lan.transmit(1, frame(mac(0), mac(1), 3, 1514), 0, 1514);
    lan.transmit(1, frame(mac(0), mac(1), 4, 1515), 0, 1515);
    loop.runUntil(1);
    expect(hosts[1].seqs()).toEqual([1]);
    expect(hosts[0].seqs()).toEqual([3]);
    expect(lan.stats(0, 1).mtuDropped).toBe(1);
    expect(lan.stats(1, 0).mtuDropped).toBe(1);
    expectConserved(lan, 1);
  });

  it("drops the frames dropFilter picks, per direction, counted, and leaves the other direction alone", () => {
    const faults = { delayMs: 1, lossRate: 0.2, duplicateRate: 0.1 };
    const run = (filter: boolean) => {
      const { loop, lan, hosts } = setup(2, { seed: 5, faults });
      const asked: string[] = [];
      if (filter) {
        lan.dropFilter = (from, to, buf, off, len) => {
          const seq = seqOf(buf.subarray(off, off + len));
          asked.push(`${from}->${to}:${seq}`);
          return from === 0 && seq % 10 === 3;
        };
      }
      for (let i = 0; i < 100; i++) {
        lan.transmit(0, frame(mac(1), mac(0), i), 0, 64);
        lan.transmit(1, frame(mac(0), mac(1), 1000 + i), 0, 64);
        loop.runUntil(loop.now + 1);
      }
      loop.runUntil(loop.now + 10);
      expectConserved(lan, 5);
      return { lan, hosts, asked };
    };
    const plain = run(false);
    const filtered = run(true);
    // asked once per delivery attempt, before the random loss
    expect(filtered.asked.length).toBe(200);
    expect(filtered.lan.stats(0, 1).filterDropped).toBe(10);
    expect(filtered.lan.stats(1, 0).filterDropped).toBe(0);
    expect(filtered.hosts[1].seqs().filter((s) => s % 10 === 3)).toEqual([]);
    // the other direction is untouched: same frames at the same times
    expect(filtered.hosts[0].seqs()).toEqual(plain.hosts[0].seqs());
    expect(filtered.hosts[0].times).toEqual(plain.hosts[0].times);
    // without the filter, some of those frames did arrive
    expect(plain.hosts[1].seqs().filter((s) => s % 10 === 3).length).toBeGreaterThan(0);
  });

  it("counts pool exhaustion instead of throwing, and the pool comes back full", () => {
    const { loop, lan, hosts } = setup(3, { framesMax: 8, faults: { delayMs: 10, duplicateRate: 0 } });
    for (let i = 0; i < 20; i++) lan.transmit(0, frame(Array(6).fill(BROADCAST), mac(0), i), 0, 64);
    expect(lan.inFlight).toBe(8);
    loop.runUntil(50);
    expect(hosts[1].frames.length + hosts[2].frames.length).toBe(8);
    expect(lan.totals()).toMatchObject({ sent: 40, delivered: 8, poolDropped: 32 });
    expect(lan.inFlight).toBe(0);
    // a duplicate that finds no buffer is counted too
    lan.setAllFaults({ duplicateRate: 1 });
    for (let i = 0; i < 10; i++) lan.transmit(1, frame(mac(0), mac(1), i), 0, 64);
    loop.runUntil(100);
    // frames 0..3 take two buffers each; 4..9 find none (and so are never duplicated)
    expect(lan.stats(1, 0)).toMatchObject({ sent: 10, duplicated: 4, delivered: 8, poolDropped: 6 });
    expectConserved(lan, 1);
    const small = setup(2, { framesMax: 3, faults: { duplicateRate: 1 } });
    small.lan.transmit(0, frame(mac(1), mac(0), 0), 0, 64);
    small.lan.transmit(0, frame(mac(1), mac(0), 1), 0, 64); // gets a buffer, its copy does not
    small.loop.runUntil(1);
    expect(small.hosts[1].seqs()).toEqual([0, 0, 1]);
    expect(small.lan.stats(0, 1)).toMatchObject({ sent: 2, duplicated: 2, delivered: 3, poolDropped: 1 });
    expectConserved(small.lan, 1);
  });
});

describe("SimLan determinism", () => {
  const FAULTS: Partial<LinkFaults> = {
    lossRate: 0.05,
    delayMs: 1,
    jitterMs: 2,
    reorderRate: 0.05,
    reorderDelayMs: 3,
    duplicateRate: 0.05,
    corruptRate: 0.05,
    rateBps: 4_000_000, // a 1514-byte frame takes 3 ms
    queueLimitMs: 2,
  };

  /** Three hosts chatter (unicast and broadcast) under faults; returns the delivery trace hash. */
  function scenario(seed: number): { hash: number; count: number; totals: LinkStats } {
    const trace = new Trace();
    const { loop, lan } = setup(3, { seed, faults: FAULTS, framesMax: 256, trace });
    lan.setFaults(2, 0, { lossRate: 0.2 }); // asymmetric
    // the traffic pattern comes from its own generator forked off the same seed
    const traffic = new Prng(seed).fork(0xffff);
    for (let i = 0; i < 3000; i++) {
      const from = traffic.nextInt(3);
      const to = traffic.chance(0.1) ? -1 : (from + 1 + traffic.nextInt(2)) % 3;
      const len = 60 + traffic.nextInt(1455);
      const f = frame(to < 0 ? Array(6).fill(BROADCAST) : mac(to), mac(from), i, len);
      lan.transmit(from, f, 0, len);
      loop.runUntil(loop.now + traffic.nextFloat() * 2);
    }
    loop.runUntil(loop.now + 1000);
    expectConserved(lan, seed);
    return { hash: trace.h, count: trace.count, totals: lan.totals() };
  }

  it("replays exactly from its seed", () => {
    for (const seed of [1, 0xdeadbeef]) {
      const a = scenario(seed);
      const b = scenario(seed);
      expect(b, `reproduce with seed=${seed}`).toEqual(a);
      // every fault fired
      for (const k of ["lost", "duplicated", "corrupted", "reordered", "queueDropped"] as const) {
        expect(a.totals[k], `${k} never happened, seed=${seed}`).toBeGreaterThan(0);
      }
    }
  });

  it("a different seed gives a different trace", () => {
    const a = scenario(1);
    const b = scenario(2);
    expect(b.hash).not.toBe(a.hash);
  });

  it("a fault on one direction does not move another direction's random choices", () => {
    const run = (extra: boolean) => {
      const { loop, lan, hosts } = setup(3, { seed: 9, faults: { lossRate: 0.3, jitterMs: 1 } });
      if (extra) lan.setFaults(0, 2, { corruptRate: 0.5, duplicateRate: 0.5 });
      for (let i = 0; i < 500; i++) {
        lan.transmit(0, frame(Array(6).fill(BROADCAST), mac(0), i), 0, 64);
        loop.runUntil(loop.now + 1);
      }
      return { seqs: hosts[1].seqs(), times: hosts[1].times };
    };
    expect(run(true)).toEqual(run(false));
  });
});
