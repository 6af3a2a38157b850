// What the Moddable runtime gives a module on a device, for Moddable's code running on xsnet
// in the simulation: the builtins XS on a device has (installDeviceBuiltins), the "time"
// module (Time.ticks on the stack's clock), "text/decoder", a name resolver with the shape of
// an ECMA-419 DNS resolver (device.network's dns.io), and the System global of Moddable's io
// manifests (System.resolve and its timers). "timer" is in timer.ts. Node-free: runs in XS too.

import type { ModdableTimer, ModdableTimerId } from "./timer";

/**
 * What XS on a device has and the engines here may lack (XS under xsnap lacks all three;
 * Node 20's V8 lacks Promise.withResolvers): Promise.withResolvers (ES2024),
 * ArrayBuffer.fromString and String.fromArrayBuffer (XS's own, UTF-8). Installed on the
 * engine's intrinsics when missing; returns the names installed.
 */
export function installDeviceBuiltins(): string[] {
  const added: string[] = [];
  const define = (target: object, name: string, value: (...args: never[]) => unknown, label: string): void => {
    if (typeof (target as Record<string, unknown>)[name] === "function") return;
    Object.defineProperty(target, name, { value, writable: true, configurable: true, enumerable: false });
    added.push(label);
  };
  define(Promise, "withResolvers", function withResolvers<T>(this: PromiseConstructor) {
    let resolve!: (value: T) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new this<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  }, "Promise.withResolvers");
  define(ArrayBuffer, "fromString", (text: string): ArrayBuffer => utf8Encode(String(text)).buffer as ArrayBuffer, "ArrayBuffer.fromString");
  define(String, "fromArrayBuffer", (buffer: ArrayBuffer): string => {
    if (!(buffer instanceof ArrayBuffer)) throw new TypeError("String.fromArrayBuffer: argument is not an ArrayBuffer");
    return utf8Decode(new Uint8Array(buffer));
  }, "String.fromArrayBuffer");
  return added;
}

/** UTF-8 of a string (a lone surrogate becomes U+FFFD). */
export function utf8Encode(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 3);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x80) out[n++] = c;
    else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 63);
    } else if (c < 0x10000) {
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 63);
      out[n++] = 0x80 | (c & 63);
    } else {
      out[n++] = 0xf0 | (c >> 18);
      out[n++] = 0x80 | ((c >> 12) & 63);
      out[n++] = 0x80 | ((c >> 6) & 63);
      out[n++] = 0x80 | (c & 63);
    }
  }
  return out.slice(0, n);
}

/** A string from UTF-8 (a malformed sequence becomes U+FFFD). */
export function utf8Decode(bytes: Uint8Array): string {
  let s = "";
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    let c = 0xfffd;
    let need = 0;
    let min = 0;
    if (b < 0x80) c = b;
    else if (b >= 0xc2 && b < 0xe0) { c = b & 0x1f; need = 1; min = 0x80; }
    else if (b >= 0xe0 && b < 0xf0) { c = b & 0x0f; need = 2; min = 0x800; }
    else if (b >= 0xf0 && b < 0xf5) { c = b & 0x07; need = 3; min = 0x10000; }
    i++;
    let ok = true;
    for (let k = 0; k < need; k++) {
      const x = bytes[i];
      if (i >= bytes.length || (x & 0xc0) !== 0x80) {
        ok = false;
        break;
      }
      c = (c << 6) | (x & 0x3f);
      i++;
    }
    if (!ok || (need > 0 && (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)))) c = 0xfffd;
    s += String.fromCodePoint(c);
  }
  return s;
}

/** Moddable's "time" module: ticks (ms, an integer) and delta on the given clock. */
export interface ModdableTime {
  readonly ticks: number;
  readonly microseconds: number;
  delta(start: number, end?: number): number;
}

export function makeTime(nowMs: () => number): ModdableTime {
  return Object.freeze({
    get ticks(): number {
      return Math.floor(nowMs());
    },
    get microseconds(): number {
      return Math.floor(nowMs() * 1000);
    },
    delta(start: number, end?: number): number {
      return (end ?? Math.floor(nowMs())) - start;
    },
  });
}

/** Moddable's "text/decoder" (UTF-8 only): decode(buffer, { stream }) keeps a sequence cut at the end for the next call. */
export class TextDecoder {
  #pending = new Uint8Array(0);

  constructor(label = "utf-8") {
    if (String(label).toLowerCase().replace("-", "") !== "utf8") throw new RangeError(`TextDecoder: only utf-8, got ${String(label)}`);
  }

  get encoding(): string {
    return "utf-8";
  }

  decode(buffer?: ArrayBuffer | ArrayBufferView, options?: { stream?: boolean }): string {
    const bytes = buffer === undefined ? new Uint8Array(0) : ArrayBuffer.isView(buffer) ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) : new Uint8Array(buffer);
    let all = bytes;
    if (this.#pending.length > 0) {
      all = new Uint8Array(this.#pending.length + bytes.length);
      all.set(this.#pending);
      all.set(bytes, this.#pending.length);
    }
    let end = all.length;
    if (options?.stream === true) {
      // Keep back a multi-byte sequence the buffer cut short.
      let k = end - 1;
      let back = 0;
      while (k >= 0 && back < 3 && (all[k] & 0xc0) === 0x80) {
        k--;
        back++;
      }
      if (k >= 0) {
        const lead = all[k];
        const need = lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : lead >= 0xc0 ? 1 : 0;
        if (need > back) end = k;
      }
    }
    this.#pending = all.slice(end);
    return utf8Decode(all.subarray(0, end));
  }
}

interface ResolveRequest {
  host: string;
  onResolved?: (host: string, address: string) => void;
  onError?: (error: Error) => void;
}

/** A resolver class with the shape of ECMA-419's DNS resolver (new io(options).resolve({ host, onResolved, onError })), answering from a table on the next timer turn. */
export function tableResolverClass(Timer: ModdableTimer, names: Readonly<Record<string, string>>): new (options?: object) => { resolve(request: ResolveRequest): void; close(): void } {
  return class TableResolver {
    constructor(_options?: object) {}

    resolve(request: ResolveRequest): void {
      Timer.set(() => {
        const address = names[request.host] ?? (/^\d+\.\d+\.\d+\.\d+$/.test(request.host) ? request.host : undefined);
        if (address !== undefined) request.onResolved?.(request.host, address);
        else request.onError?.(new Error(`no address for ${request.host}`));
      });
    }

    close(): void {}
  };
}

/** The System global of Moddable's io manifests (modules/io/system): resolve by the table, timers on Timer. */
export function makeSystem(Timer: ModdableTimer, names: Readonly<Record<string, string>>): object {
  return Object.freeze({
    resolve(name: string, callback: (name: string, address?: string) => void): void {
      Timer.set(() => callback(name, names[name]));
    },
    setTimeout: (callback: () => void, delay: number): ModdableTimerId => Timer.set(callback, delay),
    clearTimeout: (id: ModdableTimerId): void => Timer.clear(id),
    setInterval: (callback: () => void, delay: number): ModdableTimerId => Timer.repeat(callback, delay),
    clearInterval: (id: ModdableTimerId): void => Timer.clear(id),
  });
}
