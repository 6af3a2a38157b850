// tcp_init / tcp_v4_init: TCP joins a stack that has IPv4. The connection table, TCP
// registered with IPv4 for segments and ICMP errors, the owners told at the end of each
// received skb, the ACKs owed at the end of each receive batch, and what TCP gives back at shutdown.

import { registerPernetExit, registerRxBatchEnd, registerRxSkbDone, type Net } from "../core/net";
import { IPPROTO_TCP } from "../wire/ipv4";
import { tcpV4Err, tcpV4Rcv } from "./input";
import { Tcp } from "./tcp";
// mcconfig type-checks each module alone: the modules that add net.ipv4
import type {} from "../ipv4/ipv4";

declare module "../core/net" {
  interface Net {
    /** TCP's connection table and counters, made by tcpInit */
    tcp: Tcp;
  }
}

export function tcpInit(net: Net): void {
  const tcp = (net.tcp = new Tcp(net));
  net.ipv4.addProtocol(IPPROTO_TCP, tcpV4Rcv, tcpV4Err);
  registerRxBatchEnd(net, tcp);
  registerRxSkbDone(net, tcp);
  registerPernetExit(net, () => tcp.flush());
}
