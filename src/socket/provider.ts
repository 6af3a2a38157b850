// ECMA-419's host provider, for a running stack: the entries of `device.network` that name
// xsnet's socket classes, each `{ io: Class }` as Moddable's examples build them
// (examples/io/tcp/httpclient/config.js of the SDK), so an app's or a board's start-up sets
// up device.network in one call:
//
//   const network = hostProvider(net);
//   globalThis.device = Object.freeze({ ...globalThis.device, network: { ...globalThis.device?.network, ...network } }, true);
//   new device.network.tcp.io({ address, port, onReadable, ... });
//
// An entry is there only for a protocol the stack runs: tcp and listener after tcpInit, udp
// after udpInit. The classes are made for this stack by this call (call it once per stack:
// a second call makes other classes, whose sockets are not instances of the first's).
// It imports both TCP's and UDP's classes, so it sits with the composition root
// (manifest.json); an app linking only one protocol calls tcpSocketClasses or udpSocketClass.

import type { Net } from "../core/net";
import { tcpSocketClasses, type TcpListenerClass, type TcpSocketClass } from "./tcp";
import { udpSocketClass, type UdpSocketClass } from "./udp";

/** The entries of device.network for xsnet's sockets. */
export interface HostNetwork {
  readonly tcp?: Readonly<{ io: TcpSocketClass }>;
  readonly listener?: Readonly<{ io: TcpListenerClass }>;
  readonly udp?: Readonly<{ io: UdpSocketClass }>;
}

export function hostProvider(net: Net): HostNetwork {
  const runs = net as unknown as { tcp?: unknown; udp?: unknown };
  const network: { tcp?: { io: TcpSocketClass }; listener?: { io: TcpListenerClass }; udp?: { io: UdpSocketClass } } = {};
  if (runs.tcp !== undefined) {
    const { TCP, Listener } = tcpSocketClasses(net);
    network.tcp = Object.freeze({ io: TCP });
    network.listener = Object.freeze({ io: Listener });
  }
  if (runs.udp !== undefined) network.udp = Object.freeze({ io: udpSocketClass(net) });
  return Object.freeze(network);
}
