// The board's IO classes on the ESP32: Moddable's embedded:io/spi and embedded:io/digital
// (manifest.json maps "spi-board-io" here for esp32).

import SPI from "embedded:io/spi";
import Digital from "embedded:io/digital";
import type { DigitalIoClass, SpiIoClass } from "xsnet/drivers/spi-io";
import type { BoardIo } from "xsnet/examples/spi-ethernet/app";

export default function boardIo(): BoardIo | null {
  // The typings lag the classes: neither the SDK's nor @moddable/typings' SPI declares the
  // close() that ECMA-419 requires and spi.js defines, and the two disagree on Digital's
  // mode constants (number, unknown). The drivers use what drivers/spi-io.ts lists.
  return { SPI: SPI as unknown as SpiIoClass, Digital: Digital as unknown as DigitalIoClass };
}
