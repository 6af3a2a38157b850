// The board's IO classes on the ESP32: Moddable's embedded:io/spi and embedded:io/digital
// (manifest.json maps "spi-board-io" here for esp32).

import SPI from "embedded:io/spi";
import Digital from "embedded:io/digital";
import type { SpiIoClass } from "xsnet/drivers/spi-io";
import type { BoardIo } from "xsnet/examples/spi-ethernet/app";

export default function boardIo(): BoardIo | null {
  // @moddable/typings' SPI declares no close(), which ECMA-419 requires and spi.js defines.
  return { SPI: SPI as unknown as SpiIoClass, Digital };
}
