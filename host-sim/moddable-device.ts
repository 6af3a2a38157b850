// The device (host-sim/device.ts: the stack on a UDP link to a Linux TAP through socat, with
// the device app's services) running one of Moddable's network modules, read unchanged from
// the SDK's examples, on Node's real clock (host-sim/moddable-apps.ts says what each does):
//
//   node --experimental-vm-modules --import tsx host-sim/moddable-device.ts \
//     --link udp:47001:47002 --ip 169.254.77.2/24 --moddable ../shared/moddable \
//     httpclient --server 169.254.77.1 --port 8000 --get /blob.bin
//
// A client program stops the device when it is done; the HTTP server serves until SIGINT or
// SIGTERM. Exit code 0 when the program went as it should and the link worked.

import { Command, InvalidArgumentError, Option } from "commander";
import { parseCidr, parseIpv4 } from "../src/wire/ipv4";
import { MODDABLE_PROGRAMS, moddableProgram, type ModdableProgramName } from "./moddable-apps";
import { runDevice } from "./device";

function wrap<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw err;
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

function port(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 65535) throw new InvalidArgumentError(`expected a port in 1..65535, got '${text}'`);
  return Number(text);
}

function parseLink(text: string): { localPort: number; remotePort: number } {
  const m = /^udp:([^:]+):([^:]+)$/.exec(text);
  if (!m) throw new InvalidArgumentError(`expected udp:LOCAL_PORT:REMOTE_PORT, got '${text}'`);
  return { localPort: port(m[1]), remotePort: port(m[2]) };
}

const program = new Command()
  .name("moddable-device")
  .description("xsnet as a device on a UDP link, running one of Moddable's network modules from the SDK's examples")
  .argument("<program>", `one of ${MODDABLE_PROGRAMS.join(", ")}`, (t: string) => {
    if (!(MODDABLE_PROGRAMS as readonly string[]).includes(t)) throw new InvalidArgumentError(`expected one of ${MODDABLE_PROGRAMS.join(", ")}, got '${t}'`);
    return t;
  })
  .addOption(new Option("--link <spec>", "the UDP link: udp:LOCAL_PORT:REMOTE_PORT (127.0.0.1)").makeOptionMandatory().argParser(wrap(parseLink)))
  .addOption(new Option("--ip <address/prefix>", "device address, e.g. 169.254.77.2/24").makeOptionMandatory().argParser(wrap((t) => (parseCidr(t), t))))
  .addOption(new Option("--moddable <dir>", "the copy of the Moddable SDK's files (examples/io below it)").makeOptionMandatory())
  .addOption(new Option("--server <address>", "the server's IPv4 address (clients)").argParser(wrap((t) => (parseIpv4(t), t))))
  .addOption(new Option("--port <n>", "the server's port (clients), or the port to serve on (httpserver, default 8080)").argParser(wrap(port)))
  .addOption(new Option("--get <path>", "httpclient: a path to GET (repeat for several, on one connection)").argParser((t: string, all: string[] = []) => [...all, t]))
  .addOption(new Option("--expect <n>", "mqttclient: messages to receive before it is done").default(0).argParser(wrap((t) => {
    if (!/^\d+$/.test(t)) throw new InvalidArgumentError(`expected a count, got '${t}'`);
    return Number(t);
  })))
  .addOption(new Option("--pcap <file>", "write a capture of the device's frames"))
  .showHelpAfterError();

program.parse();
const opts = program.opts<{
  link: { localPort: number; remotePort: number };
  ip: string;
  moddable: string;
  server?: string;
  port?: number;
  get?: string[];
  expect: number;
  pcap?: string;
}>();
const name = program.processedArgs[0] as ModdableProgramName;

async function main(): Promise<number> {
  const log = (line: string): void => console.log(line);
  const moddable = moddableProgram({ program: name, moddableDir: opts.moddable, server: opts.server, port: opts.port, paths: opts.get, expect: opts.expect, log });
  const summary = await runDevice({
    localPort: opts.link.localPort,
    remotePort: opts.link.remotePort,
    cidr: opts.ip,
    pcapPath: opts.pcap,
    log,
    program: moddable.start,
  });
  if (summary.reason === "program failed" || moddable.failure() !== null) return 1;
  // A client program must have finished; the server is stopped by a signal.
  if (name !== "httpserver" && !moddable.finished()) return 1;
  return summary.poolFull ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`moddable-device: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
