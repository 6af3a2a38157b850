// The contract between the core and any MAC driver, in the shape of Linux's
// net_device_ops and NAPI. A driver:
//  - in open(), fills its RX ring with skbs from the pool and enables its interrupts;
//  - in its interrupt, only calls napiSchedule(napi) (the irq is a flag, work runs in NET_RX);
//  - in poll(napi, budget), hands at most `budget` received frames to netifReceiveSkb,
//    refills the ring, reaps TX completions with devKfreeSkbIrq, and calls napiComplete
//    when it did less than the budget;
//  - in startXmit(), posts the skb to its TX ring and returns NETDEV_TX_OK (it now owns the
//    skb and frees it on completion), or NETDEV_TX_BUSY without taking it when the ring
//    is full (it then calls netifStopQueue, and netifWakeQueue once room returns);
//  - reports link changes with netifCarrierOn/netifCarrierOff;
//  - in stop(), returns every skb it holds to the pool.
// The simulated DMA MAC, the loopback device and the UDP link all implement this, so the
// core cannot tell them from a chip.

import type { NetDevice, Napi } from "../src/core/netdevice";
import type { SkBuff } from "../src/core/skb";

export const NETDEV_TX_OK = 0;
export const NETDEV_TX_BUSY = 0x10;

// dev->features: work the hardware does, so the core skips it.
/** the MAC computes IPv4 TCP/UDP/ICMP checksums on transmit */
export const NETIF_F_IP_CSUM = 1 << 0;
/** the MAC verifies L4 checksums on receive and marks good frames CHECKSUM_UNNECESSARY */
export const NETIF_F_RXCSUM = 1 << 1;

export interface NetDeviceOps {
  /** ndo_open */
  open(dev: NetDevice): void;
  /** ndo_stop: quiesce and give back every skb the driver holds */
  stop(dev: NetDevice): void;
  /** ndo_start_xmit: NETDEV_TX_OK or NETDEV_TX_BUSY */
  startXmit(skb: SkBuff, dev: NetDevice): number;
  /** NAPI poll: frames handed up (<= budget) */
  poll(napi: Napi, budget: number): number;
  /** ndo_set_rx_mode: program the multicast filter from dev.mcList */
  setRxMode(dev: NetDevice): void;
}
