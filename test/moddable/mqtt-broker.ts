// An MQTT 3.1.1 broker (OASIS MQTT Version 3.1.1) for the simulated internet, written for the
// tests of Moddable's MQTT client on xsnet, over xsnet's ECMA-419 TCP classes: CONNECT ->
// CONNACK (3.2), SUBSCRIBE -> SUBACK granting at most QoS 1 (3.8, 3.9), UNSUBSCRIBE ->
// UNSUBACK (3.10, 3.11), PUBLISH routed to every matching subscription at the lesser QoS
// (3.3, 4.7 topic filters with + and #), QoS 1 answered with PUBACK (4.3.2), QoS 2 with
// PUBREC and PUBREL with PUBCOMP (4.3.3), PINGREQ -> PINGRESP (3.12), DISCONNECT closes (3.14).
// A malformed packet closes the connection (4.8). Each operation is logged in order, for the
// test to check. Node-free: runs in XS too. Test code: it allocates freely.

import type { TcpListener, TcpListenerClass, TcpSocket, TcpSocketClass } from "../../src/socket/tcp";
import { utf8Decode, utf8Encode } from "../../host-sim/moddable/runtime";

export const PORT_MQTT = 1883;

const CONNECT = 1;
const CONNACK = 2;
const PUBLISH = 3;
const PUBACK = 4;
const PUBREC = 5;
const PUBREL = 6;
const PUBCOMP = 7;
const SUBSCRIBE = 8;
const SUBACK = 9;
const UNSUBSCRIBE = 10;
const UNSUBACK = 11;
const PINGREQ = 12;
const PINGRESP = 13;
const DISCONNECT = 14;

export interface BrokerMessage {
  topic: string;
  qos: number;
  payload: Uint8Array;
}

class Session {
  sock: TcpSocket | null = null;
  clientId = "";
  connected = false;
  /** bytes received and not yet parsed */
  inBuf = new Uint8Array(1024);
  inLen = 0;
  /** bytes to send, written as room allows */
  out: Uint8Array[] = [];
  outPos = 0;
  writable = 0;
  subs: { filter: string; qos: number }[] = [];
  nextId = 1;
}

export class MqttBroker {
  /** every packet in and out, in order: "in CONNECT xsnet-device", "out PUBLISH xsnet/a q1 id 1 (5 bytes)" */
  readonly log: string[] = [];
  /** messages received from clients */
  readonly published: BrokerMessage[] = [];
  /** protocol errors that closed a connection */
  readonly errors: string[] = [];
  /** told of each line added to the log */
  onLog: ((line: string) => void) | null = null;
  readonly #TCP: TcpSocketClass;
  readonly #Listener: TcpListenerClass;
  readonly #sessions = new Set<Session>();
  #listener: TcpListener | null = null;

  constructor(TCP: TcpSocketClass, Listener: TcpListenerClass) {
    this.#TCP = TCP;
    this.#Listener = Listener;
  }

