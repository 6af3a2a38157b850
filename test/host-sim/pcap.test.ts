import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PcapWriter } from "../../host-sim/pcap";
import { ARPOP_REQUEST } from "../../src/wire/arp";
import { ETH_HLEN } from "../../src/wire/ethernet";
import { arpFrame, BCAST_MAC, ethFrame, ip, mac, padFrame } from "../packets";

const dir = mkdtempSync(join(tmpdir(), "xsnet-pcap-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function onPath(tool: string): boolean {
  try {
    execFileSync("which", [tool], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const MAC1 = mac("02:00:00:00:00:01");
const MAC2 = mac("02:00:00:00:00:02");
const ETH_P_TEST = 0x88b5; // IEEE local experimental ethertype

function writeThree(path: string, snaplen?: number): Uint8Array[] {
  const frames = [
    // An ARP request from 02:00:00:00:00:01 (10.0.0.1) for 10.0.0.2, padded to 60 bytes.
    padFrame(arpFrame(BCAST_MAC, ARPOP_REQUEST, MAC1, ip("10.0.0.1"), new Uint8Array(6), ip("10.0.0.2"))),
    ethFrame(MAC2, MAC1, ETH_P_TEST, new Uint8Array(100 - ETH_HLEN).fill(0x5a)),
    ethFrame(MAC1, MAC2, ETH_P_TEST, new Uint8Array(1514 - ETH_HLEN).fill(0x33)),
  ];
  const w = new PcapWriter(path, snaplen);
  // the middle frame sits at an offset inside a larger buffer
  const big = new Uint8Array(300);
  big.set(frames[1], 50);
  w.write(0, frames[0], 0, 60);
  w.write(1.5, big, 50, 100);
  w.write(2001.001, frames[2], 0, 1514); // 2 s + 1001 us
  expect(w.frames).toBe(3);
  w.close();
  w.close(); // idempotent
  expect(() => w.write(3000, frames[0], 0, 60)).toThrow(/after close/);
  return frames;
}

describe("PcapWriter", () => {
  it("writes the libpcap global header and record layout", () => {
    const path = join(dir, "three.pcap");
    const frames = writeThree(path);
    const b = readFileSync(path);
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    expect(v.getUint32(0, true)).toBe(0xa1b2c3d4);
    expect([b[0], b[1], b[2], b[3]]).toEqual([0xd4, 0xc3, 0xb2, 0xa1]);
    expect(v.getUint16(4, true)).toBe(2);
    expect(v.getUint16(6, true)).toBe(4);
    expect(v.getInt32(8, true)).toBe(0);
    expect(v.getUint32(12, true)).toBe(0);
    expect(v.getUint32(16, true)).toBe(65535);
    expect(v.getUint32(20, true)).toBe(1);
    const micros = [0, 1500, 2001001];
    let p = 24;
    for (let i = 0; i < 3; i++) {
      const sec = v.getUint32(p, true);
      const usec = v.getUint32(p + 4, true);
      expect(sec * 1e6 + usec).toBe(micros[i]);
      expect(usec).toBeLessThan(1e6);
      expect(v.getUint32(p + 8, true)).toBe(frames[i].length);
      expect(v.getUint32(p + 12, true)).toBe(frames[i].length);
      expect(Buffer.compare(b.subarray(p + 16, p + 16 + frames[i].length), Buffer.from(frames[i]))).toBe(0);
      p += 16 + frames[i].length;
    }
    expect(v.getUint32(24 + 16 + 60 + 16 + 100, true)).toBe(2);
    expect(v.getUint32(24 + 16 + 60 + 16 + 100 + 4, true)).toBe(1001);
    expect(p).toBe(b.length);
  });

  it("truncates to snaplen and keeps the original length", () => {
    const path = join(dir, "snap.pcap");
    writeThree(path, 64);
    const b = readFileSync(path);
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    expect(v.getUint32(16, true)).toBe(64);
    let p = 24;
    const lens = [60, 100, 1514];
    for (const len of lens) {
      const incl = Math.min(len, 64);
      expect(v.getUint32(p + 8, true)).toBe(incl);
      expect(v.getUint32(p + 12, true)).toBe(len);
      p += 16 + incl;
    }
    expect(p).toBe(b.length);
  });

  it("flushes in chunks: a capture larger than the buffer is complete", () => {
    const path = join(dir, "big.pcap");
    const w = new PcapWriter(path);
    const f = new Uint8Array(1514);
    for (let i = 0; i < 1000; i++) {
      f[20] = i & 0xff;
      w.write(i, f, 0, f.length);
    }
    w.close();
    const b = readFileSync(path);
    expect(b.length).toBe(24 + 1000 * (16 + 1514));
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (const i of [0, 171, 172, 999]) {
      const p = 24 + i * (16 + 1514);
      expect(v.getUint32(p, true) * 1000 + v.getUint32(p + 4, true) / 1000).toBe(i);
      expect(b[p + 16 + 20]).toBe(i & 0xff);
    }
  });

  it("is read by capinfos / tshark", (ctx) => {
    const path = join(dir, "tools.pcap");
    writeThree(path);
    let ran = false;
    if (onPath("capinfos")) {
      const out = execFileSync("capinfos", ["-c", "-M", path], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      expect(out).toMatch(/Number of packets:\s+3\b/);
      ran = true;
    }
    if (onPath("tshark")) {
      const out = execFileSync("tshark", ["-n", "-r", path], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      const lines = out.trim().split("\n");
      expect(lines.length).toBe(3);
      expect(lines[0]).toMatch(/ARP/);
      expect(lines[0]).toMatch(/Who has 10\.0\.0\.2\?/);
      ran = true;
    }
    if (!ran) {
      console.log("pcap.test: neither capinfos nor tshark is on PATH; skipping the external reader check");
      ctx.skip();
    }
  });
});
