// Classic libpcap capture files (https://wiki.wireshark.org/Development/LibpcapFileFormat,
// draft-ietf-opsawg-pcap): a 24-byte global header (magic 0xa1b2c3d4 written little-endian,
// version 2.4, LINKTYPE_ETHERNET), then per frame a 16-byte record header (seconds,
// microseconds, captured length, original length) and the captured bytes.
//
// Records are gathered in one in-memory chunk and written with fs.writeSync when it passes
// FLUSH_BYTES and on close(), so capturing a long simulation costs few system calls.
// Node-only.

import { closeSync, openSync, writeSync } from "node:fs";

const MAGIC = 0xa1b2c3d4;
const LINKTYPE_ETHERNET = 1;
const GLOBAL_HEADER_BYTES = 24;
const RECORD_HEADER_BYTES = 16;
/** flush once the chunk holds this much */
const FLUSH_BYTES = 256 * 1024;

export class PcapWriter {
  readonly path: string;
  readonly snaplen: number;
  #frames = 0;
  #fd: number;
  readonly #chunk: Uint8Array;
  readonly #view: DataView;
  #used = 0;

  constructor(path: string, snaplen = 65535) {
    if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > 0x40000) {
      throw new RangeError(`PcapWriter snaplen must be an integer in 1..262144, got ${snaplen}`);
    }
    this.path = path;
    this.snaplen = snaplen;
    // room for a full chunk plus the largest record, so a record never straddles a flush
    this.#chunk = new Uint8Array(FLUSH_BYTES + RECORD_HEADER_BYTES + snaplen);
    this.#view = new DataView(this.#chunk.buffer);
    this.#fd = openSync(path, "w");
    const v = this.#view;
    v.setUint32(0, MAGIC, true);
    v.setUint16(4, 2, true); // version_major
    v.setUint16(6, 4, true); // version_minor
    v.setInt32(8, 0, true); // thiszone: UTC
    v.setUint32(12, 0, true); // sigfigs
    v.setUint32(16, snaplen, true);
    v.setUint32(20, LINKTYPE_ETHERNET, true);
    this.#used = GLOBAL_HEADER_BYTES;
  }

  /** frames written so far */
  get frames(): number {
    return this.#frames;
  }

  /** Add one frame seen at timeMs (virtual or real milliseconds since the epoch of the capture). */
  write(timeMs: number, buf: Uint8Array, off: number, len: number): void {
    if (this.#fd < 0) throw new Error(`PcapWriter ${this.path}: write after close`);
    if (!(off >= 0 && len >= 0 && off + len <= buf.length)) {
      throw new RangeError(`PcapWriter.write: off ${off} len ${len} outside a ${buf.length}-byte buffer`);
    }
    const incl = len < this.snaplen ? len : this.snaplen;
    const micros = Math.round((timeMs > 0 ? timeMs : 0) * 1000);
    const sec = Math.floor(micros / 1e6);
    const usec = micros - sec * 1e6;
    const v = this.#view;
    let p = this.#used;
    v.setUint32(p, sec >>> 0, true);
    v.setUint32(p + 4, usec, true);
    v.setUint32(p + 8, incl, true);
    v.setUint32(p + 12, len, true);
    p += RECORD_HEADER_BYTES;
    const chunk = this.#chunk;
    for (let i = 0; i < incl; i++) chunk[p + i] = buf[off + i];
    this.#used = p + incl;
    this.#frames++;
    if (this.#used >= FLUSH_BYTES) this.flush();
  }

  /** Write what is buffered to the file. */
  flush(): void {
    if (this.#fd < 0) return;
    let done = 0;
    while (done < this.#used) done += writeSync(this.#fd, this.#chunk, done, this.#used - done);
    this.#used = 0;
  }

  /** Flush and close the file; later calls do nothing. */
  close(): void {
    if (this.#fd < 0) return;
    this.flush();
    closeSync(this.#fd);
    this.#fd = -1;
  }
}
