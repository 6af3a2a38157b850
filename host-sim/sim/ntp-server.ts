// A small NTP server for the simulation (RFC 5905 server mode, as SNTP clients see it), over
// a simulated host's own UDP on port 123. Its clock is the virtual clock plus a settable
// offset: setTime(unixMs) says what Unix time it is at this virtual instant. Modes make it
// misbehave the ways RFC 4330 5 and 8 tell a client to guard against. Node-free (runs in XS).

import type { Net } from "../../src/core/net";
import type { UdpOwner } from "../../src/udp/udp";
import { write32 } from "../../src/wire/bytes";
import { NTP_KISS_DENY, NTP_KISS_RATE, NTP_LEN, NTP_MODE_CLIENT, NTP_PORT, NTP_UNIX_OFFSET_S, ntpMode, ntpTransmitFrac, ntpTransmitSec } from "../../src/wire/ntp";

/**
 * ok: the time; kod-rate, kod-deny: kiss-o'-death RATE or DENY (stratum 0); wrong-origin: an
 * originate timestamp that is not the request's; unsynced: leap indicator 3; silent: no
 * reply; raw: the bytes in `raw` (their originate field set to the request's when
 * rawCopiesOrigin).
 */
export type NtpServerMode = "ok" | "kod-rate" | "kod-deny" | "wrong-origin" | "unsynced" | "silent" | "raw";

/** 2^32 / 1000: NTP fraction units in a millisecond */
const FRAC_PER_MS = 4294967.296;

/** An NTP timestamp for unixMs at buf[at..at+8) (seconds wrap into era 1 after 2036). */
export function writeNtpTime(buf: Uint8Array, at: number, unixMs: number): void {
  const s = Math.floor(unixMs / 1000);
  const frac = Math.floor((unixMs - s * 1000) * FRAC_PER_MS);
  write32(buf, at, (s + NTP_UNIX_OFFSET_S) >>> 0);
  write32(buf, at + 4, frac > 0xffffffff ? 0xffffffff : frac);
}

export class SimNtpServer implements UdpOwner {
  mode: NtpServerMode = "ok";
  raw: Uint8Array | null = null;
  rawCopiesOrigin = true;
  stratum = 2;
  requests = 0;
  replies = 0;
  /** virtual ms of the last request, and the shortest gap between two */
  lastRequestMs = -Infinity;
  minGapMs = Infinity;
  /** the last request's source port and transmit timestamp's fraction */
  lastFromPort = 0;
  lastTxFrac = 0;
  readonly #net: Net;
  readonly #sock: number;
  #offsetMs = 0;
  readonly #rx = new Uint8Array(1500);
  readonly #tx = new Uint8Array(1500);
  readonly #from = new Uint32Array(2);

  constructor(net: Net, unixMs: number) {
    this.#net = net;
    this.#sock = net.udp.bind(0, NTP_PORT, this, false);
    this.setTime(unixMs);
  }

  /** It is unixMs (Unix time) now, at this virtual instant. */
  setTime(unixMs: number): void {
    this.#offsetMs = unixMs - this.#net.now();
  }

  /** The server's Unix time now. */
  unixNow(): number {
    return this.#net.now() + this.#offsetMs;
  }

  close(): void {
    this.#net.udp.unbind(this.#sock);
  }

  onIcmpError(): void {}

  onDatagrams(waiting: number): void {
    const udp = this.#net.udp;
    for (let k = 0; k < waiting; k++) {
      const len = udp.recv(this.#sock, this.#rx, 0, this.#from);
      if (len < 0) return;
      if (len < NTP_LEN || ntpMode(this.#rx, 0) !== NTP_MODE_CLIENT) continue;
      this.#answer();
    }
  }

  #answer(): void {
    const now = this.#net.now();
    this.requests++;
    if (now - this.lastRequestMs < this.minGapMs) this.minGapMs = now - this.lastRequestMs;
    this.lastRequestMs = now;
    this.lastFromPort = this.#from[1];
    this.lastTxFrac = ntpTransmitFrac(this.#rx, 0);
    if (this.mode === "silent") return;
    const rx = this.#rx;
    const tx = this.#tx;
    let len = NTP_LEN;
    if (this.mode === "raw") {
      const raw = this.raw as Uint8Array;
      len = raw.length;
      tx.set(raw, 0);
      if (this.rawCopiesOrigin && len >= 32) {
        write32(tx, 24, ntpTransmitSec(rx, 0));
        write32(tx, 28, ntpTransmitFrac(rx, 0));
      }
    } else {
      const kiss = this.mode === "kod-rate" || this.mode === "kod-deny";
      const unix = this.unixNow();
      tx.fill(0, 0, NTP_LEN);
      // LI, the request's version, mode 4 (RFC 5905 7.3); poll copied; precision 2^-20 s.
      const li = this.mode === "unsynced" || kiss ? 3 : 0;
      tx[0] = (li << 6) | (rx[0] & 0x38) | 4;
      tx[1] = kiss ? 0 : this.stratum;
      tx[2] = rx[2];
      tx[3] = 0xec;
      write32(tx, 8, 0x00000010); // root dispersion
      write32(tx, 12, kiss ? (this.mode === "kod-rate" ? NTP_KISS_RATE : NTP_KISS_DENY) : 0x53494d00); // "SIM"
      write32(tx, 24, ntpTransmitSec(rx, 0));
      write32(tx, 28, (ntpTransmitFrac(rx, 0) + (this.mode === "wrong-origin" ? 1 : 0)) >>> 0);
      if (!kiss) {
        writeNtpTime(tx, 16, unix - 1000);
        writeNtpTime(tx, 32, unix);
        writeNtpTime(tx, 40, unix);
      }
    }
    if (this.#net.udp.sendto(this.#sock, tx, 0, len, this.#from[0], this.#from[1], 64) === 0) this.replies++;
  }
}
