import { describe, expect, it } from "vitest";
import { read16, read32, write16, write32 } from "../../src/wire/bytes";
import { hex, poisoned } from "./fixtures";

describe("byte helpers", () => {
  it("read and write big-endian, 32-bit values unsigned", () => {
    const buf = poisoned(8);
    write32(buf, 1, 0xdeadbeef);
    expect(buf).toEqual(hex("a5 de ad be ef a5 a5 a5"));
    expect(read32(buf, 1)).toBe(0xdeadbeef);
    write16(buf, 5, 0x1234);
    expect(read16(buf, 5)).toBe(0x1234);
    expect(buf[7]).toBe(0xa5);
    write32(buf, 0, -1); // stores the low 32 bits
    expect(read32(buf, 0)).toBe(0xffffffff);
    write16(buf, 0, 0x12345); // stores the low 16 bits
    expect(read16(buf, 0)).toBe(0x2345);
  });
});
