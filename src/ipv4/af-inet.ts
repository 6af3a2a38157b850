// inet_init (net/ipv4/af_inet.c): IPv4 joins a stack. ARP and the neighbour cache, the
// IPv4 state (routes, reassembly, netfilter hooks, raw handlers, ICMP), each device's
// IPv4 configuration, the IP packet type, ICMP as the first protocol and IGMP, and 127.0.0.1/8 on
// the loopback device. UDP and TCP register themselves on top (udpInit, tcpInit).

import { devAddPack } from "../core/link";
import { registerPernetExit, registerRxSkbDone, registerTasklet, type Net } from "../core/net";
import { arpInit } from "../neigh/arp";
import { ETH_P_IP } from "../wire/ethernet";
import { IPPROTO_ICMP } from "../wire/ipv4";
import { devinetInit, ipAddrAdd } from "./devinet";
import { icmpRcv } from "./icmp";
import { igmpInit } from "./igmp";
import { ipRcv } from "./input";
import { Ipv4 } from "./ipv4";

export function inetInit(net: Net): void {
  // IP first in the packet-type table: it is looked up for nearly every frame.
  devAddPack(net, ETH_P_IP, ipRcv);
  arpInit(net);
  net.ipv4 = new Ipv4(net);
  devinetInit(net);
  net.ipv4.addProtocol(IPPROTO_ICMP, icmpRcv);
  igmpInit(net);
  // Hooks run in this order: what the skb made IP send goes before any owner hears of it.
  registerRxSkbDone(net, net.ipv4.outputBacklog);
  registerTasklet(net, net.ipv4.raw);
  registerPernetExit(net, () => net.ipv4.flush());
  ipAddrAdd(net, net.loopback, "127.0.0.1/8");
}
