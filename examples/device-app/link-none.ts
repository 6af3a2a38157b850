// The device app's link where the board brings its own MAC (board-mac.ts, DmaMacDriver):
// none here. manifest.json maps "device-link" to this module on every platform but lin,
// where link-udp.ts carries frames over the simulator's UDP.

import type { DeviceFactory } from "xsnet/moddable/start";

export default function deviceLink(): { device: DeviceFactory; name: string } | null {
  return null;
}
