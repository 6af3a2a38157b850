// Moddable's own network modules, loaded unchanged from the SDK's examples (the ECMA-419 HTTP
// client and server, the MQTT client, the SNTP client), running on xsnet in virtual time on
// the LAN of lan.ts, with Moddable's runtime modules (timer, time, text/decoder) on the
// simulation's clock and each host's socket classes from hostProvider. Each scenario drives
// a module through real traffic and checks what came back byte for byte:
//   httpclient   keep-alive GETs to src/apps' HTTP server: a JSON status, 1.5 MB of
//                i % 251, a 404, all on one connection; then two chunked responses (chunks
//                of 1 byte to 5 kB) on one connection from a chunked responder written here
//   httpserver   Moddable's server on the device, Moddable's client on the other host: a
//                POST echoed back, 300 kB with Content-Length, a 404; and a chunked response
//                read raw, whose last chunk shows the module's own bug (below)
//
// Moddable's httpserver.js ends a chunked response with "\n\r\n" where "0\r\n\r\n" is due:
// its write() with no data sets #pendingWrite to "0\r\n\r\n" without setting #writePosition
// back to 0, so the 2 bytes of the header block's final "\r\n" are skipped. It is JavaScript
// above the socket: Moddable's own sockets send the same bytes. (httpclient.js's
// request.write() with no data, for chunked request bodies, has the same flaw.) The module is
// run unchanged; the scenario records the bytes it sends.
//   mqttclient   connect, subscribe, QoS 0 and QoS 1 publications (one of 16 kB written in
//                pieces) routed back by mqtt-broker.ts, PUBACKs both ways, a ping
//   sntp         pool.ntp.org (sntp-server.ts) answers; onTime is that server's clock
//   httpclient-dns  the HTTP client with xsnet's DNS resolver as its dns.io: a CNAME to the
//                internet host from host-sim's DNS server, then NXDOMAIN through onError
// Node-free: runs in XS too. Test code: it allocates freely.

import { hostProvider, type HostNetwork } from "../../src/socket/provider";
import type { SimHost } from "../../host-sim/sim/world";
import { closeModdableLan, DEVICE_IP, HOST_NAMES, INTERNET_IP, makeModdableLan, type ModdableLan } from "./lan";
import { MqttBroker } from "./mqtt-broker";
import { makeSystem, makeTime, tableResolverClass, TextDecoder, utf8Decode, utf8Encode, type ModdableTime } from "../../host-sim/moddable/runtime";
import { describe, drive, type LoadModule, type ModuleMap, type TestFile, type Turn } from "./testmc";
import { makeTimer, type ModdableTimer } from "../../host-sim/moddable/timer";
import { DnsResolver } from "../../src/lan/dns-resolver";
import { dnsResolverClass } from "../../src/lan/dns-resolver-udp";
import { udpSocketClass } from "../../src/socket/udp";
import { SimDnsServer } from "../../host-sim/sim/dns-server";

/** The module files a scenario loads, by their path below examples/io of the SDK. */
export const EXAMPLE_MODULES = Object.freeze([
  "tcp/httpclient/httpclient.js",
  "listener/httpserver/httpserver.js",
  "tcp/mqttclient/mqttclient.js",
  "udp/sntp/sntp.js",
]);

export interface ExampleResult {
  name: string;
  pass: boolean;
  message: string;
  virtualMs: number;
  events: number;
  /** what the scenario measured, for the report */
  facts: Record<string, unknown>;
  trace: string;
}

/** A class as a loaded module's default export (the modules are JavaScript: any shape). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyClass = new (options: any) => any;

interface Context {
  lan: ModdableLan;
  Timer: ModdableTimer;
  Time: ModdableTime;
  /** the resolver class given to modules as dns.io */
  Resolver: AnyClass;
  /** a host's device.network entries */
  network(host: SimHost): HostNetwork;
  /** the default export of one of EXAMPLE_MODULES, loaded for `host` (its imports are that host's) */
  load(name: string, host: SimHost): Promise<AnyClass>;
  fact(name: string, value: unknown): void;
  done(error?: unknown): void;
}

