// A simulated SPI bus and GPIO bank in virtual time: the board side of an SPI Ethernet chip.
// Drivers see ECMA-419 classes (`bus.io` as embedded:io/spi, `gpio.io` as
// embedded:io/digital) that behave as Moddable's ESP32 implementation does
// (drivers/spi-io.ts lists what that means); chip models see chip select and the bytes
// clocked through them.
//
// Time: SPI on the ESP32 is polled by the CPU, so each call keeps the host busy for its
// bytes at the instance's `hz` plus a per-call overhead. The bus pushes the host's
// `busyUntil` forward; the host's platform (SimPlatform) reads its clock from it and runs
// no softirq before it. Chip models read the bus time (`bus.now`) for what they do.
//
// Node-free: this file also runs inside XS.

import type { DigitalIo, DigitalIoClass, DigitalOptions, SpiBuffer, SpiIo, SpiIoClass, SpiOptions } from "../../drivers/spi-io";
import type { EventLoop, SimEventHandler } from "./event-loop";

/** A chip on the bus, behind its chip-select line. */
export interface SimSpiTarget {
  /** chip select asserted: a new SPI frame begins */
  spiSelect(): void;
  /**
   * Bytes clocked while selected: MOSI is buf[off, off + len). With `duplex`, the chip
   * writes MISO over those bytes; without (a write(), MISO ignored), it must not touch buf.
   */
  spiClock(buf: Uint8Array, off: number, len: number, duplex: boolean): void;
  /** chip select released: the frame ends */
  spiDeselect(): void;
}

/** The host CPU that polls the bus: SimPlatform. */
export interface SimCpuClock {
  busyUntil: number;
}

/** What the bus carried for one chip. */
export class SpiStats {
  /** read/write/transfer calls (each an ESP-IDF transaction, with its overhead) */
  calls = 0;
  /** chip-select frames (assert to release) */
  frames = 0;
  /** bytes clocked */
  bytes = 0;
  /** bus time those bytes and calls took, ms */
  busyMs = 0;
}

export interface SimSpiBusOptions {
  /** CPU time per call besides the bytes (ESP-IDF's transaction set-up), microseconds */
  callOverheadUs?: number;
}

export interface SpiSlot {
  readonly pin: number;
  readonly target: SimSpiTarget;
  readonly maxHz: number;
  readonly stats: SpiStats;
}

/** One SPI bus (one ESP32 SPI host) with chips on their chip-select pins. */
export class SimSpiBus {
  readonly io: SpiIoClass;
  readonly #loop: EventLoop;
  readonly #cpu: SimCpuClock;
  readonly #overheadMs: number;
  readonly #slots: SpiSlot[] = [];
  /** the instance whose chip select is asserted */
  #active: SimSpi | null = null;

  constructor(loop: EventLoop, cpu: SimCpuClock, options: SimSpiBusOptions = {}) {
    this.#loop = loop;
    this.#cpu = cpu;
    this.#overheadMs = (options.callOverheadUs ?? 0) / 1000;
    const bus = this;
    this.io = class extends SimSpi {
      constructor(o: SpiOptions) {
        super(bus, o);
      }
    };
  }

  /** bus time: the host's clock, which the bus itself moves on */
  get now(): number {
    const t = this.#loop.now;
    return this.#cpu.busyUntil > t ? this.#cpu.busyUntil : t;
  }

