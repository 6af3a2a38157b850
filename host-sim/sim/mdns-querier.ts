// A small mDNS querier for scenarios and tests (Node-free, runs in XS): sends questions
// (multicast from port 5353, QU, or legacy unicast from another port, with known answers),
// keeps every mDNS message it hears, decoded into records with names as strings.

import type { Net } from "../../src/core/net";
import type { NetDevice } from "../../src/core/netdevice";
import { ipMcJoin } from "../../src/ipv4/devinet";
import type { UdpOwner } from "../../src/udp/udp";
import { WIRE_OK, read16 } from "../../src/wire/bytes";
import {
  DNS_CLASS_IN, DNS_CLASS_MDNS_BIT, DNS_HLEN, DNS_TYPE_A, DNS_TYPE_PTR, DNS_TYPE_SRV, DNS_TYPE_TXT, DnsRecord, MDNS_GROUP,
  MDNS_PORT, dnsAnCount, dnsArCount, dnsBuildHeader, dnsFlags, dnsId, dnsNsCount, dnsQdCount, dnsReadRecord, dnsSkipName,
  dnsSkipQuestion, dnsWriteName, dnsWriteQuestionTail, dnsWriteRecordTail,
} from "../../src/wire/dns";
import { formatIpv4, parseIpv4 } from "../../src/wire/ipv4";

export interface MdnsHeardRecord {
  section: "an" | "ns" | "ar";
  name: string;
  type: number;
  /** class with the cache-flush bit */
  klass: number;
  ttl: number;
  /** A: the address; PTR: the name; SRV: "port target"; TXT: the strings joined by "|" */
  data: string;
}

export interface MdnsHeard {
  at: number;
  from: string;
  fromPort: number;
  id: number;
  flags: number;
  questions: { name: string; type: number; klass: number }[];
  records: MdnsHeardRecord[];
}

export interface MdnsKnownAnswer {
  name: string;
  type: number;
  ttl: number;
  /** A: an address; PTR: a name */
  data: string;
}

/** A name in the message at `at`, dotted (the caller checked it with dnsSkipName). */
export function mdnsNameString(buf: Uint8Array, at: number): string {
  const labels: string[] = [];
  for (let hops = 0; hops < 256; hops++) {
    const len = buf[at];
    if (len === 0) break;
    if ((len & 0xc0) === 0xc0) {
      at = ((len & 0x3f) << 8) | buf[at + 1];
      continue;
    }
    let s = "";
    for (let i = 1; i <= len; i++) s += String.fromCharCode(buf[at + i]);
    labels.push(s);
    at += 1 + len;
  }
  return labels.join(".");
}

/** Decode a message; null when it does not parse. */
export function mdnsDecode(buf: Uint8Array, len: number): Omit<MdnsHeard, "at" | "from" | "fromPort"> | null {
  if (len < DNS_HLEN) return null;
  const questions: MdnsHeard["questions"] = [];
  let at = DNS_HLEN;
  for (let q = dnsQdCount(buf, 0); q > 0; q--) {
    const after = dnsSkipQuestion(buf, 0, len, at);
    if (after < 0) return null;
    questions.push({ name: mdnsNameString(buf, at), type: read16(buf, after - 4), klass: read16(buf, after - 2) });
    at = after;
  }
  const records: MdnsHeardRecord[] = [];
  const rr = new DnsRecord();
  const counts = [dnsAnCount(buf, 0), dnsNsCount(buf, 0), dnsArCount(buf, 0)];
  const sections = ["an", "ns", "ar"] as const;
  for (let sec = 0; sec < 3; sec++) {
    for (let i = 0; i < counts[sec]; i++) {
      if (dnsReadRecord(buf, 0, len, at, rr) !== WIRE_OK) return null;
      let data = "";
      const d = rr.rdataAt;
      if (rr.type === DNS_TYPE_A && rr.rdLength === 4) data = `${buf[d]}.${buf[d + 1]}.${buf[d + 2]}.${buf[d + 3]}`;
      else if (rr.type === DNS_TYPE_PTR && dnsSkipName(buf, 0, len, d) > 0) data = mdnsNameString(buf, d);
      else if (rr.type === DNS_TYPE_SRV && rr.rdLength > 6 && dnsSkipName(buf, 0, len, d + 6) > 0) data = `${read16(buf, d + 4)} ${mdnsNameString(buf, d + 6)}`;
      else if (rr.type === DNS_TYPE_TXT) {
        const parts: string[] = [];
        for (let o = d; o < d + rr.rdLength; o += 1 + buf[o]) {
          let s = "";
          for (let k = 1; k <= buf[o] && o + k < d + rr.rdLength; k++) s += String.fromCharCode(buf[o + k]);
          parts.push(s);
        }
        data = parts.join("|");
      }
      records.push({ section: sections[sec], name: mdnsNameString(buf, rr.nameAt), type: rr.type, klass: rr.klass, ttl: rr.ttl, data });
      at = rr.next;
    }
  }
  return { id: dnsId(buf, 0), flags: dnsFlags(buf, 0), questions, records };
}