type Scenario = (ctx: Context) => Promise<void>;

const SCENARIO_LIMIT_MS = 120_000;
const PORT_CHUNKED = 8080;
/** the chunk sizes the chunked responder sends, per response */
const CHUNKS = Object.freeze([1, 10, 1000, 5000, 3]);
const BIG_GET = 1_500_000;
const BIG_SERVED = 300_000;

/** Bytes i % 251 from `start`: what src/apps' /bytes/N sends, and what the device's server sends here. */
function pattern(start: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (start + i) % 251;
  return out;
}

const SCENARIOS: Readonly<Record<string, Scenario>> = Object.freeze({
  async httpclient(ctx: Context) {
    const { lan } = ctx;
    const HTTPClient = await ctx.load("tcp/httpclient/httpclient.js", lan.device);
    const client = new HTTPClient({
      host: "www.example.com",
      dns: { io: ctx.Resolver },
      socket: { io: ctx.network(lan.device).tcp?.io },
      onError(error: unknown) {
        ctx.done(`the client's onError: ${describe(error)}`);
      },
    });
    const answers: string[] = [];
    let pending = 3;
    const finished = (): void => {
      if (--pending > 0) return;
      ctx.fact("answers", answers);
      ctx.fact("server connections", lan.http.stats.connections);
      ctx.fact("server requests", lan.http.stats.requests);
      client.close();
      if (lan.http.stats.connections !== 1 || lan.http.stats.requests !== 3) return ctx.done(`keep-alive: ${lan.http.stats.connections} connections for ${lan.http.stats.requests} requests`);
      if (answers.join(" | ") !== '200 {"host":"www.example.com"} | 200 1500000 bytes, 0 wrong | 404') return ctx.done(`answers: ${answers.join(" | ")}`);
      chunked();
    };
    // Chunked responses, twice on one connection.
    const responder = startChunkedResponder(ctx.network(lan.internet), PORT_CHUNKED);
    const chunked = (): void => {
      const client2 = new HTTPClient({ host: "www.example.com", port: PORT_CHUNKED, dns: { io: ctx.Resolver }, socket: { io: ctx.network(lan.device).tcp?.io } });
      const bodies: string[] = [];
      for (let r = 0; r < 2; r++) {
        const parts: Uint8Array[] = [];
        client2.request({
          path: `/chunked/${r}`,
          onReadable(this: { read(n: number): ArrayBuffer }, count: number) {
            parts.push(new Uint8Array(this.read(count)));
          },
          onDone(error: unknown) {
            if (error) return ctx.done(`chunked ${r}: ${describe(error)}`);
            const body = concat(parts);
            const want = chunkedBody(r);
            let wrong = body.length === want.length ? 0 : 1;
            for (let i = 0; i < want.length; i++) if (body[i] !== want[i]) wrong++;
            bodies.push(`${body.length} bytes, ${wrong} wrong`);
            if (bodies.length < 2) return;
            ctx.fact("chunked", bodies);
            ctx.fact("chunked connections", responder.connections);
            client2.close();
            responder.close();
            const expect = `${want.length} bytes, 0 wrong`;
            ctx.done(bodies.join() === `${expect},${expect}` && responder.connections === 1 ? undefined : `chunked: ${bodies.join("; ")} on ${responder.connections} connections`);
          },
        });
      }
    };
    // GET / : the server's JSON status, read as text.
    let text = "";
    const decoder = new TextDecoder();
    client.request({
      path: "/",
      headers: new Map([["user-agent", "ecma-419 on xsnet"]]),
      onHeaders(status: number) {
        answers.push(String(status));
      },
      onReadable(this: { read(n: number): ArrayBuffer }, count: number) {
        text += decoder.decode(this.read(count), { stream: true });
      },
      onDone(error: unknown) {
        if (error) return ctx.done(`GET /: ${describe(error)}`);
        answers[answers.length - 1] += ` ${text}${decoder.decode()}`;
        finished();
      },
    });
    // GET /bytes/1500000: every byte checked against i % 251, as it comes.
    let got = 0;
    let wrong = 0;
    client.request({
      path: `/bytes/${BIG_GET}`,
      onHeaders(status: number, headers: Map<string, string>) {
        answers.push(String(status));
        if (headers.get("content-length") !== String(BIG_GET)) ctx.done(`content-length ${headers.get("content-length")}`);
      },
      onReadable(this: { read(n: number): ArrayBuffer }, count: number) {
        const bytes = new Uint8Array(this.read(count));
        for (let i = 0; i < bytes.length; i++) if (bytes[i] !== (got + i) % 251) wrong++;
        got += bytes.length;
      },
      onDone(error: unknown) {
        if (error) return ctx.done(`GET /bytes: ${describe(error)}`);
        answers[answers.length - 1] += ` ${got} bytes, ${wrong} wrong`;
        finished();
      },
    });
    // GET /missing: 404, its body read and dropped.
    client.request({
      path: "/missing",
      onHeaders(status: number) {
        answers.push(String(status));
      },
      onReadable(this: { read(n: number): ArrayBuffer }, count: number) {
        this.read(count);
      },
      onDone(error: unknown) {
        if (error) return ctx.done(`GET /missing: ${describe(error)}`);
        finished();
      },
    });
  },

  async httpserver(ctx: Context) {
    const { lan } = ctx;
    const HTTPServer = await ctx.load("listener/httpserver/httpserver.js", lan.device);
    const HTTPClient = await ctx.load("tcp/httpclient/httpclient.js", lan.internet);
    const served: string[] = [];
    interface Exchange { path: string; body: Uint8Array[]; reply: Uint8Array; sent: number }
    const server = new HTTPServer({
      io: ctx.network(lan.device).listener?.io,
      port: 80,
      onConnect(connection: { accept(options: object): void }) {
        connection.accept({
          onRequest(this: { x: Exchange }, request: { method: string; path: string }) {
            served.push(`${request.method} ${request.path}`);
            this.x = { path: request.path, body: [], reply: new Uint8Array(0), sent: 0 };
          },
          onReadable(this: { x: Exchange; read(n: number): ArrayBuffer }, count: number) {
            this.x.body.push(new Uint8Array(this.read(count)));
          },
          onResponse(this: { x: Exchange; respond(r: object): void }, response: { status: number; headers: Map<string, string | number> }) {
            const x = this.x;
            if (x.path === "/echo") {
              // The request body back, upper case.
              x.reply = utf8Encode(utf8Decode(concat(x.body)).toUpperCase());
              response.headers.set("content-length", x.reply.length);
            } else if (x.path === "/chunked") {
              x.reply = utf8Encode("chunks from Moddable's server");
              response.headers.set("transfer-encoding", "chunked");
            } else if (x.path === "/big") {
              x.reply = pattern(0, BIG_SERVED);
              response.headers.set("content-length", BIG_SERVED);
            } else {
              response.status = 404;
              x.reply = utf8Encode("not here");
              response.headers.set("content-length", x.reply.length);
            }
            this.respond(response);
          },
          onWritable(this: { x: Exchange; write(data?: Uint8Array): number }, count: number) {
            const x = this.x;
            const chunked = x.path === "/chunked";
            // Chunks of at most 10 bytes, so the body comes in several.
            const room = chunked ? Math.min(count - 8, 10) : count;
            if (x.sent < x.reply.length && room > 0) {
              const n = Math.min(room, x.reply.length - x.sent);
              this.write(x.reply.subarray(x.sent, x.sent + n));
              x.sent += n;
            }
            if (chunked && x.sent === x.reply.length) {
              x.sent++;
              this.write(); // the last chunk
            }
          },
          onError() {
            ctx.done("the server's onError");
          },
        });
      },
    });
    const request = (options: { method?: string; path: string; body?: Uint8Array; check(status: number, body: Uint8Array, headers: Map<string, string>): string | null }): Promise<void> =>
      new Promise((resolve) => {
        const client = new HTTPClient({ host: DEVICE_IP, dns: { io: ctx.Resolver }, socket: { io: ctx.network(lan.internet).tcp?.io } });
        const parts: Uint8Array[] = [];
        let status = 0;
        let headers = new Map<string, string>();
        let sent = 0;
        const body = options.body;
        client.request({
          method: options.method,
          path: options.path,
          headers: body === undefined ? new Map() : new Map([["content-length", String(body.length)]]),
          onWritable(this: { write(data: Uint8Array): number }, count: number) {
            if (body === undefined || sent >= body.length) return;
            const n = Math.min(count, body.length - sent);
            this.write(body.subarray(sent, sent + n));
            sent += n;
          },
          onHeaders(s: number, h: Map<string, string>) {
            status = s;
            headers = h;
          },
          onReadable(this: { read(n: number): ArrayBuffer }, count: number) {
            parts.push(new Uint8Array(this.read(count)));
          },
          onDone(error: unknown) {
            client.close();
            if (error) return ctx.done(`${options.path}: ${describe(error)}`);
            const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
            let at = 0;
            for (const p of parts) {
              all.set(p, at);
              at += p.length;
            }
            const why = options.check(status, all, headers);
            if (why !== null) return ctx.done(`${options.path}: ${why}`);
            resolve();
          },
        });
      });
    const sentence = "xsnet carries Moddable's HTTP server. ".repeat(80);
    await request({
      method: "POST",
      path: "/echo",
      body: utf8Encode(sentence),
      check(status, body) {
        ctx.fact("echo", `${status} ${body.length} bytes`);
        return status === 200 && utf8Decode(body) === sentence.toUpperCase() ? null : `got ${status}, ${body.length} bytes`;
      },
    });
    await request({
      path: "/big",
      check(status, body) {
        const want = pattern(0, BIG_SERVED);
        let wrong = 0;
        for (let i = 0; i < want.length; i++) if (body[i] !== want[i]) wrong++;
        ctx.fact("big", `${status} ${body.length} bytes, ${wrong} wrong`);
        return status === 200 && body.length === BIG_SERVED && wrong === 0 ? null : `got ${status}, ${body.length} bytes, ${wrong} wrong`;
      },
    });
    await request({ path: "/nowhere", check: (status, body) => (status === 404 && utf8Decode(body) === "not here" ? null : `got ${status}`) });
    // A chunked response, read raw to the server's close: the chunks, then how it ends.
    const raw = await rawGet(ctx.network(lan.internet), DEVICE_IP, 80, "/chunked");
    const text = utf8Decode(raw);
    const body = text.slice(text.indexOf("\r\n\r\n") + 4);
    let decoded = "";
    let at = 0;
    for (;;) {
      const eol = body.indexOf("\r\n", at);
      const size = eol < 0 ? NaN : parseInt(body.slice(at, eol), 16);
      if (!(size > 0)) break;
      decoded += body.slice(eol + 2, eol + 2 + size);
      at = eol + 2 + size + 2;
    }
    ctx.fact("chunked body", decoded);
    ctx.fact("chunked ending", body.slice(at));
    ctx.fact("served", served);
    server.close();
    if (decoded !== "chunks from Moddable's server") return ctx.done(`chunked body: ${decoded}`);
    ctx.done(served.join(", ") === "POST /echo, GET /big, GET /nowhere, GET /chunked" ? undefined : `served ${served.join(", ")}`);
  },

  async mqttclient(ctx: Context) {
    const { lan } = ctx;
    const internet = ctx.network(lan.internet);
    const broker = new MqttBroker(internet.tcp!.io, internet.listener!.io).start();
    const MQTTClient = await ctx.load("tcp/mqttclient/mqttclient.js", lan.device);
    const C = MQTTClient as unknown as Record<string, number>;
    const received = new Map<string, Uint8Array[]>();
    const acks: number[] = [];
    const controls: string[] = [];
    const BIG = 16 * 1024;
    const big = pattern(7, BIG);
    let bigStarted = false;
    let bigSent = 0;
    let pings = 0;
    // Done when everything came back and the broker heard the client's PUBACKs of its two QoS 1 deliveries.
    const brokerAcks = () => broker.log.filter((l) => l.startsWith("in PUBACK")).length;
    const check = (): void => {
      const text = (topic: string) => utf8Decode(concat(received.get(topic) ?? []));
      const bigIn = concat(received.get("xsnet/big") ?? []);
      if (text("xsnet/hello") !== "hello, mqtt" || text("xsnet/qos1") !== "at least once" || bigIn.length !== 3 + BIG || pings !== 1 || acks.length !== 2 || brokerAcks() < 2) return;
      broker.onLog = null;
      let wrong = 0;
      for (let i = 0; i < BIG; i++) if (bigIn[3 + i] !== big[i]) wrong++;
      ctx.fact("received", [...received.keys()].map((t) => `${t} ${concat(received.get(t) ?? []).length}`));
      ctx.fact("pubacks", acks);
      ctx.fact("broker", broker.log);
      client.write(null, { operation: C.DISCONNECT });
      client.close();
      broker.close();
      if (utf8Decode(bigIn.subarray(0, 3)) !== "BIG" || wrong !== 0) return ctx.done(`the 16 kB message: ${wrong} bytes wrong`);
      if (acks.join() !== "77,78") return ctx.done(`PUBACKs ${acks.join()}`);
      if (brokerAcks() !== 2 || broker.errors.length !== 0) return ctx.done(`broker: ${brokerAcks()} PUBACKs in, errors ${broker.errors.join("; ")}`);
      ctx.done();
    };
    broker.onLog = check;
    const client = new MQTTClient({
      host: "broker.example.com",
      port: 1883,
      id: "xsnet-device",
      keepalive: 60_000,
      dns: { io: ctx.Resolver },
      socket: { io: ctx.network(lan.device).tcp?.io },
      onControl(this: { write(data: ArrayBuffer | Uint8Array | null, options?: object): number }, msg: { operation: number; id?: number }) {
        controls.push(`${msg.operation}${msg.id !== undefined ? ` ${msg.id}` : ""}`);
        if (msg.operation === C.CONNACK) {
          this.write(null, { operation: C.SUBSCRIBE, items: [{ topic: "xsnet/+", QoS: 1 }] });
        } else if (msg.operation === C.SUBACK) {
          this.write(utf8Encode("hello, mqtt"), { topic: "xsnet/hello" });
          this.write(utf8Encode("at least once"), { topic: "xsnet/qos1", QoS: 1, id: 77 });
          this.write(null, { operation: C.PINGREQ });
          // 3 bytes now, the other 16 kB as the socket takes them (onWritable).
          this.write(utf8Encode("BIG"), { topic: "xsnet/big", byteLength: 3 + BIG, QoS: 1, id: 78 });
          bigStarted = true;
        } else if (msg.operation === C.PUBACK) {
          acks.push(msg.id as number);
        } else if (msg.operation === C.PINGRESP) {
          pings++;
        }
        check();
      },
      onWritable(this: { write(data: Uint8Array): number }, count: number) {
        if (!bigStarted || bigSent >= BIG) return;
        const n = Math.min(count, BIG - bigSent);
        this.write(big.subarray(bigSent, bigSent + n));
        bigSent += n;
      },
      onReadable(this: { read(n: number): ArrayBuffer; lastTopic?: string }, count: number, options: { topic?: string }) {
        if (options.topic !== undefined) this.lastTopic = options.topic;
        const topic = this.lastTopic as string;
        const parts = received.get(topic) ?? [];
        parts.push(new Uint8Array(this.read(count)));
        received.set(topic, parts);
        check();
      },
      onError() {
        ctx.done(`the client's onError (controls ${controls.join(", ")})`);
      },
    });
  },

  async sntp(ctx: Context) {
    const { lan } = ctx;
    const SNTP = await ctx.load("udp/sntp/sntp.js", lan.device);
    const sntp = new SNTP({
      host: "pool.ntp.org",
      onTime(value: number) {
        sntp.close();
        const now = lan.sntp.unixMs();
        ctx.fact("onTime", new Date(value).toISOString());
        ctx.fact("server", new Date(now).toISOString());
        ctx.fact("requests", lan.sntp.stats.requests);
        // NTP seconds, truncated: at most a second behind the server's clock.
        ctx.done(value <= now && now - value < 1000 ? undefined : `onTime ${value}, the server's clock ${now}`);
      },
      onError() {
        ctx.done("onError");
      },
    });
  },
  // Moddable's HTTP client with xsnet's DNS resolver as its `dns` (dnsResolverClass over a
  // DnsResolver on the device): www.example.com, a CNAME, asked of host-sim's DNS server on
  // the internet host, then a name that does not exist reported through the client's onError.
  async "httpclient-dns"(ctx: Context) {
    const { lan } = ctx;
    const HTTPClient = await ctx.load("tcp/httpclient/httpclient.js", lan.device);
    const zone = { "www.example.com": { cname: "web.example.com", ttl: 60 }, "web.example.com": { a: [INTERNET_IP], ttl: 60 } };
    const server = new SimDnsServer(udpSocketClass(lan.internet.net), { zone }).start();
    const service = new DnsResolver(lan.device.net);
    const dns = { io: dnsResolverClass(service), servers: [INTERNET_IP], socket: { io: ctx.network(lan.device).udp?.io } };
    const socket = { io: ctx.network(lan.device).tcp?.io };
    const finish = (error?: string): void => {
      ctx.fact("names asked", server.asked);
      ctx.fact("queries sent", service.stats.sent);
      service.close();
      server.close();
      ctx.done(error);
    };
    let text = "";
    const client = new HTTPClient({
      host: "www.example.com",
      dns,
      socket,
      onError(error: unknown) {
        finish(`the client's onError: ${describe(error)}`);
      },
    });
    client.request({
      path: "/",
      onReadable(this: { read(n: number): ArrayBuffer }, count: number) {
        text += utf8Decode(new Uint8Array(this.read(count)));
      },
      onDone(error: unknown) {
        client.close();
        if (error) return finish(`GET /: ${describe(error)}`);
        ctx.fact("body", text);
        if (text !== '{"host":"www.example.com"}') return finish(`body ${text}`);
        // A name that does not exist: the client says so through its onError.
        new HTTPClient({
          host: "nowhere.example.com",
          dns,
          socket,
          onError(host: unknown) {
            ctx.fact("onError", String(host));
            finish(String(host) === "nowhere.example.com" ? undefined : `onError(${String(host)})`);
          },
        });
      },
    });
  },
});

