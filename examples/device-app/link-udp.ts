// The device app's link in Moddable's Linux simulator (mcsim): Ethernet frames as UDP
// datagrams on the host's loopback, so the app joins a socat TAP as the Node device mode
// does (docs/DEVICE.md):
//
//   socat TUN:169.254.77.1/24,tun-type=tap,tun-name=xt0,iff-no-pi,iff-up \
//       UDP-DATAGRAM:127.0.0.1:9201,bind=127.0.0.1:9200
//
// config.link is "udp:LOCAL_PORT:REMOTE_PORT" (the manifest's lin default udp:9201:9200, or
// link=... on mcconfig's command line); empty: no link (the app serves on lo only).
// config.socket picks the UDP class under the driver: "moddable" (the default), Moddable's
// own embedded:io/socket/udp, which reads one datagram per 20 ms task; "frames", FrameSocket
// (lin/frame-socket.ts), woken by each datagram and reading into the skb, for figures that
// are the stack's and not the 20 ms task's. manifest.json maps "device-link" here for lin and
// to link-none.ts elsewhere.

import config from "mc/config";
import UDP from "embedded:io/socket/udp";
import FrameSocket from "frame-socket";
import { parseUdpLinkSpec, UdpFrameLink, type FrameSocketClass } from "xsnet/drivers/udp-frame-link";
import type { DeviceFactory } from "xsnet/moddable/start";

/** The link's factory and its name for the start-up line, or null without config.link. */
export default function deviceLink(): { device: DeviceFactory; name: string } | null {
  const spec = String(config.link ?? "");
  if (spec === "") return null;
  const ports = parseUdpLinkSpec(spec);
  const socket = String(config.socket ?? "moddable");
  if (socket !== "moddable" && socket !== "frames") throw new RangeError(`device app: config.socket must be "moddable" or "frames", got '${socket}'`);
  // @moddable/typings' UDP leaves out close(), which Moddable's class has.
  const Socket = socket === "frames" ? FrameSocket : UDP as unknown as FrameSocketClass;
  // FrameSocket binds loopback only: read(buffer) does not say who sent a datagram.
  const options = socket === "frames" ? { ...ports, localAddress: "127.0.0.1" } : ports;
  return {
    device: (net, name, mac) => new UdpFrameLink(Socket, options).register(net, name, mac),
    name: `${spec} (${socket === "frames" ? "FrameSocket" : "embedded:io/socket/udp"})`,
  };
}
