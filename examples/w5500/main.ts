// xsnet on a WIZnet W5500 (MACRAW, drivers/w5500.ts) over ECMA-419 SPI: DHCP, HOSTNAME.local
// and the device app's services (examples/spi-ethernet/app.ts). Build for an ESP32 board
// wired as manifest.json's esp32 config says (or give the pins on the command line):
//
//   mcconfig -d -m -p esp32 mac=02:00:00:00:00:01 hostname=board1 cs=5 int=4 rst=14

import config from "mc/config";
import boardIo from "spi-board-io";
import { W5500Driver } from "xsnet/drivers/w5500";
import { startSpiEthernetApp } from "xsnet/examples/spi-ethernet/app";

startSpiEthernetApp({ chip: "W5500", config, io: boardIo(), makeDriver: (wiring) => new W5500Driver(wiring) });
