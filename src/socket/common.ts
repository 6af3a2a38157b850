// What the ECMA-419 socket classes share (UDP, TCP, raw): argument checks that name the
// argument, and the errno names of ICMP errors. The error classes are Moddable's (its
// sockets are the reference apps are written against, modules/io/socket/*/ of the SDK):
// a method called on something that is not an open socket of the class is a SyntaxError
// (XS's host-data check), a value of the wrong type a TypeError, a number out of its range a
// RangeError, and a request the socket cannot serve now (more than is buffered, more than
// fits, not connected, a missing port or address) a plain Error.

import { ICMP_DEST_UNREACH, ICMP_PARAMETERPROB } from "../wire/icmp";
// mcconfig type-checks each module alone: the module net.hostResolver is added to
import type {} from "../core/net";

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

/**
 * A buffer a socket reads into or writes from, as Moddable's sockets take them: an
 * ArrayBuffer, a DataView, or a typed array of 1-byte elements (Uint8Array, Int8Array,
 * Uint8ClampedArray). A Uint16Array and the like are refused: their length is not in bytes.
 */
export function isByteBuffer(buffer: unknown): buffer is ArrayBuffer | ArrayBufferView {
  if (buffer instanceof ArrayBuffer || buffer instanceof DataView) return true;
  return ArrayBuffer.isView(buffer) && (buffer as Uint8Array).BYTES_PER_ELEMENT === 1;
}

export const BYTE_BUFFER_KINDS = "an ArrayBuffer, a DataView or a byte view (Uint8Array, Int8Array, Uint8ClampedArray)";

/** A Uint8Array over the bytes of a buffer (isByteBuffer), or a TypeError naming the argument. */
export function bytesOf(buffer: unknown, what: string): Uint8Array {
  if (buffer instanceof Uint8Array) return buffer;
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  if (isByteBuffer(buffer) && ArrayBuffer.isView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  throw new TypeError(`${what} must be ${BYTE_BUFFER_KINDS}`);
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

/**
 * A port given to a socket, converted as Moddable converts it (a string of digits is a
 * number: "80" is 80): undefined is an Error (missing), a Symbol a TypeError, anything
 * that is not then an integer in range a RangeError.
 */
export function checkPort(port: unknown, what: string, allowZero: boolean): number {
  if (port === undefined) throw new Error(`${what} is missing`);
  if (typeof port === "symbol") throw new TypeError(`${what} must be a number, got a Symbol`);
  const n = typeof port === "string" && port.trim() !== "" ? Number(port) : port;
  if (typeof n !== "number" || !Number.isInteger(n) || n < (allowZero ? 0 : 1) || n > 65535) {
    throw new RangeError(`${what} must be an integer in ${allowZero ? 0 : 1}..65535, got ${typeof port === "string" ? `"${port}"` : String(port)}`);
  }
  return n;
}

/**
 * What resolves the TCP socket's `host` option (ECMA-419): a name service installed on the
 * stack (src/lan/dns-resolver.ts sets net.hostResolver when it starts). The socket layer
 * only knows this shape: src/socket may not import src/lan.
 */
export interface HostResolver {
  /**
   * Resolve `host` to an IPv4 address (uint32); exactly one callback runs, later (never from
   * inside this call). Returns a handle for cancelHost. Throws for a name that is not one.
   */
  resolveHost(host: string, onResolved: (addr: number) => void, onError: (reason: string) => void): number;
  /** No callback for this request any more. */
  cancelHost(handle: number): void;
}

declare module "../core/net" {
  interface Net {
    /** the stack's name resolver, when one was started (else undefined) */
    hostResolver?: HostResolver;
  }
}
