// PLACEHOLDER: no board has an xsnet MAC driver yet (the drivers work is a later issue).
//
// A board provides the register layer of its Ethernet MAC here: an object implementing
// DmaMacHw (drivers/dma-mac.ts), usually a thin JavaScript class over native code that
// exposes the descriptor rings, the interrupt line and a few registers. Or it returns a
// whole driver of its own that implements NetDeviceOps (drivers/netdev.ts); then main.ts
// registers that instead of DmaMacDriver.
//
// Returning null tells main.ts there is no MAC: it then pings 127.0.0.1 over the loopback
// device, which exercises the stack, Timer and Time.ticks but no Ethernet.

import type { DmaMacHw } from "xsnet/drivers/dma-mac";

export default function boardMac(): DmaMacHw | null {
  return null;
}