export class MdnsQuerier implements UdpOwner {
  readonly net: Net;
  readonly sock: number;
  readonly port: number;
  readonly heard: MdnsHeard[] = [];
  readonly #buf = new Uint8Array(9000);
  readonly #from = new Uint32Array(2);
  undecodable = 0;

  /** port 5353 joins the group and hears every mDNS message; another port is a legacy querier. */
  constructor(net: Net, dev: NetDevice, port = MDNS_PORT) {
    this.net = net;
    this.port = port;
    this.sock = net.udp.bind(0, port, this, true);
    net.udp.bindToDevice(this.sock, dev);
    if (port === MDNS_PORT) ipMcJoin(dev, MDNS_GROUP);
  }

  onIcmpError(): void {}

  onDatagrams(waiting: number): void {
    for (let k = 0; k < waiting; k++) {
      const len = this.net.udp.recv(this.sock, this.#buf, 0, this.#from);
      if (len < 0) return;
      const m = mdnsDecode(this.#buf, len);
      if (m === null) this.undecodable++;
      else this.heard.push({ at: this.net.now(), from: formatIpv4(this.#from[0]), fromPort: this.#from[1], ...m });
    }
  }

  /** Send a query (to the group unless `to` is given); returns the bytes sent. */
  query(questions: { name: string; type: number; qu?: boolean }[], o: { id?: number; known?: MdnsKnownAnswer[]; to?: string } = {}): Uint8Array {
    const buf = new Uint8Array(1500);
    const known = o.known ?? [];
    let at = dnsBuildHeader(buf, 0, o.id ?? 0, 0, questions.length, known.length, 0, 0);
    for (const q of questions) {
      at = dnsWriteName(buf, at, q.name);
      at = dnsWriteQuestionTail(buf, at, q.type, DNS_CLASS_IN | (q.qu === true ? DNS_CLASS_MDNS_BIT : 0));
    }
    for (const k of known) {
      at = dnsWriteName(buf, at, k.name);
      if (k.type === DNS_TYPE_A) {
        at = dnsWriteRecordTail(buf, at, k.type, DNS_CLASS_IN, k.ttl, 4);
        const a = parseIpv4(k.data);
        buf[at] = a >>> 24; buf[at + 1] = (a >>> 16) & 0xff; buf[at + 2] = (a >>> 8) & 0xff; buf[at + 3] = a & 0xff;
        at += 4;
      } else {
        const rd = at + 10;
        const end = dnsWriteName(buf, rd, k.data);
        dnsWriteRecordTail(buf, at, k.type, DNS_CLASS_IN, k.ttl, end - rd);
        at = end;
      }
    }
    this.send(buf.subarray(0, at), o.to);
    return buf.subarray(0, at);
  }

  /** Send raw bytes as an mDNS message. */
  send(bytes: Uint8Array, to?: string): number {
    return this.net.udp.sendto(this.sock, bytes, 0, bytes.length, parseIpv4(to ?? MDNS_GROUP), MDNS_PORT, 255);
  }

  /** Records heard (any section) named `name` of `type` since index `from` of `heard`. */
  records(name: string, type: number, from = 0): MdnsHeardRecord[] {
    const out: MdnsHeardRecord[] = [];
    for (let i = from; i < this.heard.length; i++) {
      for (const r of this.heard[i].records) if (r.name.toLowerCase() === name.toLowerCase() && r.type === type) out.push(r);
    }
    return out;
  }

  close(): void {
    this.net.udp.unbind(this.sock);
  }
}

export { DNS_TYPE_A, DNS_TYPE_PTR, DNS_TYPE_SRV, DNS_TYPE_TXT };
