// The network Moddable's socket tests expect, simulated in virtual time: the device under
// test (an xsnet stack, 10.0.0.2) on a LAN with another xsnet host (10.0.0.1) that plays the
// internet: www.example.com (HTTP/1.1 on TCP 80, src/apps/http-server.ts) and pool.ntp.org
// (SNTP on UDP 123, sntp-server.ts); the MQTT test adds broker.example.com (mqtt-broker.ts).
// Names resolve by a table ($NETWORK.resolve, and the resolver of runtime.ts).
// Node-free: it runs in XS too.

import { HttpServer } from "../../src/apps/http-server";
import { tcpSocketClasses } from "../../src/socket/tcp";
import { udpSocketClass } from "../../src/socket/udp";
import { SimWorld, type SimHost } from "../../host-sim/sim/world";
import { SntpServer } from "./sntp-server";

export const DEVICE_IP = "10.0.0.2";
export const INTERNET_IP = "10.0.0.1";

/** What $NETWORK.resolve answers. */
export const HOST_NAMES: Readonly<Record<string, string>> = Object.freeze({
  "www.example.com": INTERNET_IP,
  "example.com": INTERNET_IP,
  "pool.ntp.org": INTERNET_IP,
  "broker.example.com": INTERNET_IP,
});

/** The Unix time at virtual time 0: 2026-01-01T00:00:00Z. */
export const EPOCH_MS = 1767225600000;

export interface ModdableLan {
  world: SimWorld;
  device: SimHost;
  internet: SimHost;
  http: HttpServer;
  sntp: SntpServer;
}

export function makeModdableLan(seed: number): ModdableLan {
  // Two packet pools and one LAN's frames: 3 MB of simulated memory is plenty.
  const world = new SimWorld(seed, 1 << 16, 3 << 20);
  const lan = world.addLan("lan", { delayMs: 2 });
  const device = world.addHost("device");
  const internet = world.addHost("internet");
  world.attach(device, lan, `${DEVICE_IP}/24`);
  world.attach(internet, lan, `${INTERNET_IP}/24`);
  const http = new HttpServer(tcpSocketClasses(internet.net), { status: () => '{"host":"www.example.com"}' }).start();
  const sntp = new SntpServer(udpSocketClass(internet.net), () => world.now, EPOCH_MS).start();
  return { world, device, internet, http, sntp };
}

/** Stop both hosts; true when every packet buffer came back to its pool. */
export function closeModdableLan(lan: ModdableLan): boolean {
  lan.http.close();
  lan.sntp.close();
  lan.world.shutdown();
  for (const h of lan.world.hosts) {
    const s = h.net.pool.stats();
    if (s.inUse !== 0 || s.recordsInUse !== 0) return false;
  }
  return true;
}
