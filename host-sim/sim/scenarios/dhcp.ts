// The DHCP client against the simulated server: a lease, its renewal, the server gone until
// the lease runs out, a conflict that makes the client decline, and a lease again.

import { Pinger } from "../../../src/apps/ping";
import type { NetDevice } from "../../../src/core/netdevice";
import { DhcpClient, type DhcpClientOptions } from "../../../src/lan/dhcp-client";
import { SimDhcpServer, type SimDhcpServerOptions } from "../dhcp-server";
import type { SimLan } from "../lan";
import { SimWorld, type SimHost } from "../world";
import { report, type ScenarioReport } from "./report";

export interface DhcpLan {
  world: SimWorld;
  lan: SimLan;
  serverHost: SimHost;
  clientHost: SimHost;
  /** the client's interface, no address until the lease */
  dev: NetDevice;
  server: SimDhcpServer;
  client: DhcpClient;
}

/** A server (10.0.0.1) handing out 10.0.0.100.. and a client with no address, not started. */
export function dhcpLan(seed: number, server: Partial<SimDhcpServerOptions> = {}, client: DhcpClientOptions = {}): DhcpLan {
  const world = new SimWorld(seed);
  const lan = world.addLan("lan", { delayMs: 1 });
  const serverHost = world.addHost("server");
  const clientHost = world.addHost("client");
  world.attach(serverHost, lan, "10.0.0.1/24");
  const dev = world.attach(clientHost, lan, null);
  const srv = new SimDhcpServer(serverHost.net, {
    first: "10.0.0.100", count: 20, prefixLength: 24, leaseSecs: 3600, router: "10.0.0.1",
    dns: ["10.0.0.53", "10.0.0.54"], ntp: ["10.0.0.123"], ...server,
  });
  const c = new DhcpClient(clientHost.net, dev, { hostname: "xsnet", ...client });
  return { world, lan, serverHost, clientHost, dev, server: srv, client: c };
}

/** Lease, renew, server loss to expiry, a conflict declined, a lease again; a ping at the end. */
export function dhcpLease(seed: number): ScenarioReport {
  let leases = 0;
  let lost = 0;
  const { world, lan, clientHost, dev, server, client } = dhcpLan(seed, { leaseSecs: 120 }, { onLease: () => leases++, onLost: () => lost++ });
  client.start();
  world.runFor(20_000);
  const boundFirst = client.stateName === "bound" ? 1 : 0;
  // T1 at 60 s: renewed by unicast.
  world.runFor(60_000);
  const renewed = client.stats.renewals;
  // The server goes quiet: renewing, rebinding, then the lease runs out.
  server.mode = "silent";
  world.runFor(130_000);
  const expired = client.stats.lost;
  // Another host takes the address the server would offer next.
  const squatter = world.addHost("squatter");
  world.attach(squatter, lan, "10.0.0.100/24");
  server.mode = "normal";
  world.runFor(200_000);
  const ping = new Pinger(clientHost.net, 0x4443);
  for (let i = 0; i < 3; i++) {
    ping.send("10.0.0.1", 56);
    world.runFor(100);
  }
  const address = dev.inDev.addr >>> 0;
  client.close(true);
  world.runFor(100);
  return report("dhcp-lease", world, [ping], {
    boundFirst, renewed, expired, conflicts: client.stats.conflicts, declines: server.counts.decline,
    leases: client.stats.leases, address, configuredAfterRelease: dev.inDev.configured ? 1 : 0, releases: server.counts.release, onLease: leases, onLost: lost,
  });
}