  /** Wire a chip to a chip-select pin; `maxHz` is the fastest clock it takes. */
  attach(selectPin: number, target: SimSpiTarget, maxHz: number): SpiStats {
    if (this.#find(selectPin) !== null) throw new RangeError(`SimSpiBus: a chip already sits on select pin ${selectPin}`);
    const slot: SpiSlot = { pin: selectPin, target, maxHz, stats: new SpiStats() };
    this.#slots.push(slot);
    return slot.stats;
  }

  stats(selectPin: number): SpiStats {
    const slot = this.#find(selectPin);
    if (slot === null) throw new RangeError(`SimSpiBus: no chip on select pin ${selectPin}`);
    return slot.stats;
  }

  #find(pin: number): SpiSlot | null {
    for (const s of this.#slots) if (s.pin === pin) return s;
    return null;
  }

  /** @internal an instance's slot, checked at construction */
  slotFor(o: SpiOptions): SpiSlot {
    // As Moddable's constructor: a clock pin, and MISO or MOSI.
    if (typeof o.clock !== "number") throw new TypeError("SPI: clock pin required");
    if (o.in === undefined && o.out === undefined) throw new Error("SPI: in or out required");
    const slot = this.#find(o.select);
    if (slot === null) throw new RangeError(`SPI: nothing answers on select pin ${o.select}`);
    // Moddable's ESP32 SPI takes 1 Hz to 40 MHz (modules/io/spi/esp/spi.c: "invalid hz").
    if (!(o.hz >= 1 && o.hz <= 40_000_000)) throw new RangeError(`SPI: invalid hz ${o.hz} (1 to 40,000,000)`);
    if (o.hz > slot.maxHz) throw new RangeError(`SPI: ${o.hz} Hz is faster than the chip on pin ${o.select} takes (${slot.maxHz} Hz)`);
    return slot;
  }

  /** @internal make `spi` the selected instance, releasing another's chip select first */
  activate(spi: SimSpi | null): void {
    const prev = this.#active;
    if (prev === spi) return;
    if (prev !== null) {
      prev.commit();
      this.#active = null;
      prev.slot.target.spiDeselect();
    }
    this.#active = spi;
    if (spi !== null) {
      spi.slot.stats.frames++;
      spi.slot.target.spiSelect();
    }
  }

  get active(): SimSpi | null {
    return this.#active;
  }

  /** @internal the CPU time of one call of len bytes at hz */
  account(slot: SpiSlot, len: number, hz: number): void {
    const ms = this.#overheadMs + (len * 8 * 1000) / hz;
    const start = this.now;
    this.#cpu.busyUntil = start + ms;
    const st = slot.stats;
    st.calls++;
    st.bytes += len;
    st.busyMs += ms;
  }
}

/** embedded:io/spi on the simulated bus (made through `bus.io`). */
export class SimSpi implements SpiIo {
  readonly slot: SpiSlot;
  readonly #bus: SimSpiBus;
  readonly #hz: number;
  /** a write() whose bytes are still to be clocked (its buffer is read then) */
  #pending: Uint8Array | null = null;
  #closed = false;

  constructor(bus: SimSpiBus, o: SpiOptions) {
    this.#bus = bus;
    this.slot = bus.slotFor(o);
    this.#hz = o.hz;
  }

  get format(): "buffer" {
    return "buffer";
  }

  read(buffer: SpiBuffer): void {
    // On the ESP32, read(buffer) clocks the buffer out as it reads (modSPITxRx).
    this.#exchange(buffer, true);
  }

  transfer(buffer: SpiBuffer): void {
    this.#exchange(buffer, true);
  }

  write(buffer: SpiBuffer): void {
    this.#open();
    this.#bus.activate(this);
    this.commit();
    this.#pending = asBytes(buffer);
  }

  flush(deselect?: boolean): void {
    this.#open();
    this.commit();
    if (deselect === true && this.#bus.active === this) this.#bus.activate(null);
  }

  close(): void {
    if (this.#closed) return;
    this.flush(true);
    this.#closed = true;
  }

  /** @internal clock out a deferred write */
  commit(): void {
    const w = this.#pending;
    if (w === null) return;
    this.#pending = null;
    this.#bus.account(this.slot, w.length, this.#hz);
    this.slot.target.spiClock(w, 0, w.length, false);
  }

  #exchange(buffer: SpiBuffer, duplex: boolean): void {
    this.#open();
    const b = asBytes(buffer);
    this.#bus.activate(this);
    this.commit();
    if (b.length > 65535) throw new RangeError("unsupported byteLength");
    this.#bus.account(this.slot, b.length, this.#hz);
    this.slot.target.spiClock(b, 0, b.length, duplex);
  }

  #open(): void {
    if (this.#closed) throw new Error("SPI: closed");
  }
}

function asBytes(buffer: unknown): Uint8Array {
  if (buffer instanceof Uint8Array) return buffer;
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  throw new TypeError("SPI: buffer must be a Uint8Array or an ArrayBuffer");
}

// ------------------------------------------------------------------------------ GPIO

const DIGITAL_INPUT = 0;
const DIGITAL_INPUT_PULLUP = 1;
const DIGITAL_OUTPUT = 8;
const EDGE_RISING = 1;
const EDGE_FALLING = 2;

/** A chip's side of a GPIO: it drives the pins it outputs and hears the ones the MCU drives. */
export interface SimPinListener {
  onPinWrite(pin: number, level: number): void;
}

interface PinState {
  level: number;
  /** driven by a chip (an MCU input) */
  chipDriven: boolean;
  listener: SimPinListener | null;
  /** the open Digital instance, if any */
  digital: SimDigital | null;
  /** an onReadable event is waiting to run */
  notifyPending: boolean;
}

/** The MCU's GPIO pins; `io` is embedded:io/digital over them. */
export class SimGpio implements SimEventHandler {
  readonly io: DigitalIoClass;
  readonly #loop: EventLoop;
  readonly #pins: PinState[] = [];
  /** edges that reached an onReadable, per the pins' index (diagnostics) */
  edges = 0;