  start(port = PORT_MQTT): this {
    const broker = this;
    this.#listener = new this.#Listener({
      port,
      onReadable(count) {
        for (let i = 0; i < count; i++) {
          const from = this.read();
          if (from !== undefined) broker.#accept(from);
        }
      },
    });
    return this;
  }

  close(): void {
    for (const s of this.#sessions) s.sock?.close();
    this.#sessions.clear();
    this.#listener?.close();
    this.#listener = null;
  }

  #accept(from: TcpSocket): void {
    const session = new Session();
    const broker = this;
    this.#sessions.add(session);
    session.sock = new this.#TCP({
      from,
      onReadable(count) {
        broker.#received(session, new Uint8Array(this.read(count)));
      },
      onWritable(count) {
        session.writable = count;
        broker.#flush(session);
      },
      onError() {
        broker.#drop(session);
      },
    });
  }

  #drop(session: Session): void {
    session.sock?.close();
    session.sock = null;
    this.#sessions.delete(session);
  }

  #fail(session: Session, why: string): void {
    this.errors.push(why);
    this.#note(`error ${why}`);
    this.#drop(session);
  }

  #received(session: Session, bytes: Uint8Array): void {
    if (session.inLen + bytes.length > session.inBuf.length) {
      const grown = new Uint8Array(Math.max(session.inBuf.length * 2, session.inLen + bytes.length));
      grown.set(session.inBuf.subarray(0, session.inLen));
      session.inBuf = grown;
    }
    session.inBuf.set(bytes, session.inLen);
    session.inLen += bytes.length;
    // Every complete packet: fixed header, remaining length (1 to 4 bytes, 2.2.3), body.
    for (;;) {
      const b = session.inBuf;
      if (session.inLen < 2) return;
      let length = 0;
      let at = 1;
      for (let shift = 0; ; shift += 7) {
        if (at >= session.inLen) return;
        const byte = b[at++];
        length += (byte & 0x7f) << shift;
        if ((byte & 0x80) === 0) break;
        if (shift === 21) return this.#fail(session, "remaining length over 4 bytes");
      }
      if (session.inLen < at + length) return;
      const packet = b.slice(at, at + length);
      const header = b[0];
      b.copyWithin(0, at + length, session.inLen);
      session.inLen -= at + length;
      this.#packet(session, header >> 4, header & 15, packet);
      if (session.sock === null) return;
    }
  }

  #packet(session: Session, type: number, flags: number, p: Uint8Array): void {
    if (!session.connected && type !== CONNECT) return this.#fail(session, "first packet is not CONNECT");
    const u16 = (at: number) => (p[at] << 8) | p[at + 1];
    const str = (at: number) => utf8Decode(p.subarray(at + 2, at + 2 + u16(at)));
    switch (type) {
      case CONNECT: {
        // 3.1.2: protocol name "MQTT", level 4, then flags, keepalive, client identifier.
        if (session.connected) return this.#fail(session, "second CONNECT");
        if (str(0) !== "MQTT" || p[6] !== 4) return this.#fail(session, "not MQTT 3.1.1");
        session.clientId = str(10);
        session.connected = true;
        this.#note(`in CONNECT ${session.clientId} keepalive ${u16(8)}`);
        this.#send(session, CONNACK << 4, Uint8Array.of(0, 0));
        this.#note("out CONNACK 0");
        return;
      }
      case PUBLISH: {
        const qos = (flags >> 1) & 3;
        if (qos === 3) return this.#fail(session, "PUBLISH with QoS 3");
        const topic = str(0);
        let at = 2 + u16(0);
        const id = qos > 0 ? u16(at) : 0;
        if (qos > 0) at += 2;
        const payload = p.slice(at);
        this.published.push({ topic, qos, payload });
        this.#note(`in PUBLISH ${topic} q${qos}${qos > 0 ? ` id ${id}` : ""} (${payload.length} bytes)`);
        if (qos === 1) this.#ack(session, PUBACK, id);
        if (qos === 2) this.#ack(session, PUBREC, id);
        this.#route(topic, qos, payload);
        return;
      }
      case PUBACK:
      case PUBCOMP:
        this.#note(`in ${type === PUBACK ? "PUBACK" : "PUBCOMP"} ${u16(0)}`);
        return;
      case PUBREC:
        this.#note(`in PUBREC ${u16(0)}`);
        this.#ack(session, PUBREL, u16(0));
        return;
      case PUBREL:
        this.#note(`in PUBREL ${u16(0)}`);
        this.#ack(session, PUBCOMP, u16(0));
        return;
      case SUBSCRIBE:
      case UNSUBSCRIBE: {
        if (flags !== 2) return this.#fail(session, "SUBSCRIBE or UNSUBSCRIBE flags are not 2 (3.8.1)");
        const id = u16(0);
        const granted: number[] = [];
        for (let at = 2; at < p.length; ) {
          const filter = str(at);
          at += 2 + u16(at);
          if (type === SUBSCRIBE) {
            const qos = Math.min(p[at++] & 3, 1);
            session.subs = session.subs.filter((s) => s.filter !== filter);
            session.subs.push({ filter, qos });
            granted.push(qos);
            this.#note(`in SUBSCRIBE ${filter} q${qos}`);
          } else {
            session.subs = session.subs.filter((s) => s.filter !== filter);
            this.#note(`in UNSUBSCRIBE ${filter}`);
          }
        }
        if (type === SUBSCRIBE) {
          this.#send(session, SUBACK << 4, Uint8Array.of(id >> 8, id & 255, ...granted));
          this.#note(`out SUBACK ${id}`);
        } else {
          this.#ack(session, UNSUBACK, id);
        }
        return;
      }
      case PINGREQ:
        this.#note("in PINGREQ");
        this.#send(session, PINGRESP << 4, new Uint8Array(0));
        this.#note("out PINGRESP");
        return;
      case DISCONNECT:
        this.#note("in DISCONNECT");
        this.#drop(session);
        return;
      default:
        return this.#fail(session, `unexpected packet type ${type}`);
    }
  }

  #note(line: string): void {
    this.log.push(line);
    if (this.onLog !== null) this.onLog(line);
  }

  #ack(session: Session, type: number, id: number): void {
    this.#send(session, (type << 4) | (type === PUBREL ? 2 : 0), Uint8Array.of(id >> 8, id & 255));
    const names = ["", "", "", "", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP", "", "", "", "UNSUBACK"];
    this.#note(`out ${names[type]} ${id}`);
  }

  /** Deliver to every session subscribed to a matching filter, at the lesser QoS (3.3.5). */
  #route(topic: string, qos: number, payload: Uint8Array): void {
    for (const s of this.#sessions) {
      let best = -1;
      for (const sub of s.subs) if (topicMatches(sub.filter, topic) && sub.qos > best) best = sub.qos;
      if (best < 0) continue;
      const q = Math.min(qos, best);
      const name = utf8Encode(topic);
      if (s.nextId > 0xffff) s.nextId = 1; // packet identifiers are 1..65535 (2.3.1)
      const id = q > 0 ? s.nextId++ : 0;
      const head = new Uint8Array(2 + name.length + (q > 0 ? 2 : 0));
      head[0] = name.length >> 8;
      head[1] = name.length & 255;
      head.set(name, 2);
      if (q > 0) {
        head[2 + name.length] = id >> 8;
        head[3 + name.length] = id & 255;
      }
      const body = new Uint8Array(head.length + payload.length);
      body.set(head);
      body.set(payload, head.length);
      this.#send(s, (PUBLISH << 4) | (q << 1), body);
      this.#note(`out PUBLISH ${topic} q${q}${q > 0 ? ` id ${id}` : ""} (${payload.length} bytes)`);
    }
  }

  #send(session: Session, header: number, body: Uint8Array): void {
    const len: number[] = [];
    let n = body.length;
    do {
      let byte = n & 0x7f;
      n >>>= 7;
      if (n > 0) byte |= 0x80;
      len.push(byte);
    } while (n > 0);
    const packet = new Uint8Array(1 + len.length + body.length);
    packet[0] = header;
    packet.set(len, 1);
    packet.set(body, 1 + len.length);
    session.out.push(packet);
    this.#flush(session);
  }

  /** Write what the send buffer takes now (ECMA-419 writes are all or nothing); onWritable goes on. */
  #flush(session: Session): void {
    const sock = session.sock;
    while (sock !== null && session.out.length > 0 && session.writable > 0) {
      const chunk = session.out[0];
      const n = Math.min(chunk.length - session.outPos, session.writable);
      session.writable = sock.write(chunk.subarray(session.outPos, session.outPos + n));
      session.outPos += n;
      if (session.outPos === chunk.length) {
        session.out.shift();
        session.outPos = 0;
      }
    }
  }
}

/** MQTT 4.7: "+" matches one level, "#" (last) any number; wildcards do not match a topic starting with "$". */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  if (topic.startsWith("$") && (f[0] === "+" || f[0] === "#")) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
