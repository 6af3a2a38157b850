// Ping the gateway from a board: the stack on the Moddable platform, one Ethernet
// interface with a static address, an echo request a second, each RTT and a summary by
// trace(). Settings come from mc/config (the manifest's "config", or on the command line):
//
//   mcconfig -d -m -p esp32/<board> ip=192.168.1.20/24 gateway=192.168.1.1 mac=02:00:00:00:00:01

import config from "mc/config";
import Timer from "timer";
import { DmaMacDriver } from "xsnet/drivers/dma-mac";
import { Pinger } from "xsnet/src/apps/ping";
import { MINIMAL_CONFIG, type NetConfig } from "xsnet/src/config";
import { startStack, stopStack } from "xsnet/moddable/start";

// ---- the one board-specific import ---------------------------------------------------
// The register layer of this board's Ethernet MAC (DmaMacHw, drivers/dma-mac.ts). No board
// has one yet: ./board-mac.ts is a placeholder that returns null, and this app then pings
// 127.0.0.1 over the loopback device instead. Map "board-mac" to the board's module in
// manifest.json.
import boardMac from "board-mac";
// ---------------------------------------------------------------------------------------

// A small device: 24 packet buffers (about 38 KB of pool), enough for a MAC's RX and TX
// rings of 8 each and a few frames in flight; room for the fragments of a large first ping
// while ARP resolves; the other tables as MINIMAL_CONFIG.
const STACK_CONFIG: Partial<NetConfig> = { ...MINIMAL_CONFIG, skbSlots: 24, skbRecords: 32, neighQueueMax: 8 };

const count = Number(config.count ?? 10);
const dataBytes = Number(config.size ?? 56);
const hw = boardMac();

const stack = hw === null
  ? startStack({ config: STACK_CONFIG, device: null })
  : startStack({
      config: STACK_CONFIG,
      device: (net, name, mac) => new DmaMacDriver(hw).register(net, name, mac),
      mac: String(config.mac),
      address: String(config.ip),
      gateway: String(config.gateway),
    });
const target = hw === null ? "127.0.0.1" : String(config.gateway);
if (hw === null) trace("xsnet ping: no MAC driver for this board (examples/ping/board-mac.ts is a placeholder); pinging 127.0.0.1 over lo\n");
else trace(`xsnet ping: eth0 ${config.ip}, gateway ${target}\n`);

const pinger = new Pinger(stack.net);
pinger.onReply = (seq, rttMs, bytes) => {
  trace(`${bytes + 8} bytes from ${target}: icmp_seq=${seq} time=${rttMs} ms\n`);
};

// An echo request a second, then the summary (the count lives in this call: a module keeps
// no mutable state, as a preloaded one cannot).
function pingEverySecond(): void {
  let sent = 0;
  Timer.repeat((timer) => {
    if (sent < count) {
      const rc = pinger.send(target, dataBytes);
      if (rc < 0) trace(`icmp_seq=${sent}: not sent (error ${-rc})\n`);
      sent++;
      return;
    }
    // One more second for the last reply, then the summary.
    Timer.clear(timer);
    const loss = pinger.sent === 0 ? 100 : Math.round((100 * (pinger.sent - pinger.received)) / pinger.sent);
    trace(`--- ${target} ping statistics ---\n`);
    trace(`${pinger.sent} transmitted, ${pinger.received} received, ${loss}% loss`);
    if (pinger.received > 0) trace(`, rtt min/avg/max = ${pinger.rttMinMs}/${pinger.rttAvgMs.toFixed(1)}/${pinger.rttMaxMs} ms`);
    trace("\n");
    pinger.close();
    stopStack(stack);
  }, 1000);
}

pingEverySecond();
