// The SPI bus and GPIO models behave as Moddable's ESP32 classes do: chip select held across
// calls until flush(true), write() sampled when clocked, bytes that take bus time.
import { describe, expect, it } from "vitest";
import { EventLoop } from "../../host-sim/sim/event-loop";
import { SimGpio, SimSpiBus, type SimSpiTarget } from "../../host-sim/sim/spi-bus";

/** the ESP32 VSPI pins: SCLK, MISO, MOSI */
const PINS_SPI = { clock: 18, in: 19, out: 23 };

class Recorder implements SimSpiTarget {
  log: string[] = [];
  /** MISO: each byte's complement */
  spiSelect(): void { this.log.push("select"); }
  spiClock(buf: Uint8Array, off: number, len: number, duplex: boolean): void {
    this.log.push(`${duplex ? "xfer" : "write"} ${Array.from(buf.subarray(off, off + len)).join(",")}`);
    if (duplex) for (let i = off; i < off + len; i++) buf[i] = ~buf[i] & 0xff;
  }
  spiDeselect(): void { this.log.push("deselect"); }
}

function bus(overheadUs = 0) {
  const loop = new EventLoop(64);
  const cpu = { busyUntil: 0 };
  const b = new SimSpiBus(loop, cpu, { callOverheadUs: overheadUs });
  const chip = new Recorder();
  const other = new Recorder();
  b.attach(5, chip, 20_000_000);
  b.attach(7, new Recorder(), 80_000_000);
  b.attach(6, other, 20_000_000);
  return { loop, cpu, b, chip, other };
}

describe("SimSpiBus", () => {
  it("holds chip select across calls until flush(true)", () => {
    const { b, chip } = bus();
    const spi = new b.io({ ...PINS_SPI, select: 5, hz: 10_000_000 });
    const buf = new Uint8Array([1, 2]);
    spi.transfer(buf);
    spi.read(buf);
    spi.flush();
    expect(chip.log).toEqual(["select", "xfer 1,2", "xfer 254,253"]);
    spi.flush(true);
    expect(chip.log.at(-1)).toBe("deselect");
    expect(b.stats(5)).toMatchObject({ calls: 2, frames: 1, bytes: 4 });
  });

  it("clocks a write's bytes later: a buffer changed before the next call goes out changed", () => {
    const { b, chip } = bus();
    const spi = new b.io({ ...PINS_SPI, select: 5, hz: 10_000_000 });
    const buf = new Uint8Array([7, 7]);
    spi.write(buf);
    buf[1] = 9;
    spi.flush(true);
    expect(chip.log).toEqual(["select", "write 7,9", "deselect"]);
    expect(buf[0]).toBe(7); // a write leaves the buffer alone
  });

  it("releases one chip's select when another instance on the bus is used", () => {
    const { b, chip, other } = bus();
    const s5 = new b.io({ ...PINS_SPI, select: 5, hz: 1_000_000 });
    const s6 = new b.io({ ...PINS_SPI, select: 6, hz: 1_000_000 });
    s5.write(new Uint8Array([1]));
    s6.transfer(new Uint8Array([2]));
    expect(chip.log).toEqual(["select", "write 1", "deselect"]);
    expect(other.log).toEqual(["select", "xfer 2"]);
  });

  it("keeps the CPU busy for the bytes at hz plus the per-call overhead", () => {
    const { b, cpu } = bus(10);
    const spi = new b.io({ ...PINS_SPI, select: 5, hz: 8_000_000 });
    spi.transfer(new Uint8Array(1000)); // 8000 bits at 8 MHz: 1 ms, + 10 us
    expect(cpu.busyUntil).toBeCloseTo(1.01, 9);
    expect(b.now).toBeCloseTo(1.01, 9);
  });

  it("refuses a clock faster than the chip takes and a select pin with no chip", () => {
    const { b } = bus();
    expect(() => new b.io({ ...PINS_SPI, select: 5, hz: 40_000_000 })).toThrow(/faster than the chip/);
    expect(() => new b.io({ ...PINS_SPI, select: 9, hz: 1_000_000 })).toThrow(/nothing answers/);
    expect(() => new b.io({ ...PINS_SPI, select: 7, hz: 80_000_000 })).toThrow(/invalid hz/); // Moddable's ESP32 SPI stops at 40 MHz
  });
});

describe("SimGpio", () => {
  it("calls onReadable once per burst of falling edges, from the event loop", () => {
    const loop = new EventLoop(16);
    const gpio = new SimGpio(loop);
    let calls = 0;
    const pin = new gpio.io({ pin: 4, mode: gpio.io.Input, edge: gpio.io.Falling, onReadable() { calls++; } });
    gpio.drive(4, 0);
    gpio.drive(4, 1);
    gpio.drive(4, 0);
    expect(calls).toBe(0);
    loop.runUntil(1);
    expect(calls).toBe(1);
    expect(pin.read()).toBe(0);
    gpio.drive(4, 0); // level held low: no edge, no call
    loop.runUntil(2);
    expect(calls).toBe(1);
  });

  it("tells a chip what the MCU drives on its input, and refuses to drive a chip's output", () => {
    const loop = new EventLoop(16);
    const gpio = new SimGpio(loop);
    const seen: number[] = [];
    gpio.listen(12, { onPinWrite: (_p, level) => seen.push(level) });
    const rst = new gpio.io({ pin: 12, mode: gpio.io.Output });
    rst.write(0);
    rst.write(1);
    expect(seen).toEqual([0, 1]);
    gpio.drive(4, 1);
    const intPin = new gpio.io({ pin: 4, mode: gpio.io.Output });
    expect(() => intPin.write(0)).toThrow(/driven by a chip/);
  });
});