export const SCENARIO_NAMES = Object.freeze(Object.keys(SCENARIOS));

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The body of chunked response r: CHUNKS' sizes, byte i = (i + r) % 251. */
function chunkedBody(r: number): Uint8Array {
  return pattern(r, CHUNKS.reduce((n, c) => n + c, 0));
}

/**
 * An HTTP/1.1 responder that answers every request on a connection (keep-alive) with a
 * chunked body (RFC 9112 7.1): GET /chunked/R gets chunkedBody(R) in chunks of CHUNKS' sizes.
 */
function startChunkedResponder(network: HostNetwork, port: number): { connections: number; close(): void } {
  const TCP = network.tcp!.io;
  const state = { connections: 0, close: () => listener.close() };
  const listener = new network.listener!.io({
    port,
    onReadable(count) {
      for (let i = 0; i < count; i++) {
        const from = this.read();
        if (from === undefined) return;
        state.connections++;
        let head = "";
        const out: Uint8Array[] = [];
        let writable = 0;
        const flush = (sock: { write(b: Uint8Array): number }): void => {
          while (out.length > 0 && writable > 0) {
            const b = out[0];
            const n = Math.min(b.length, writable);
            writable = sock.write(b.subarray(0, n));
            if (n === b.length) out.shift();
            else out[0] = b.subarray(n);
          }
        };
        new TCP({
          from,
          onWritable(n) {
            writable = n;
            flush(this);
          },
          onReadable(n) {
            head += utf8Decode(new Uint8Array(this.read(n)));
            let end: number;
            while ((end = head.indexOf("\r\n\r\n")) >= 0) {
              const r = Number(/^GET \/chunked\/(\d+) /.exec(head)?.[1] ?? 0);
              head = head.slice(end + 4);
              const body = chunkedBody(r);
              out.push(utf8Encode("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"));
              let at = 0;
              for (const size of CHUNKS) {
                out.push(utf8Encode(`${size.toString(16)}\r\n`), body.subarray(at, at + size), utf8Encode("\r\n"));
                at += size;
              }
              out.push(utf8Encode("0\r\n\r\n"));
              flush(this);
            }
          },
          onError() {
            this.close();
          },
        });
      }
    },
  });
  return state;
}

