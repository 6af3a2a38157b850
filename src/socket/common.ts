// What the ECMA-419 socket classes share (UDP, TCP, raw): argument checks that name the
// argument, and the errno names of ICMP errors.

import { ICMP_DEST_UNREACH, ICMP_PARAMETERPROB } from "../wire/icmp";

/** An ICMP error reported to a socket (read with readError()). */
export interface IcmpErrorReport {
  /** the errno Linux would give (icmp_err_convert): "ECONNREFUSED", "EHOSTUNREACH", ... */
  reason: string;
  /** where the datagram the error is about was going */
  address: string;
  /** who sent the error: the destination itself, or a router on the way */
  from: string;
  /** ICMP type and code */
  type: number;
  code: number;
}

/** A Uint8Array over the bytes of an ArrayBuffer or view, or a TypeError naming the argument. */
export function bytesOf(buffer: unknown, what: string): Uint8Array {
  if (buffer instanceof Uint8Array) return buffer;
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  if (ArrayBuffer.isView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  throw new TypeError(`${what} must be an ArrayBuffer or a view of one`);
}

// Linux icmp_err_convert, by destination-unreachable code.
const UNREACH_REASONS: readonly string[] = Object.freeze([
  "ENETUNREACH", "EHOSTUNREACH", "ENOPROTOOPT", "ECONNREFUSED", "EMSGSIZE", "EOPNOTSUPP", "ENETUNREACH", "EHOSTDOWN",
  "ENONET", "ENETUNREACH", "EHOSTUNREACH", "ENETUNREACH", "EHOSTUNREACH", "EHOSTUNREACH", "EHOSTUNREACH", "EHOSTUNREACH",
]);

/** The errno name Linux gives an ICMP error (time exceeded: EHOSTUNREACH, parameter problem: EPROTO). */
export function icmpErrorReason(type: number, code: number): string {
  if (type === ICMP_DEST_UNREACH) return code < UNREACH_REASONS.length ? UNREACH_REASONS[code] : "EHOSTUNREACH";
  return type === ICMP_PARAMETERPROB ? "EPROTO" : "EHOSTUNREACH";
}

export function checkPort(port: unknown, what: string, allowZero: boolean): number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) {
    throw new RangeError(`${what} must be an integer in ${allowZero ? 0 : 1}..65535, got ${String(port)}`);
  }
  return port;
}
