// tcp_init / tcp_v4_init: TCP joins a stack that has IPv4. The connection table, TCP
// registered with IPv4 for segments and ICMP errors, the ACKs a received skb calls for
// (sent once it is done), its tasklet (the owners told, the write queues pushed, the ACKs
// owed for a receive batch), and what TCP gives back at shutdown.

import { registerPernetExit, registerRxSkbDone, registerTasklet, type Net } from "../core/net";
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
  registerRxSkbDone(net, tcp);
  registerTasklet(net, tcp);
  registerPernetExit(net, () => tcp.flush());
}
