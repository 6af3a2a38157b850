// No SPI: Moddable's simulator (lin) has no embedded:io/spi, so the app says so and starts
// nothing (manifest.json maps "spi-board-io" here on every platform but esp32).

import type { BoardIo } from "xsnet/examples/spi-ethernet/app";

export default function boardIo(): BoardIo | null {
  return null;
}
