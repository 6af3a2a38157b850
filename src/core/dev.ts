// The device layer (net/core/dev.c): transmit through the qdisc to the driver, NAPI,
// the NET_RX and NET_TX softirq actions, and receive dispatch by ethertype.
//
//   transmit: devQueueXmit -> qdisc.enqueue -> qdiscRun -> driver startXmit -> taps
//             (inside the loop: qdiscRun from NET_TX in the same turn, netifSchedule)
//             busy driver: requeue, stop queue; netifWakeQueue -> netifSchedule -> NET_TX
//             TX done (irq): devKfreeSkbIrq -> completion queue -> freed in NET_TX
//   receive:  irq -> napiSchedule -> NET_RX: netRxAction -> driver poll(budget)
//             -> netifReceiveSkb (the poll's rx list) ; after the poll, each skb:
//             taps, ethTypeTrans, handler for the ethertype, then the rxSkbDone hooks

import { NETDEV_TX_OK } from "./netdevice";
import { NET_XMIT_DROP, NET_XMIT_SUCCESS } from "./qdisc";
import {
  ETH_HLEN, ETH_P_8021Q, ethType, macEqual, macIsBroadcast, macIsMulticast,
} from "../wire/ethernet";
import { SKB_DROP } from "./drop";
import { consumeSkb, kfreeSkbReason } from "./free";
import type { Net } from "./net";
import type { Napi, NetDevice } from "./netdevice";
import {
  PACKET_BROADCAST, PACKET_HOST, PACKET_MULTICAST, PACKET_OTHERHOST, type SkBuff,
} from "./skb";
import { NET_RX_SOFTIRQ, NET_TX_SOFTIRQ, type Softnet } from "./softirq";

// ---------------------------------------------------------------- transmit

/**
 * dev_queue_xmit: skb.data is at the Ethernet header, skb.dev is set. The skb is always
 * consumed (sent, queued or dropped with a reason). Returns NET_XMIT_SUCCESS or _DROP.
 */
export function devQueueXmit(skb: SkBuff): number {
  const dev = skb.dev as NetDevice;
  const net = dev.net;
  if (!dev.isUp) {
    dev.stats.txDropped++;
    kfreeSkbReason(net, skb, SKB_DROP.DEV_DOWN);
    return NET_XMIT_DROP;
  }
  if (!dev.hasCarrier) {
    dev.stats.txDropped++;
    dev.stats.txCarrierErrors++;
    kfreeSkbReason(net, skb, SKB_DROP.NO_CARRIER);
    return NET_XMIT_DROP;
  }
  const q = dev.qdisc;
  if (q === null) {
    // Queueless device (loopback): straight to the driver, as Linux does for lo.
    return devHardStartXmit(skb, dev) === NETDEV_TX_OK ? NET_XMIT_SUCCESS : NET_XMIT_DROP;
  }
  // Inside the loop the qdisc runs from NET_TX in this same turn (net_tx_action), not on the
  // sender's frames (a board's XS stack is small); a full qdisc is run now rather than drop.
  const running = net.softnet.running;
  if (running && q.qlen >= q.limit) qdiscRun(dev);
  const rc = q.enqueue(skb);
  if (rc === NET_XMIT_DROP) dev.stats.txDropped++;
  if (running) netifSchedule(dev);
  else qdiscRun(dev);
  return rc;
}

/** dev_hard_start_xmit for a queueless device: a busy driver here is a drop. */
function devHardStartXmit(skb: SkBuff, dev: NetDevice): number {
  devQueueXmitNit(dev, skb);
  const rc = dev.ops.startXmit(skb, dev);
  if (rc !== NETDEV_TX_OK) {
    dev.stats.txDropped++;
    kfreeSkbReason(dev.net, skb, SKB_DROP.TX_ERROR);
  }
  return rc;
}

/**
 * qdisc_run / qdisc_restart: move skbs from the qdisc to the driver until the queue is
 * empty, the driver is busy, or the quota is spent (then NET_TX continues later).
 */
export function qdiscRun(dev: NetDevice): void {
  const q = dev.qdisc;
  if (q === null || dev.qdiscRunning) return;
  dev.qdiscRunning = true;
  let quota = dev.net.config.napiWeight;
  while (!dev.queueStopped && quota > 0) {
    const skb = q.dequeue();
    if (skb === null) break;
    quota--;
    const rc = dev.ops.startXmit(skb, dev);
    if (rc !== NETDEV_TX_OK) {
      // Driver ring full: keep the skb first in line; netifWakeQueue runs us again.
      dev.stats.txBusy++;
      q.requeue(skb);
      dev.queueStopped = true;
      break;
    }
    // Taps see the frame once the driver has taken it (dev_queue_xmit_nit); drivers free
    // only from the completion queue, so the bytes are still there.
    devQueueXmitNit(dev, skb);
  }
  dev.qdiscRunning = false;
  if (quota === 0 && q.qlen > 0 && !dev.queueStopped) netifSchedule(dev);
}

