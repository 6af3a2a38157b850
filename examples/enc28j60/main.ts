// xsnet on a Microchip ENC28J60 (drivers/enc28j60.ts) over ECMA-419 SPI: DHCP, HOSTNAME.local
// and the device app's services (examples/spi-ethernet/app.ts). Build for an ESP32 board
// wired as manifest.json's esp32 config says (or give the pins on the command line):
//
//   mcconfig -d -m -p esp32 mac=02:00:00:00:00:02 hostname=board2 cs=5 int=4 rst=14

import config from "mc/config";
import boardIo from "spi-board-io";
import { Enc28j60Driver } from "xsnet/drivers/enc28j60";
import { startSpiEthernetApp } from "xsnet/examples/spi-ethernet/app";

startSpiEthernetApp({ chip: "ENC28J60", config, io: boardIo(), makeDriver: (wiring) => new Enc28j60Driver(wiring) });
