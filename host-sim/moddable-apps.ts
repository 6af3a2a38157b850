// Moddable's HTTP client and server, MQTT client and SNTP client (examples/io of the SDK,
// loaded unchanged) as the program of a device on the UDP link (host-sim/moddable-device.ts),
// against servers nobody here wrote on the Linux side (test/linux/moddable.test.ts:
// python3's http.server, curl, mosquitto, chronyd). The module's imports are this stack's
// socket classes (hostProvider), Timer on Node's clock, time and text/decoder; names resolve
// by a table holding the server's address only (no DNS on the device). Each program prints
// one line per event, which the test checks:
//   httpclient  GET each path from the server on one client (keep-alive): status,
//               Content-Length, bytes and SHA-256 of each body; done after the last
//   httpserver  Moddable's server: GET /hello (text), GET /bytes/N (N bytes of i % 251 with
//               Content-Length), POST /echo (the body back), GET /chunked (a chunked body),
//               anything else 404; a line per response; serves until stopped
//   mqttclient  connect, subscribe to xsnet/linux/# (QoS 1), publish xsnet/device/q0 (QoS 0)
//               and xsnet/device/q1 (QoS 1, 16 kB written in pieces), a line per PUBACK and
//               per message received (topic, QoS, bytes, SHA-256); done after `expect`
//               messages and the PUBACK, with a DISCONNECT
//   sntp        ask the server for the time, print it beside this machine's clock; done
// mqttclient.js cannot be closed from inside its onReadable: after the callback returns it
// sets the format of the socket it has just closed, which throws (SyntaxError, as Moddable's
// own sockets throw on a closed socket, lwip/tcp.c xs_tcp_set_format). The module is run
// unchanged; the program ends on the next timer turn instead.
// Node-only (node:crypto, node:fs).

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { Net } from "../src/core/net";
import { hostProvider, type HostNetwork } from "../src/socket/provider";
import { installDeviceBuiltins, makeSystem, makeTime, tableResolverClass, TextDecoder, utf8Encode } from "./moddable/runtime";
import type { ModdableTimer } from "./moddable/timer";
import type { DeviceProgram } from "./device";
import { loadModule, nodeTimer } from "./moddable-runtime";

export const MODDABLE_PROGRAMS = Object.freeze(["httpclient", "httpserver", "mqttclient", "sntp"] as const);
export type ModdableProgramName = (typeof MODDABLE_PROGRAMS)[number];

export interface ModdableProgramOptions {
  program: ModdableProgramName;
  /** the copy of the SDK files (../shared/moddable) */
  moddableDir: string;
  /** the server's address (clients) */
  server?: string;
  /** the server's port (clients), or the port to listen on (httpserver) */
  port?: number;
  /** httpclient: the paths to GET, in order */
  paths?: string[];
  /** mqttclient: messages to receive before it is done */
  expect?: number;
  log: (line: string) => void;
}

/** A class as a loaded module's default export (the modules are JavaScript: any shape). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyClass = new (options: any) => any;

interface Context {
  options: ModdableProgramOptions;
  network: HostNetwork;
  Resolver: AnyClass;
  Timer: ModdableTimer;
  /** the default export of a module below examples/io */
  load(file: string): Promise<AnyClass>;
  log(line: string): void;
  /** the end: no argument when it went as it should; the first call counts */
  finish(failure?: string): void;
}

type Program = (ctx: Context) => Promise<{ close(): void }>;

/** MQTT: what the device publishes and where it listens. */
export const MQTT_TOPICS = Object.freeze({ subscribe: "xsnet/linux/#", q0: "xsnet/device/q0", q1: "xsnet/device/q1" });
export const MQTT_Q0_TEXT = "hello from Moddable's MQTT client on xsnet";
export const MQTT_Q1_BYTES = 16 * 1024;
const MQTT_Q1_ID = 77;
const MQTT_FIRST_PIECE = 100;

/** n bytes of i % 251 from `start` */
export function pattern251(start: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (start + i) % 251;
  return out;
}

function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