/** netif_schedule: run this device's qdisc from NET_TX. */
export function netifSchedule(dev: NetDevice): void {
  if (dev.txScheduled) return;
  dev.txScheduled = true;
  const sn = dev.net.softnet;
  dev.nextTx = null;
  if (sn.txListTail === null) sn.txListHead = dev;
  else sn.txListTail.nextTx = dev;
  sn.txListTail = dev;
  sn.raise(NET_TX_SOFTIRQ);
}

/** netif_stop_queue: the driver's TX ring is full. */
export function netifStopQueue(dev: NetDevice): void {
  dev.queueStopped = true;
}

/** netif_wake_queue: the driver has room again; send what the qdisc holds. */
export function netifWakeQueue(dev: NetDevice): void {
  if (!dev.queueStopped) return;
  dev.queueStopped = false;
  netifSchedule(dev);
}

/**
 * dev_kfree_skb_irq: a transmitted skb, freed later in NET_TX rather than in the
 * interrupt (Linux's completion_queue). Counts the frame as sent.
 */
export function devKfreeSkbIrq(skb: SkBuff): void {
  const dev = skb.dev as NetDevice;
  const sn = dev.net.softnet;
  dev.stats.txPackets++;
  dev.stats.txBytes += skb.len;
  skb.next = null;
  if (sn.completionTail === null) sn.completionHead = skb;
  else sn.completionTail.next = skb;
  sn.completionTail = skb;
  sn.raise(NET_TX_SOFTIRQ);
}

/**
 * A frame the driver took but could not send (a hardware or socket error): counted now,
 * freed with TX_ERROR in NET_TX like any completion.
 */
export function devTxError(skb: SkBuff): void {
  const dev = skb.dev as NetDevice;
  const sn = dev.net.softnet;
  dev.stats.txErrors++;
  skb.next = null;
  if (sn.txErrorTail === null) sn.txErrorHead = skb;
  else sn.txErrorTail.next = skb;
  sn.txErrorTail = skb;
  sn.raise(NET_TX_SOFTIRQ);
}

/** net_tx_action: free completed skbs, then run the qdiscs that asked for it. */
export function netTxAction(net: Net): void {
  const sn = net.softnet;
  let skb = sn.completionHead;
  sn.completionHead = sn.completionTail = null;
  while (skb !== null) {
    const next: SkBuff | null = skb.next;
    consumeSkb(net, skb);
    skb = next;
  }
  skb = sn.txErrorHead;
  sn.txErrorHead = sn.txErrorTail = null;
  while (skb !== null) {
    const next: SkBuff | null = skb.next;
    kfreeSkbReason(net, skb, SKB_DROP.TX_ERROR);
    skb = next;
  }
  let dev = sn.txListHead;
  sn.txListHead = sn.txListTail = null;
  while (dev !== null) {
    const next: NetDevice | null = dev.nextTx;
    dev.nextTx = null;
    dev.txScheduled = false;
    qdiscRun(dev);
    dev = next;
  }
}

/** dev_queue_xmit_nit: ETH_P_ALL taps see outgoing frames. */
function devQueueXmitNit(dev: NetDevice, skb: SkBuff): void {
  const taps = dev.net.taps;
  for (let i = 0; i < taps.length; i++) taps[i](dev, skb, true);
}

// ---------------------------------------------------------------- NAPI

/** napi_schedule (from an interrupt): poll this device in the next NET_RX run. */
export function napiSchedule(napi: Napi): void {
  if (napi.scheduled) return;
  napi.scheduled = true;
  const sn = napi.dev.net.softnet;
  if (!napi.onList) pollListAdd(sn, napi);
  sn.raise(NET_RX_SOFTIRQ);
}

/** napi_complete: the driver has no more work; it re-enables its interrupt after this. */
export function napiComplete(napi: Napi): void {
  napi.scheduled = false;
}

function pollListAdd(sn: Softnet<Net>, napi: Napi): void {
  napi.onList = true;
  napi.next = null;
  if (sn.pollTail === null) sn.pollHead = napi;
  else sn.pollTail.next = napi;
  sn.pollTail = napi;
}

/**
 * net_rx_action: poll scheduled devices within the budget, in frames and in time (a driver
 * that moves frames over SPI spends the CPU on each). A device that used its whole weight
 * goes to the back of the list; a spent budget is a time squeeze and NET_RX is raised again
 * for the next round, after the timers.
 */
