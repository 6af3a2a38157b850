// The fault-injecting relay as a program, between socat and the device on loopback:
//
//   socat TUN:...,tun-type=tap UDP-DATAGRAM:127.0.0.1:9210,bind=127.0.0.1:9200 &
//   tsx host-sim/relay-cli.ts --socat 9210:9200 --device 9211:9201 --seed 7 --loss 0.05 \
//       --reorder 0.05 --hold-ms 5 --dup 0.01 &
//   npm start -- --link udp:9201:9211 --ip 169.254.77.2/24
//
// --socat LOCAL:REMOTE   the relay binds LOCAL (socat's UDP-DATAGRAM target) and sends to
//                        REMOTE (socat's bind port)
// --device LOCAL:REMOTE  the relay binds LOCAL (the device's --link REMOTE) and sends to
//                        REMOTE (the device's --link LOCAL)
// Prints "xsnet relay up: ..." once both sockets are bound, the counters on SIGUSR1 and at
// SIGINT/SIGTERM, then exits 0. Node-only.

import { Command, InvalidArgumentError, Option } from "commander";
import { UdpRelay, type RelaySide } from "./relay";

function side(text: string): RelaySide {
  const m = /^(\d+):(\d+)$/.exec(text);
  if (!m) throw new InvalidArgumentError(`expected LOCAL_PORT:REMOTE_PORT, got '${text}'`);
  const localPort = Number(m[1]);
  const remotePort = Number(m[2]);
  for (const p of [localPort, remotePort]) if (p < 1 || p > 65535) throw new InvalidArgumentError(`port ${p} is not in 1..65535`);
  return { localPort, remotePort };
}

function rate(text: string): number {
  const n = Number(text);
  if (text.trim() === "" || !(n >= 0 && n <= 1)) throw new InvalidArgumentError(`expected a fraction in [0, 1], got '${text}'`);
  return n;
}

function ms(text: string): number {
  const n = Number(text);
  if (text.trim() === "" || !(n >= 0 && n <= 60_000)) throw new InvalidArgumentError(`expected milliseconds in [0, 60000], got '${text}'`);
  return n;
}

const program = new Command()
  .name("xsnet-relay")
  .description("A seeded fault-injecting UDP relay between socat and an xsnet device (one Ethernet frame per datagram).")
  .addOption(new Option("--socat <local:remote>", "socat side: bind LOCAL, send to socat's REMOTE").argParser(side).makeOptionMandatory())
  .addOption(new Option("--device <local:remote>", "device side: bind LOCAL, send to the device's REMOTE").argParser(side).makeOptionMandatory())
  .addOption(new Option("--seed <n>", "the seed every decision derives from").default(1).argParser((t) => {
    if (!/^\d+$/.test(t) || Number(t) > 0xffffffff) throw new InvalidArgumentError(`expected an integer in 0..4294967295, got '${t}'`);
    return Number(t);
  }))
  .addOption(new Option("--loss <fraction>", "probability a frame is lost").default(0).argParser(rate))
  .addOption(new Option("--reorder <fraction>", "probability a frame is held back --hold-ms").default(0).argParser(rate))
  .addOption(new Option("--hold-ms <ms>", "how long a held frame waits").default(5).argParser(ms))
  .addOption(new Option("--dup <fraction>", "probability a frame is sent twice").default(0).argParser(rate))
  .addOption(new Option("--corrupt <fraction>", "probability one bit past the Ethernet header is flipped").default(0).argParser(rate))
  .showHelpAfterError();

program.parse();
const o = program.opts<{ socat: RelaySide; device: RelaySide; seed: number; loss: number; reorder: number; holdMs: number; dup: number; corrupt: number }>();

const relay = new UdpRelay({
  socat: o.socat,
  device: o.device,
  seed: o.seed,
  faults: { lossRate: o.loss, reorderRate: o.reorder, holdMs: o.holdMs, duplicateRate: o.dup, corruptRate: o.corrupt },
});

function printCounters(): void {
  for (const l of relay.format()) console.log(l);
  console.log(`relay socket_errors=${relay.socketErrors}${relay.lastSocketError ? ` last=${relay.lastSocketError.message}` : ""}`);
}

let stopping = false;
function stop(why: string): void {
  if (stopping) return;
  stopping = true;
  relay.stop();
  console.log(`xsnet relay stopped (${why})`);
  printCounters();
  process.exit(0);
}

process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGUSR1", () => printCounters());

relay.start().then(
  () => {
    console.log(`xsnet relay up: socat side ${relay.host}:${o.socat.localPort} -> :${o.socat.remotePort}, ` +
      `device side ${relay.host}:${o.device.localPort} -> :${o.device.remotePort}, seed=${o.seed} ` +
      `loss=${o.loss} reorder=${o.reorder} hold_ms=${o.holdMs} dup=${o.dup} corrupt=${o.corrupt}`);
  },
  (err: Error) => {
    console.error(`xsnet relay: ${err.message}`);
    relay.stop();
    process.exit(1);
  },
);