  constructor(loop: EventLoop, pinCount = 40) {
    this.#loop = loop;
    for (let i = 0; i < pinCount; i++) this.#pins.push({ level: 1, chipDriven: false, listener: null, digital: null, notifyPending: false });
    const gpio = this;
    this.io = class extends SimDigital {
      static readonly Input: unknown = DIGITAL_INPUT;
      static readonly InputPullUp: unknown = DIGITAL_INPUT_PULLUP;
      static readonly Output: unknown = DIGITAL_OUTPUT;
      static readonly Rising = EDGE_RISING;
      static readonly Falling = EDGE_FALLING;
      constructor(o: DigitalOptions) {
        super(gpio, o);
      }
    };
  }

  #pin(pin: number): PinState {
    const p = this.#pins[pin];
    if (p === undefined) throw new RangeError(`Digital: no pin ${pin}`);
    return p;
  }

  /** A chip drives an output it has on this pin (its INTn, say). */
  drive(pin: number, level: number): void {
    const p = this.#pin(pin);
    p.chipDriven = true;
    const old = p.level;
    p.level = level === 0 ? 0 : 1;
    if (old === p.level) return;
    const d = p.digital;
    if (d === null || d.onReadable === null) return;
    const edge = p.level === 0 ? EDGE_FALLING : EDGE_RISING;
    // One callback per burst of edges, delivered from the event loop as Moddable posts
    // the GPIO interrupt to the machine's thread.
    if ((d.edge & edge) !== 0 && !p.notifyPending) {
      p.notifyPending = true;
      this.#loop.after(0, this, pin);
    }
  }

  /** A chip listens to an input it has on this pin (its RSTn, say). */
  listen(pin: number, listener: SimPinListener): void {
    this.#pin(pin).listener = listener;
  }

  level(pin: number): number {
    return this.#pin(pin).level;
  }

  onSimEvent(pin: number): void {
    const p = this.#pins[pin];
    p.notifyPending = false;
    const d = p.digital;
    if (d === null || d.onReadable === null) return;
    this.edges++;
    d.onReadable.call(d);
  }

  /** @internal */
  open(d: SimDigital, o: DigitalOptions): void {
    const p = this.#pin(o.pin);
    if (p.digital !== null) throw new Error(`Digital: pin ${o.pin} is in use`);
    p.digital = d;
  }

  /** @internal */
  close(d: SimDigital): void {
    const p = this.#pin(d.pin);
    if (p.digital === d) p.digital = null;
  }

  /** @internal the MCU drives an output pin */
  write(pin: number, level: number): void {
    const p = this.#pin(pin);
    if (p.chipDriven) throw new Error(`Digital: pin ${pin} is driven by a chip; writing it would short two outputs`);
    p.level = level === 0 ? 0 : 1;
    if (p.listener !== null) p.listener.onPinWrite(pin, p.level);
  }
}

/** embedded:io/digital on the simulated pins (made through `gpio.io`). */
export class SimDigital implements DigitalIo {
  readonly pin: number;
  readonly edge: number;
  readonly onReadable: ((this: DigitalIo) => void) | null;
  readonly #gpio: SimGpio;
  readonly #output: boolean;
  #closed = false;

  constructor(gpio: SimGpio, o: DigitalOptions) {
    if (o.mode !== DIGITAL_INPUT && o.mode !== DIGITAL_INPUT_PULLUP && o.mode !== DIGITAL_OUTPUT) throw new RangeError("Digital: invalid mode");
    this.#gpio = gpio;
    this.pin = o.pin;
    this.#output = o.mode === DIGITAL_OUTPUT;
    this.edge = o.edge ?? 0;
    this.onReadable = o.onReadable ?? null;
    if (this.onReadable !== null && this.edge === 0) throw new RangeError("Digital: onReadable needs an edge");
    gpio.open(this, o);
  }

  read(): number {
    if (this.#closed) throw new Error("Digital: closed");
    return this.#gpio.level(this.pin);
  }

  write(value: 0 | 1): void {
    if (this.#closed) throw new Error("Digital: closed");
    if (!this.#output) throw new Error("Digital: pin is an input");
    this.#gpio.write(this.pin, value);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#gpio.close(this);
  }
}