export function netRxAction(net: Net): void {
  const sn = net.softnet;
  let budget = net.config.netdevBudget;
  const timeLimit = net.platform.now() + net.config.netdevBudgetMs;
  while (sn.pollHead !== null) {
    if (budget <= 0 || net.platform.now() >= timeLimit) {
      sn.stats.timeSqueeze++;
      sn.raise(NET_RX_SOFTIRQ);
      return;
    }
    const napi = sn.pollHead;
    sn.pollHead = napi.next;
    if (sn.pollHead === null) sn.pollTail = null;
    napi.onList = false;
    napi.next = null;
    // Closed since it was scheduled: its driver has stopped and must not be polled (as
    // napi_disable); a poll would refill a stopped ring from the pool and leak it.
    if (!napi.dev.isUp) {
      napi.scheduled = false;
      continue;
    }
    const weight = napi.weight < budget ? napi.weight : budget;
    napi.polls++;
    sn.rxListOpen = true;
    const work = napi.dev.ops.poll(napi, weight);
    sn.rxListOpen = false;
    budget -= work;
    rxListFlush(net);
    if (napi.scheduled && !napi.onList) pollListAdd(sn, napi);
  }
}

/**
 * gro_normal_list: the skbs the poll received, each through the protocols in turn, then
 * what they left for the end of it (rxSkbDone hooks: IP's sends).
 */
function rxListFlush(net: Net): void {
  const sn = net.softnet;
  const hooks = net.rxSkbDoneHooks;
  let skb = sn.rxListHead;
  sn.rxListHead = null;
  sn.rxListTail = null;
  while (skb !== null) {
    const next: SkBuff | null = skb.next;
    skb.next = null;
    sn.inRxSkb = true;
    netifReceiveSkbCore(skb);
    sn.inRxSkb = false;
    for (let i = 0; i < hooks.length; i++) hooks[i].rxSkbDone();
    skb = next;
  }
}

// ---------------------------------------------------------------- receive

/**
 * netif_receive_skb: skb.data at the Ethernet header, skb.dev set. Within a driver's poll
 * it joins the poll's rx list (processed once the poll returns, rxListFlush); outside one,
 * at once. Always consumes the skb.
 */
export function netifReceiveSkb(skb: SkBuff): void {
  const net = (skb.dev as NetDevice).net;
  const sn = net.softnet;
  skb.next = null;
  if (sn.rxListTail === null) sn.rxListHead = skb;
  else sn.rxListTail.next = skb;
  sn.rxListTail = skb;
  // Outside a poll (a test's driver): through at once.
  if (!sn.rxListOpen) rxListFlush(net);
}

/** __netif_receive_skb_core: taps, the Ethernet header, the handler for the ethertype. */
function netifReceiveSkbCore(skb: SkBuff): void {
  const dev = skb.dev as NetDevice;
  const net = dev.net;
  const len = skb.len;
  dev.stats.rxPackets++;
  dev.stats.rxBytes += len;
  const taps = net.taps;
  for (let i = 0; i < taps.length; i++) taps[i](dev, skb, false);
  if (len < ETH_HLEN) { // ethCheckLen, without a call on the path of every frame
    dev.stats.rxLengthErrors++;
    dev.stats.rxErrors++;
    kfreeSkbReason(net, skb, SKB_DROP.PKT_TOO_SMALL);
    return;
  }
  ethTypeTrans(skb, dev);
  if (skb.pktType === PACKET_OTHERHOST) {
    kfreeSkbReason(net, skb, SKB_DROP.OTHERHOST);
    return;
  }
  const type = skb.protocol;
  const ptypes = net.ptypeTypes;
  for (let i = 0; i < ptypes.length; i++) {
    if (ptypes[i] === type) {
      net.ptypeHandlers[i](net, skb);
      return;
    }
  }
  dev.stats.rxNohandler++;
  kfreeSkbReason(net, skb, SKB_DROP.UNHANDLED_PROTO);
}

/** eth_type_trans: classify by destination MAC, set protocol, pull the Ethernet header. */
function ethTypeTrans(skb: SkBuff, dev: NetDevice): void {
  const buf = dev.net.pool.buf;
  const mac = skb.data;
  skb.macHeader = mac;
  if (macIsMulticast(buf, mac)) {
    skb.pktType = macIsBroadcast(buf, mac) ? PACKET_BROADCAST : PACKET_MULTICAST;
    if (skb.pktType === PACKET_MULTICAST) dev.stats.multicast++;
  } else if (macEqual(buf, mac, dev.addr, 0)) {
    skb.pktType = PACKET_HOST;
  } else {
    skb.pktType = PACKET_OTHERHOST;
  }
  let type = ethType(buf, mac);
  // 802.3 length field or a VLAN tag: no handler here, counted as unhandled.
  if (type < 0x0600 || type === ETH_P_8021Q) type = 0;
  skb.protocol = type;
  skb.pull(ETH_HLEN);
  skb.networkHeader = skb.data;
}

/** Purge everything a device holds outside its driver (device stopping). */
export function devDeactivate(dev: NetDevice): void {
  if (dev.qdisc !== null) dev.qdisc.reset(SKB_DROP.SHUTDOWN);
}
