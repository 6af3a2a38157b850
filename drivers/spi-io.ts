// What an SPI Ethernet driver uses of ECMA-419's IO classes (embedded:io/spi and
// embedded:io/digital), in the ECMA-419 peripheral-driver shape: the app passes each bus as
// a dictionary of the IO class and its options (`{ ...device.SPI.default, io: device.io.SPI,
// select: 5, hz: 20_000_000 }`), and the driver constructs the instances at open. On a
// board the classes are Moddable's; in host-sim, the SPI bus and pin models'.
//
// Behaviour the drivers rely on, as Moddable's ESP32 implementation has it
// (modules/io/spi/esp/spi.c over modules/pins/spi/esp32/modSPI.c):
//  - chip select is asserted by the first read/write/transfer and stays asserted across
//    calls until flush(true) (or until another SPI instance on the bus is used);
//  - read(buffer) and transfer(buffer) are synchronous and full duplex: the buffer's bytes
//    go out on MOSI while MISO is written over them;
//  - write(buffer) may return before its bytes are clocked out, and reads the buffer as it
//    goes: the buffer must not change until the next call or flush();
//  - every call moves the whole buffer: a variable length needs a view of that length.
//    `read(count)` would allocate an ArrayBuffer per call, so drivers make their views at open.

/** A buffer ECMA-419's SPI accepts; the drivers pass Uint8Array views made at open. */
export type SpiBuffer = Uint8Array;

export interface SpiIo {
  read(buffer: SpiBuffer): void;
  write(buffer: SpiBuffer): void;
  transfer(buffer: SpiBuffer): void;
  flush(deselect?: boolean): void;
  close(): void;
}

export interface SpiOptions {
  /** the SCLK pin (ECMA-419 requires it) */
  clock: number;
  /** MISO and MOSI pins; at least one */
  in?: number;
  out?: number;
  /** the chip-select pin */
  select: number;
  hz: number;
  mode?: number;
  port?: number;
}

export interface SpiIoClass {
  new (options: SpiOptions): SpiIo;
}

export interface DigitalIo {
  read(): number;
  write(value: 0 | 1): void;
  close(): void;
}

export interface DigitalOptions {
  pin: number;
  mode: unknown;
  edge?: number;
  onReadable?: (this: DigitalIo) => void;
}

export interface DigitalIoClass {
  new (options: DigitalOptions): DigitalIo;
  readonly Input: unknown;
  readonly InputPullUp: unknown;
  readonly Output: unknown;
  readonly Rising: number;
  readonly Falling: number;
}

/** An SPI bus as an ECMA-419 driver takes it: the class and its constructor's options. */
export type SpiBusSpec = SpiOptions & { io: SpiIoClass };
/** A GPIO as an ECMA-419 driver takes it. */
export interface PinSpec {
  io: DigitalIoClass;
  pin: number;
}

/** Where an SPI Ethernet chip is wired. */
export interface SpiChipWiring {
  spi: SpiBusSpec;
  /** the chip's interrupt output (active low) */
  interrupt: PinSpec;
  /** the chip's reset input (active low); without it the driver resets the chip by command */
  reset?: PinSpec;
}
