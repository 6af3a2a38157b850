// The stack's public surface for an application or a board's start-up code.
export { DEFAULT_CONFIG, MINIMAL_CONFIG, makeConfig, type NetConfig } from "./config";
export { init, Net, type DeviceOptions } from "./core/net";
export type { Platform } from "./core/platform";
export { NetDevice, DEVICE_STAT_NAMES } from "./core/netdevice";
export { DROP_REASON_NAMES } from "./core/drop";
export { Pinger, PING_DATA_MAX } from "./apps/ping";
export { PfifoFast } from "./sched/pfifo-fast";
export { Tbf, type TbfOptions } from "./sched/tbf";
export { NF_ACCEPT, NF_DROP, NF_STOLEN, NF_INET_PRE_ROUTING, NF_INET_LOCAL_IN, NF_INET_FORWARD, NF_INET_LOCAL_OUT, NF_INET_POST_ROUTING, type NfHookFn } from "./ipv4/netfilter";
export { parseIpv4, formatIpv4, parseCidr } from "./wire/ipv4";
export { parseMac, formatMac } from "./wire/ethernet";
export { DmaMacDriver, type DmaMacHw } from "../drivers/dma-mac";
export { NETDEV_TX_OK, NETDEV_TX_BUSY, NETIF_F_IP_CSUM, NETIF_F_RXCSUM, type NetDeviceOps } from "../drivers/netdev";
export { napiSchedule, napiComplete, netifReceiveSkb, devKfreeSkbIrq, netifStopQueue, netifWakeQueue } from "./core/dev";
export { udpSocketClass, type UdpSocket, type UdpSocketClass, type UdpOptions, type UdpPacket, type UdpErrorReport, type IcmpErrorReport } from "./socket/udp";
export { rawSocketClass, RAW_PAYLOAD_MAX, type RawSocket, type RawSocketClass, type RawOptions, type RawPacket } from "./socket/raw";
export { tcpSocketClasses, type TcpSocket, type TcpListener, type TcpOptions, type ListenerOptions } from "./socket/tcp";
