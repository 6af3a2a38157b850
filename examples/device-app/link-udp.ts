// The device app's link in Moddable's Linux simulator (mcsim): Ethernet frames as UDP
// datagrams on the host's loopback, through Moddable's own `embedded:io/socket/udp`, so the
// app joins a socat TAP as the Node device mode does (docs/DEVICE.md):
//
//   socat TUN:169.254.77.1/24,tun-type=tap,tun-name=xt0,iff-no-pi,iff-up \
//       UDP-DATAGRAM:127.0.0.1:9201,bind=127.0.0.1:9200
//
// config.link is "udp:LOCAL_PORT:REMOTE_PORT" (the manifest's lin default udp:9201:9200, or
// link=... on mcconfig's command line); empty: no link (the app serves on lo only).
// manifest.json maps "device-link" here for lin and to link-none.ts elsewhere.

import config from "mc/config";
import UDP from "embedded:io/socket/udp";
import { parseUdpLinkSpec, UdpFrameLink, type FrameSocketClass } from "xsnet/drivers/udp-frame-link";
import type { DeviceFactory } from "xsnet/moddable/start";

/** The link's factory and its name for the start-up line, or null without config.link. */
export default function deviceLink(): { device: DeviceFactory; name: string } | null {
  const spec = String(config.link ?? "");
  if (spec === "") return null;
  const ports = parseUdpLinkSpec(spec);
  // @moddable/typings' UDP leaves out close(), which Moddable's class has.
  const Socket = UDP as unknown as FrameSocketClass;
  return {
    device: (net, name, mac) => new UdpFrameLink(Socket, ports).register(net, name, mac),
    name: spec,
  };
}
