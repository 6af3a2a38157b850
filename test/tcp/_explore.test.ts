import { it, expect } from "vitest";
import { tcpSocketClasses } from "../../src/socket/tcp";
import { makeWorld } from "../helpers";

it("explore", () => {
  const world = makeWorld(1);
  const lan = world.addLan("lan", { delayMs: 1 });
  const a = world.addHost("a", { tcpTimeWaitMs: 2000 });
  const b = world.addHost("b", { tcpTimeWaitMs: 2000 });
  world.attach(a, lan, "10.0.0.1/24");
  world.attach(b, lan, "10.0.0.2/24");
  const A = tcpSocketClasses(a.net);
  const B = tcpSocketClasses(b.net);
  const log: string[] = [];
  let server: any;
  const l = new B.Listener({ port: 80, onReadable(n) { log.push(`listener ${n}`); server = new B.TCP({ from: this.read()!, onReadable(n) { log.push(`srv readable ${n}`); const d = this.read(); log.push(`got ${(d as ArrayBuffer).byteLength}`); }, onError() { log.push("srv error"); this.close(); } }); } });
  const client = new A.TCP({ address: "10.0.0.2", port: 80, onWritable(n) { log.push(`cli writable ${n}`); }, onError() { log.push("cli error"); } });
  world.runFor(100);
  client.write(new Uint8Array(5000));
  world.runFor(100);
  client.close();
  world.runFor(5000);
  console.log(log, a.net.tcp.stats, b.net.tcp.stats, a.net.drops.snapshot(), b.net.drops.snapshot(), world.now);
  l.close();
});