const PROGRAMS: Readonly<Record<ModdableProgramName, Program>> = Object.freeze({
  async httpclient(ctx: Context) {
    const { server, port, paths = [] } = ctx.options;
    if (server === undefined || paths.length === 0) throw new Error("httpclient: a server and at least one path are needed");
    const HTTPClient = await ctx.load("tcp/httpclient/httpclient.js");
    let left = paths.length;
    const client = new HTTPClient({
      host: server,
      port,
      dns: { io: ctx.Resolver },
      socket: { io: ctx.network.tcp?.io },
      onError(error: unknown) {
        // The server may close after the last response (a 404 closes in python's server).
        if (left > 0) ctx.finish(`the client's onError with ${left} requests left: ${describe(error)}`);
      },
    });
    for (const path of paths) {
      const hash = createHash("sha256");
      let bytes = 0;
      let status = 0;
      let length = "-";
      const t0 = performance.now();
      client.request({
        path,
        onHeaders(s: number, headers: Map<string, string>) {
          status = s;
          length = headers.get("content-length") ?? "-";
        },
        onReadable(this: { read(n: number): ArrayBuffer }, count: number) {
          const b = new Uint8Array(this.read(count));
          hash.update(b);
          bytes += b.length;
        },
        onDone(error: unknown) {
          if (error) return ctx.finish(`GET ${path}: ${describe(error)}`);
          const ms = performance.now() - t0;
          ctx.log(`httpclient: GET ${path} status=${status} content-length=${length} bytes=${bytes} sha256=${hash.digest("hex")} ms=${ms.toFixed(0)}`);
          if (--left === 0) {
            client.close();
            ctx.finish();
          }
        },
      });
    }
    return { close: () => client.close() };
  },

  async httpserver(ctx: Context) {
    const HTTPServer = await ctx.load("listener/httpserver/httpserver.js");
    // i % 251 from any offset, as a view: a window of this at (offset % 251)
    const window = pattern251(0, 65536 + 251);
    interface Exchange { method: string; path: string; body: Uint8Array[]; reply: Uint8Array | null; total: number; sent: number; chunked: boolean }
    const server = new HTTPServer({
      io: ctx.network.listener?.io,
      port: ctx.options.port ?? 8080,
      onConnect(connection: { accept(options: object): void }) {
        connection.accept({
          onRequest(this: { x: Exchange }, request: { method: string; path: string }) {
            this.x = { method: request.method, path: request.path, body: [], reply: null, total: 0, sent: 0, chunked: false };
          },
          onReadable(this: { x: Exchange; read(n: number): ArrayBuffer }, count: number) {
            this.x.body.push(new Uint8Array(this.read(count)));
          },
          onResponse(this: { x: Exchange; respond(r: object): void }, response: { status: number; headers: Map<string, string | number> }) {
            const x = this.x;
            const bytes = /^\/bytes\/(\d{1,9})$/.exec(x.path);
            if (x.method === "GET" && x.path === "/hello") {
              x.reply = utf8Encode("hello from Moddable's HTTP server on xsnet\n");
            } else if (x.method === "GET" && bytes !== null) {
              x.total = Number(bytes[1]);
            } else if (x.method === "POST" && x.path === "/echo") {
              x.reply = concat(x.body);
            } else if (x.method === "GET" && x.path === "/chunked") {
              x.reply = utf8Encode("chunks from Moddable's server on xsnet\n");
              x.chunked = true;
              response.headers.set("transfer-encoding", "chunked");
            } else {
              response.status = 404;
              x.reply = utf8Encode("not found\n");
            }
            if (x.reply !== null) x.total = x.reply.length;
            if (!x.chunked) response.headers.set("content-length", x.total);
            ctx.log(`httpserver: ${x.method} ${x.path} body=${x.body.reduce((n, b) => n + b.length, 0)} -> ${response.status} ${x.total} bytes${x.chunked ? " chunked" : ""}`);
            this.respond(response);
          },
          onWritable(this: { x: Exchange; write(data?: Uint8Array): number }, count: number) {
            const x = this.x;
            if (x.chunked) {
              // Chunks of at most 16 bytes (the module takes 8 of count for each chunk's framing).
              if (x.sent < x.total) {
                const n = Math.min(count, 16, x.total - x.sent);
                this.write((x.reply as Uint8Array).subarray(x.sent, x.sent + n));
                x.sent += n;
              }
              if (x.sent === x.total) {
                x.sent++;
                this.write(); // the last chunk
              }
              return;
            }
            let room = count;
            while (room > 0 && x.sent < x.total) {
              const n = Math.min(room, x.total - x.sent, 65536);
              const at = x.sent % 251;
              room = this.write(x.reply === null ? window.subarray(at, at + n) : x.reply.subarray(x.sent, x.sent + n));
              x.sent += n;
            }
          },
          onError(this: { x?: Exchange }, message: unknown) {
            ctx.log(`httpserver: onError ${describe(message)} (${this.x?.method ?? "-"} ${this.x?.path ?? "-"})`);
          },
        });
      },
    });
    ctx.log(`httpserver: listening on ${String(server.port)}`);
    return { close: () => server.close() };
  },

  async mqttclient(ctx: Context) {
    const { server, port, expect = 0 } = ctx.options;
    if (server === undefined) throw new Error("mqttclient: a server is needed");
    const MQTTClient = await ctx.load("tcp/mqttclient/mqttclient.js");
    const C = MQTTClient as unknown as Record<string, number>;
    const big = pattern251(0, MQTT_Q1_BYTES);
    let bigSent = -1;
    let acked = false;
    let received = 0;
    let closed = false;
    let message: { topic: string; QoS: number; byteLength: number; bytes: number; hash: ReturnType<typeof createHash> } | null = null;
    // The end on the next timer turn, not inside the module's callback: mqttclient.js sets
    // its socket's format after onReadable returns, which throws once the client closed it.
    const check = (): void => {
      if (!acked || received < expect || closed) return;
      closed = true;
      ctx.Timer.set(() => {
        try {
          client.write(null, { operation: C.DISCONNECT });
        } catch (err) {
          ctx.log(`mqtt: DISCONNECT not written: ${describe(err)}`);
        }
        client.close();
        ctx.finish();
      });
    };
    const client = new MQTTClient({
      host: server,
      port,
      id: "xsnet-device",
      keepalive: 60_000,
      dns: { io: ctx.Resolver },
      socket: { io: ctx.network.tcp?.io },
      onControl(this: { write(data: Uint8Array | null, options?: object): number }, msg: { operation: number; id?: number; returnCode?: number; payload?: number[] }) {
        if (msg.operation === C.CONNACK) {
          ctx.log(`mqtt: CONNACK ${msg.returnCode}`);
          this.write(null, { operation: C.SUBSCRIBE, items: [{ topic: MQTT_TOPICS.subscribe, QoS: 1 }] });
        } else if (msg.operation === C.SUBACK) {
          ctx.log(`mqtt: subscribed ${MQTT_TOPICS.subscribe} granted=${(msg.payload ?? []).join(",")}`);
          this.write(utf8Encode(MQTT_Q0_TEXT), { topic: MQTT_TOPICS.q0, QoS: 0 });
          // The first piece now, the rest as the socket takes it (onWritable).
          this.write(big.subarray(0, MQTT_FIRST_PIECE), { topic: MQTT_TOPICS.q1, byteLength: MQTT_Q1_BYTES, QoS: 1, id: MQTT_Q1_ID });
          bigSent = MQTT_FIRST_PIECE;
          ctx.log(`mqtt: published ${MQTT_TOPICS.q0} and ${MQTT_TOPICS.q1}`);
        } else if (msg.operation === C.PUBACK) {
          ctx.log(`mqtt: PUBACK ${msg.id}`);
          if (msg.id === MQTT_Q1_ID) acked = true;
        } else {
          ctx.log(`mqtt: control ${msg.operation}${msg.id !== undefined ? ` ${msg.id}` : ""}`);
        }
        check();
      },
      onWritable(this: { write(data: Uint8Array): number }, count: number) {
        if (bigSent < 0 || bigSent >= MQTT_Q1_BYTES) return;
        const n = Math.min(count, MQTT_Q1_BYTES - bigSent);
        this.write(big.subarray(bigSent, bigSent + n));
        bigSent += n;
      },
      onReadable(this: { read(n: number): ArrayBuffer }, count: number, options: { topic?: string; QoS?: number; byteLength?: number; more?: boolean }) {
        if (options.topic !== undefined) message = { topic: options.topic, QoS: options.QoS ?? 0, byteLength: options.byteLength ?? 0, bytes: 0, hash: createHash("sha256") };
        const b = new Uint8Array(this.read(count));
        if (message === null) return ctx.finish("mqtt: payload bytes before any topic");
        message.hash.update(b);
        message.bytes += b.length;
        if (options.more === true) return;
        received++;
        ctx.log(`mqtt: received ${message.topic} qos=${message.QoS} byteLength=${message.byteLength} bytes=${message.bytes} sha256=${message.hash.digest("hex")}`);
        message = null;
        check();
      },
      onError() {
        if (!closed) ctx.finish("the MQTT client's onError");
      },
    });
    return {
      close() {
        if (closed) return;
        closed = true;
        client.close();
      },
    };
  },

  async sntp(ctx: Context) {
    const { server } = ctx.options;
    if (server === undefined) throw new Error("sntp: a server is needed");
    const SNTP = await ctx.load("udp/sntp/sntp.js");
    const sntp = new SNTP({
      host: server,
      onTime(value: number) {
        // This process's wall clock is the namespace's (CLOCK_REALTIME is not namespaced).
        const clock = Date.now();
        sntp.close();
        ctx.log(`sntp: time=${value} (${new Date(value).toISOString()}) clock=${clock} (${new Date(clock).toISOString()})`);
        ctx.finish();
      },
      onError() {
        ctx.finish("the SNTP client's onError");
      },
    });
    return { close: () => sntp.close() };
  },
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Start a program on `net` (RunDeviceOptions.program): `done` when it has finished; it prints
 * "moddable: done" or "moddable: FAILED: why"; failure() and finished() say how it went.
 */
export function moddableProgram(options: ModdableProgramOptions): { start(net: Net, done: () => void): Promise<DeviceProgram>; failure(): string | null; finished(): boolean } {
  let failure: string | null = null;
  let finished = false;
  const start = async (net: Net, done: () => void): Promise<DeviceProgram> => {
    const builtins = installDeviceBuiltins();
    const finish = (why?: string): void => {
      if (finished) return;
      finished = true;
      if (why !== undefined) failure = why;
      options.log(failure === null ? "moddable: done" : `moddable: FAILED: ${failure}`);
      done();
    };
    const Timer = nodeTimer((err) => finish(`a timer's callback threw: ${(err as Error)?.stack ?? describe(err)}`));
    const names: Readonly<Record<string, string>> = Object.freeze(options.server === undefined ? {} : { [options.server]: options.server });
    const network = hostProvider(net);
    const globals = Object.freeze({
      System: makeSystem(Timer, names),
      trace: (...args: unknown[]) => options.log(`trace: ${args.map((a) => String(a)).join("").trimEnd()}`),
    });
    const modules = Object.freeze({
      "embedded:io/socket/tcp": Object.freeze({ default: network.tcp?.io }),
      "embedded:io/socket/listener": Object.freeze({ default: network.listener?.io }),
      "embedded:io/socket/udp": Object.freeze({ default: network.udp?.io }),
      timer: Object.freeze({ default: Timer }),
      time: Object.freeze({ default: makeTime(() => performance.now()) }),
      "text/decoder": Object.freeze({ default: TextDecoder }),
    });
    const ctx: Context = {
      options,
      network,
      Resolver: tableResolverClass(Timer, names) as AnyClass,
      Timer,
      async load(file: string) {
        const path = join(options.moddableDir, "examples/io", file);
        const namespace = await loadModule(file, readFileSync(path, "utf8"), modules, globals);
        options.log(`moddable: loaded ${path}`);
        return namespace.default as AnyClass;
      },
      log: options.log,
      finish,
    };
    options.log(`moddable: ${options.program}${builtins.length > 0 ? ` (provided: ${builtins.join(", ")})` : ""}`);
    const running = await PROGRAMS[options.program](ctx);
    return { stop: () => running.close() };
  };
  return { start, failure: () => failure, finished: () => finished };
}
