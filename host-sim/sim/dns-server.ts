// A small authoritative DNS server for the simulated LAN (RFC 1035), over a host's own UDP
// socket class: A records, CNAME chains (whole in one answer, or only the first link so the
// client asks again), NXDOMAIN and NODATA with the zone's SOA in the authority section
// (RFC 2308 3), SERVFAIL and TC on request, a mode that drops every query (for timeouts and
// fail-over), and hostile answers sent before the true one (a resolver must drop them and
// keep waiting, RFC 5452 9.1). Test code: it allocates freely. Node-free: runs in XS too.

import type { UdpPacket, UdpSocket, UdpSocketClass } from "../../src/socket/udp";

export interface DnsZoneRecord {
  a?: string[];
  cname?: string;
  /** seconds (default 300) */
  ttl?: number;
}

/** What the server answers. "drop": nothing. "servfail", "truncated": that answer to every query. */
export type DnsServerMode = "answer" | "drop" | "servfail" | "truncated";

/** A bad answer sent before the good one (see hostileAnswer). */
export const DNS_HOSTILE_KINDS = Object.freeze([
  "pointer-loop", "forward-pointer", "long-name", "long-label", "bad-counts", "wrong-id", "wrong-question",
  "short", "not-response", "too-big", "wrong-source",
] as const);
export type DnsHostileKind = (typeof DNS_HOSTILE_KINDS)[number];

export interface DnsServerOptions {
  zone: Readonly<Record<string, DnsZoneRecord>>;
  /** the SOA's TTL and MINIMUM (RFC 2308 5: the negative TTL is the smaller) */
  soaTtl?: number;
  soaMinimum?: number;
  /** CNAME chains whole in one answer (default), or only the first CNAME */
  wholeChain?: boolean;
  port?: number;
}

export class SimDnsServer {
  readonly #UDP: UdpSocketClass;
  readonly #opts: DnsServerOptions;
  #sock: UdpSocket | null = null;
  mode: DnsServerMode = "answer";
  /** CNAME chains whole in one answer, or only the first link */
  wholeChain: boolean;
  /** sent (once each, then cleared) before the next true answer */
  hostile: DnsHostileKind[] = [];
  /** sends the "wrong-source" answer: a socket of another host */
  forger: UdpSocket | null = null;
  queries = 0;
  answered = 0;
  /** names asked, in order */
  readonly asked: string[] = [];

  constructor(UDP: UdpSocketClass, options: DnsServerOptions) {
    this.#UDP = UDP;
    this.#opts = options;
    this.wholeChain = options.wholeChain !== false;
  }

  start(): this {
    this.#sock = new this.#UDP({ port: this.#opts.port ?? 53, onReadable: dnsServerReadable, target: this });
    return this;
  }

  close(): void {
    this.#sock?.close();
    this.#sock = null;
  }

  /** One query: the answer, or nothing (mode "drop", or not a query). */
  onQuery(p: UdpPacket): void {
    const q = new Uint8Array(p);
    if (q.length < 12 || (q[2] & 0x80) !== 0) return;
    const name = readName(q, 12);
    if (name === null) return;
    this.queries++;
    this.asked.push(name.text);
    if (this.mode === "drop") return;
    const sock = this.#sock as UdpSocket;
    for (const kind of this.hostile) {
      const bad = hostileAnswer(kind, q, name.end + 4);
      if (kind === "wrong-source") this.forger?.write(bad, p.address, p.port);
      else sock.write(bad, p.address, p.port);
    }
    this.hostile = [];
    sock.write(this.answer(q, name.text, name.end + 4), p.address, p.port);
    this.answered++;
  }

