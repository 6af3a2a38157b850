// The UDP link driver over loopback, in this process: a peer socket plays socat and fires a
// burst of ARP requests (and one oversize datagram) at a device whose RX ring has 4
// descriptors. With direct I/O a full ring stops reading and the socket holds the rest, so
// every request is answered; through Node's datagram events alone the ring overflows and
// the excess is counted as missed. Real time, well under a second.
import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { type Net } from "../../src/core/net";
import { init } from "../../src/stack";
import type { NetDevice } from "../../src/core/netdevice";
import { NodePlatform } from "../../host-sim/node-platform";
import { UdpLinkDriver } from "../../host-sim/udp-link";
import { freeUdpPort } from "../helpers";
import { ipAddrAdd } from "../../src/ipv4/devinet";
import { devClose, devOpen } from "../../src/core/link";
import { ARPOP_REPLY, ARPOP_REQUEST } from "../../src/wire/arp";
import { arpFrame, arpOf, BCAST_MAC, ip, isArp, mac } from "../packets";

const DEVICE_MAC = new Uint8Array([0x02, 0x78, 0x73, 0x6e, 0x65, 0x74]);
const PEER_MAC = mac("02:00:00:00:00:01");
const BURST = 100;

/** The peer (169.254.77.1) asks who has the device's address. */
const ARP_REQUEST = arpFrame(BCAST_MAC, ARPOP_REQUEST, PEER_MAC, ip("169.254.77.1"), new Uint8Array(6), ip("169.254.77.2"));

interface Setup {
  net: Net;
  dev: NetDevice;
  driver: UdpLinkDriver;
  peer: Socket;
  replies: number;
  platform: NodePlatform;
}

let current: Setup | null = null;

async function setUp(directIo: boolean): Promise<Setup> {
  const peer = createSocket("udp4");
  await new Promise<void>((resolve) => peer.bind(0, "127.0.0.1", () => resolve()));
  const devicePort = await freeUdpPort();
  const platform = new NodePlatform();
  const net = init({ skbSlots: 256, skbRecords: 320 }, platform);
  platform.net = net;
  const driver = new UdpLinkDriver({ localPort: devicePort, remotePort: peer.address().port, rxRingSize: 4, directIo });
  const dev = driver.register(net, "eth0", DEVICE_MAC);
  ipAddrAdd(net, dev, "169.254.77.2/24");
  const s: Setup = { net, dev, driver, peer, replies: 0, platform };
  peer.on("message", (m) => {
    if (isArp(m) && arpOf(m).op === ARPOP_REPLY) s.replies++;
  });
  devOpen(dev);
  await driver.whenUp();
  peer.connect(devicePort, "127.0.0.1");
  await new Promise<void>((resolve) => peer.once("connect", () => resolve()));
  current = s;
  return s;
}

/** Fire the burst; resolves with the frames the device sent meanwhile, once all is counted. */
async function burst(s: Setup): Promise<number> {
  const txBefore = s.dev.stats.txPackets;
  for (let i = 0; i < BURST; i++) {
    if (i === BURST / 2) s.peer.send(new Uint8Array(2000)); // longer than any frame (1514)
    s.peer.send(ARP_REQUEST);
  }
  const end = Date.now() + 5000;
  while (Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    const st = s.dev.stats;
    if (st.rxPackets + st.rxMissedErrors + st.rxLengthErrors >= BURST + 1 && s.replies >= st.rxPackets) break;
  }
  return s.dev.stats.txPackets - txBefore;
}

afterEach(async () => {
  const s = current;
  current = null;
  if (s === null) return;
  devClose(s.dev);
  s.net.shutdown();
  s.platform.close();
  await new Promise<void>((resolve) => s.peer.close(() => resolve()));
  const pool = s.net.pool.stats();
  expect(pool.inUse, "pool back to full").toBe(0);
  expect(pool.recordsInUse).toBe(0);
});

describe("UDP link driver over loopback", () => {
  it.skipIf(process.platform !== "linux")("direct I/O: a full ring holds the burst in the socket, every request answered", async () => {
    const s = await setUp(true);
    expect(s.driver.directIo).toBe(true);
    const sent = await burst(s);
    const st = s.dev.stats;
    expect(st.rxMissedErrors).toBe(0);
    expect(st.rxLengthErrors).toBe(1);
    expect(st.rxPackets).toBe(BURST);
    expect(s.replies).toBe(BURST);
    expect(sent).toBe(BURST);
    expect(s.driver.rxPauses).toBeGreaterThan(0);
  });

  it("datagram events only: the ring overflows and the excess is counted, nothing lost silently", async () => {
    const s = await setUp(false);
    expect(s.driver.directIo).toBe(false);
    await burst(s);
    const st = s.dev.stats;
    expect(st.rxLengthErrors).toBe(1);
    expect(st.rxPackets + st.rxMissedErrors).toBe(BURST);
    expect(st.rxMissedErrors).toBeGreaterThan(0);
    expect(s.replies).toBe(st.rxPackets);
  });
});
