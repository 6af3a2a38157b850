// IPv4 configuration of interfaces (net/ipv4/devinet.c, and the route and multicast calls
// an application makes): each device's address, mask and broadcast (in_device), the
// connected route that comes with an address, routes and the default gateway added by
// hand, and the multicast groups a device listens to.

import { NETDEV_REGISTER, registerNetdevNotifier } from "../core/link";
import type { Net } from "../core/net";
import { IFF_LOOPBACK, IFF_NOARP, type NetDevice } from "../core/netdevice";
import { arpAnnounce } from "../neigh/arp";
import { INADDR_BROADCAST, formatIpv4, ipIsLoopback, ipIsMulticast, ipIsZeronet, parseCidr, parseIpv4, prefixMask } from "../wire/ipv4";
// mcconfig type-checks each module alone: the modules that add net.ipv4
import type {} from "./ipv4";
import type {} from "./igmp";

/** IPv4 configuration of an interface (in_device / in_ifaddr) */
export class InDevice {
  addr = 0;
  prefixLen = 0;
  mask = 0;
  broadcast = 0;
  configured = false;
  /**
   * An address being probed before use (RFC 5227 2.1: a DHCP client's offer), or 0; ARP
   * counts in tentativeConflicts every packet that shows another host holds it.
   */
  tentative = 0;
  tentativeConflicts = 0;
}

declare module "../core/netdevice" {
  interface NetDevice {
    /** IPv4 configuration (Linux dev->ip_ptr), made when the device registers */
    inDev: InDevice;
  }
}

/** Every device, registered now or later, gets its IPv4 configuration record. */
export function devinetInit(net: Net): void {
  for (let i = 0; i < net.devices.length; i++) net.devices[i].inDev = new InDevice();
  registerNetdevNotifier(net, inetdevEvent);
}

function inetdevEvent(_net: Net, event: number, dev: NetDevice): void {
  if (event === NETDEV_REGISTER) dev.inDev = new InDevice();
}

/** Give an interface its IPv4 address ("169.254.77.2/24") and the connected route. */
export function ipAddrAdd(net: Net, dev: NetDevice, cidr: string): void {
  const { addr, prefixLen } = parseCidr(cidr);
  ipAddrSet(net, dev, addr, prefixLen);
}

/**
 * ipAddrAdd with the address and prefix length as numbers (a DHCP lease). `announce` false:
 * the caller sends the gratuitous ARP itself (a DHCP client, from a shallower stack).
 */
export function ipAddrSet(net: Net, dev: NetDevice, addr: number, prefixLen: number, announce = true): void {
  // A host address: not multicast, broadcast or network 0; 127/8 only on loopback.
  if (ipIsMulticast(addr) || addr === INADDR_BROADCAST || ipIsZeronet(addr) || (ipIsLoopback(addr) && (dev.flags & IFF_LOOPBACK) === 0)) {
    throw new TypeError(`${formatIpv4(addr)}/${prefixLen} is not a usable address for ${dev.name}`);
  }
  if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > 32) throw new RangeError(`prefix length ${prefixLen} is not in 0..32`);
  const inDev = dev.inDev;
  if (inDev.configured) net.ipv4.routes.delConnected(dev);
  inDev.addr = addr;
  inDev.prefixLen = prefixLen;
  inDev.mask = prefixMask(prefixLen);
  inDev.broadcast = prefixLen >= 31 ? INADDR_BROADCAST : ((addr & inDev.mask) | ~inDev.mask) >>> 0;
  inDev.configured = true;
  net.ipv4.routes.add((addr & inDev.mask) >>> 0, prefixLen, 0, dev, 0);
  // A new address is announced at once on a working link (gratuitous ARP, RFC 5227 3).
  if (announce && dev.isUp && dev.hasCarrier && (dev.flags & IFF_NOARP) === 0) arpAnnounce(net, dev);
}

/**
 * Take an interface's IPv4 address away (an expired lease, a move to another subnet): the
 * address and its connected route go. Routes added by hand through the interface stay (their
 * owner removes them: routeDel); connections bound to the address fail when they next send.
 * False when the interface had no address.
 */
export function ipAddrDel(net: Net, dev: NetDevice): boolean {
  const inDev = dev.inDev;
  if (!inDev.configured) return false;
  net.ipv4.routes.delConnected(dev);
  inDev.addr = 0;
  inDev.prefixLen = 0;
  inDev.mask = 0;
  inDev.broadcast = 0;
  inDev.configured = false;
  return true;
}

/** Remove the route to "10.0.0.0/8" ("0.0.0.0/0": the default route). False when there was none. */
export function routeDel(net: Net, destCidr: string): boolean {
  const { addr, prefixLen } = parseCidr(destCidr);
  return net.ipv4.routes.del((addr & prefixMask(prefixLen)) >>> 0, prefixLen);
}

/** A route: "10.0.0.0/8" via "10.1.0.1" (or null for on-link) through dev. */
export function routeAdd(net: Net, destCidr: string, gateway: string | null, dev: NetDevice, metric = 0): void {
  const { addr, prefixLen } = parseCidr(destCidr);
  const gw = gateway === null ? 0 : parseIpv4(gateway);
  // Not "connected": a route added by hand stays when the interface's address changes.
  net.ipv4.routes.add((addr & prefixMask(prefixLen)) >>> 0, prefixLen, gw, dev, metric, false);
}

/** The default route through a gateway on one of the interfaces. */
export function setDefaultGateway(net: Net, gateway: string, dev?: NetDevice): void {
  const gw = parseIpv4(gateway);
  if (ipIsMulticast(gw) || gw === INADDR_BROADCAST || ipIsZeronet(gw) || ipIsLoopback(gw)) throw new TypeError(`gateway ${gateway} is not a unicast address`);
  const onLink = (d: NetDevice): boolean => d.inDev.configured && ((gw & d.inDev.mask) >>> 0) === ((d.inDev.addr & d.inDev.mask) >>> 0);
  const out = dev ?? net.devices.find(onLink);
  if (!out || !onLink(out)) throw new TypeError(`gateway ${gateway} is not on the subnet of ${dev ? dev.name : "any interface"}`);
  net.ipv4.routes.add(0, 0, gw, out, 0);
}

/**
 * ip_mc_join_group: receive datagrams for a multicast group on dev, in the MAC's filter,
 * and tell the routers (IGMP reports, src/ipv4/igmp.ts; never for 224.0.0.1, which every
 * interface is in, RFC 1112 4).
 */
export function ipMcJoin(dev: NetDevice, group: string): void {
  const g = parseIpv4(group);
  if (!ipIsMulticast(g)) throw new TypeError(`${group} is not a multicast address`);
  for (let i = 0; i < dev.mcCount; i++) if (dev.mcList[i] === g) return;
  if (dev.mcCount >= dev.mcList.length) throw new RangeError(`device ${dev.name}: multicast list full (${dev.mcList.length} groups)`);
  dev.mcList[dev.mcCount++] = g;
  dev.ops.setRxMode(dev);
  dev.net.igmp.joined(dev, g);
}

/** ip_mc_leave_group: the group off dev's list; IGMP says so (a Leave, RFC 2236 3). */
export function ipMcLeave(dev: NetDevice, group: string): void {
  const g = parseIpv4(group);
  for (let i = 0; i < dev.mcCount; i++) {
    if (dev.mcList[i] === g) {
      dev.mcList[i] = dev.mcList[--dev.mcCount];
      dev.ops.setRxMode(dev);
      dev.net.igmp.left(dev, g);
      return;
    }
  }
}