  /** The true answer to the query q (its question ends at qEnd). */
  answer(q: Uint8Array, name: string, qEnd: number): Uint8Array {
    const zone = this.#opts.zone;
    const out: number[] = [];
    const question = Array.from(q.subarray(12, qEnd));
    const header = (rcode: number, an: number, ns: number, tc = false): void => {
      out.push(q[0], q[1], 0x84 | (tc ? 0x02 : 0) | (q[2] & 0x01), 0x80 | rcode, 0, 1, an >> 8, an & 0xff, ns >> 8, ns & 0xff, 0, 0, ...question);
    };
    if (this.mode === "servfail") {
      header(2, 0, 0);
      return new Uint8Array(out);
    }
    const records: number[] = [];
    let an = 0;
    let at: string = name.toLowerCase();
    let owner: number[] = [0xc0, 12];
    for (let hop = 0; hop < 16; hop++) {
      const rec = zone[at];
      if (rec === undefined) break;
      const ttl = rec.ttl ?? 300;
      if (rec.cname !== undefined) {
        const target = encodeName(rec.cname);
        records.push(...owner, 0, 5, 0, 1, ...u32(ttl), target.length >> 8, target.length & 0xff, ...target);
        an++;
        if (!this.wholeChain) break;
        owner = target;
        at = rec.cname.toLowerCase();
        continue;
      }
      for (const a of rec.a ?? []) {
        records.push(...owner, 0, 1, 0, 1, ...u32(ttl), 0, 4, ...a.split(".").map(Number));
        an++;
      }
      break;
    }
    const exists = zone[name.toLowerCase()] !== undefined;
    const tc = this.mode === "truncated";
    if (an > 0 || tc) {
      header(0, tc ? 0 : an, 0, tc);
      if (!tc) out.push(...records);
      return new Uint8Array(out);
    }
    // NXDOMAIN or NODATA: the zone's SOA (RFC 2308 3).
    header(exists ? 0 : 3, 0, 1);
    const soa = [...encodeName("ns.lan"), ...encodeName("admin.lan"), ...u32(1), ...u32(3600), ...u32(600), ...u32(86400), ...u32(this.#opts.soaMinimum ?? 60)];
    out.push(...encodeName("lan"), 0, 6, 0, 1, ...u32(this.#opts.soaTtl ?? 3600), soa.length >> 8, soa.length & 0xff, ...soa);
    return new Uint8Array(out);
  }
}

function dnsServerReadable(this: UdpSocket, packets: number): void {
  const server = this.target as SimDnsServer;
  for (let i = 0; i < packets; i++) {
    const p = this.read();
    if (p === undefined) return;
    server.onQuery(p);
  }
}

/** A hostile answer of `kind` to query q (question ends at qEnd): the right ID and question unless the kind says otherwise. */
export function hostileAnswer(kind: DnsHostileKind, q: Uint8Array, qEnd: number): Uint8Array {
  const question = Array.from(q.subarray(12, qEnd));
  const head = (an: number, flags0 = 0x84, id = (q[0] << 8) | q[1]): number[] => [id >> 8, id & 0xff, flags0, 0x80, 0, 1, 0, an, 0, 0, 0, 0, ...question];
  const aRecord = (owner: number[]): number[] => [...owner, 0, 1, 0, 1, 0, 0, 1, 0, 0, 4, 6, 6, 6, 6];
  const self = 12 + question.length;
  switch (kind) {
    case "pointer-loop": // the owner name points at itself
      return new Uint8Array([...head(1), ...aRecord([0xc0 | (self >> 8), self & 0xff])]);
    case "forward-pointer": // the owner name points past itself
      return new Uint8Array([...head(1), ...aRecord([0xc0 | ((self + 2) >> 8), (self + 2) & 0xff])]);
    case "long-name": { // 5 labels of 50: 256 bytes, over 255
      const long: number[] = [];
      for (let i = 0; i < 5; i++) long.push(50, ...new Array<number>(50).fill(0x61));
      long.push(0);
      return new Uint8Array([...head(1), ...aRecord(long)]);
    }
    case "long-label": // a length byte of 64 (0x40, a reserved label kind)
      return new Uint8Array([...head(1), ...aRecord([64, ...new Array<number>(64).fill(0x62), 0])]);
    case "bad-counts": // 5 answers said, 1 there
      return new Uint8Array([...head(5), ...aRecord([0xc0, 12])]);
    case "wrong-id":
      return new Uint8Array([...head(1, 0x84, ((q[0] << 8) | q[1]) ^ 0x5a5a), ...aRecord([0xc0, 12])]);
    case "wrong-question": {
      const evil = encodeName("evil.lan");
      return new Uint8Array([q[0], q[1], 0x84, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, ...evil, 0, 1, 0, 1, ...aRecord([0xc0, 12])]);
    }
    case "short":
      return new Uint8Array([q[0], q[1], 0x84, 0x80, 0, 1]);
    case "not-response": // QR clear
      return new Uint8Array([...head(1, 0x04), ...aRecord([0xc0, 12])]);
    case "too-big":
      return new Uint8Array([...head(1), ...aRecord([0xc0, 12]), ...new Array<number>(600).fill(0)]);
    case "wrong-source":
      return new Uint8Array([...head(1), ...aRecord([0xc0, 12])]);
  }
}

function encodeName(name: string): number[] {
  const out: number[] = [];
  for (const label of name.replace(/\.$/, "").split(".")) {
    out.push(label.length);
    for (let i = 0; i < label.length; i++) out.push(label.charCodeAt(i));
  }
  out.push(0);
  return out;
}

/** The uncompressed name at o (a query's), lower case, and where it ends; null if it is not one. */
function readName(q: Uint8Array, o: number): { text: string; end: number } | null {
  const parts: string[] = [];
  while (o < q.length) {
    const len = q[o];
    if (len === 0) return o + 5 <= q.length ? { text: parts.join(".").toLowerCase(), end: o + 1 } : null;
    if (len > 63 || o + 1 + len > q.length) return null;
    parts.push(String.fromCharCode(...q.subarray(o + 1, o + 1 + len)));
    o += 1 + len;
  }
  return null;
}

function u32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}
