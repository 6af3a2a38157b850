// The composition root: the whole stack in one call, as `npm start`, the device mode and
// the tests use it. An application that wants less calls the pieces it needs, in this
// order (each registers with the layer below):
//
//   const net = netInit(config, platform);   // core: pool, timers, loop, lo
//   inetInit(net);                           // ARP, IPv4, ICMP, 127.0.0.1
//   udpInit(net);                            // UDP (udpSocketClass)
//   tcpInit(net);                            // TCP (tcpSocketClasses)
//
// Raw IP sockets need only IPv4 (rawSocketClass).

import type { NetConfig } from "./config";
import { netInit, type InitOptions, type Net } from "./core/net";
import type { Platform } from "./core/platform";
import { inetInit } from "./ipv4/af-inet";
import { tcpInit } from "./tcp/init";
import { udpInit } from "./udp/udp";

/** A stack with every protocol: ARP, IPv4, ICMP, UDP, TCP (and raw sockets on IPv4). */
export function init(config: Partial<NetConfig> | NetConfig, platform: Platform, options: InitOptions = {}): Net {
  const net = netInit(config, platform, options);
  inetInit(net);
  udpInit(net);
  tcpInit(net);
  return net;
}