/** GET path from address:port with `Connection: close` on a plain socket; resolves to every byte up to the server's close. */
function rawGet(network: HostNetwork, address: string, port: number, path: string): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const parts: Uint8Array[] = [];
    let sent = false;
    new network.tcp!.io({
      address,
      port,
      onWritable() {
        if (sent) return;
        sent = true;
        this.write(utf8Encode(`GET ${path} HTTP/1.1\r\nhost: ${address}\r\nconnection: close\r\n\r\n`));
      },
      onReadable(n) {
        parts.push(new Uint8Array(this.read(n)));
      },
      onError() {
        this.close();
        resolve(concat(parts));
      },
    });
  });
}

/** Run one scenario on a fresh LAN; resolves to its result (never rejects). */
export async function runExample(name: string, modules: readonly TestFile[], load: LoadModule, turn: Turn, seed = 1): Promise<ExampleResult> {
  const scenario = SCENARIOS[name];
  const lan = makeModdableLan(seed);
  const loop = lan.world.loop;
  let done = false;
  let failure: string | null = null;
  let traced = "";
  const facts: Record<string, unknown> = {};
  const finish = (error?: unknown): void => {
    if (done) return;
    done = true;
    if (error) failure = describe(error);
  };
  const uncaught = (err: unknown): void => finish(`uncaught exception: ${describe(err)}`);
  const Timer = makeTimer(loop, uncaught);
  const Time = makeTime(() => loop.now);
  const Resolver = tableResolverClass(Timer, HOST_NAMES);
  const globals = Object.freeze({
    trace: (...args: unknown[]) => {
      if (traced.length < 4000) traced += args.map((a) => String(a)).join("");
    },
    System: makeSystem(Timer, HOST_NAMES),
  });
  const networks = new Map<SimHost, HostNetwork>();
  const network = (host: SimHost): HostNetwork => {
    let n = networks.get(host);
    if (n === undefined) {
      n = hostProvider(host.net);
      networks.set(host, n);
    }
    return n;
  };
  const ctx: Context = {
    lan,
    Timer,
    Time,
    Resolver: Resolver as AnyClass,
    network,
    async load(file: string, host: SimHost) {
      const source = modules.find((m) => m.name === file);
      if (source === undefined) throw new Error(`${file}: not given to the scenario`);
      const n = network(host);
      const map: ModuleMap = {
        "embedded:io/socket/tcp": Object.freeze({ default: n.tcp?.io }),
        "embedded:io/socket/listener": Object.freeze({ default: n.listener?.io }),
        "embedded:io/socket/udp": Object.freeze({ default: n.udp?.io }),
        timer: Object.freeze({ default: Timer }),
        time: Object.freeze({ default: Time }),
        "text/decoder": Object.freeze({ default: TextDecoder }),
      };
      const namespace = (await load(source, map, globals)) as { default: AnyClass };
      return namespace.default;
    },
    fact(key: string, value: unknown) {
      facts[key] = value;
    },
    done: finish,
  };
  if (scenario === undefined) finish(`no scenario ${name}`);
  else scenario(ctx).then(undefined, uncaught);
  await drive(loop, () => done, finish, uncaught, turn, SCENARIO_LIMIT_MS, "end");
  const virtualMs = loop.now;
  const events = loop.eventsRun;
  const poolsFull = closeModdableLan(lan);
  if (failure === null && !poolsFull) failure = "a packet pool was not full after the stacks shut down";
  return { name, pass: failure === null, message: failure ?? "", virtualMs, events, facts, trace: failure === null ? "" : traced };
}

export async function runExamples(modules: readonly TestFile[], load: LoadModule, turn: Turn): Promise<ExampleResult[]> {
  const results: ExampleResult[] = [];
  for (const name of SCENARIO_NAMES) results.push(await runExample(name, modules, load, turn));
  return results;
}
