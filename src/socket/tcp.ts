// embedded:io/socket/tcp and embedded:io/socket/listener (ECMA-419) over xsnet's TCP,
// with the semantics of Moddable's implementation: onWritable(bytes) whose first call
// means connected; onReadable(bytes); onError() on failure and after the peer's close once
// everything was read; read() never returns more than is there (asking for more throws);
// write() throws before the connection is up and when the data does not fit (no partial
// write). The classes are made for one stack: `const { TCP, Listener } = tcpSocketClasses(net)`.

import type { Net } from "../core/net";
import { formatIpv4, parseIpv4 } from "../wire/ipv4";
import { TCP_CLOSE_WAIT, TCP_ESTABLISHED, TF_NODELAY, TF_PEER_FIN, type TcpListenerOwner, type TcpOwner } from "../tcp/tcb";
import { checkPort } from "./common";

type Buffer = ArrayBuffer | ArrayBufferView;

export interface TcpOptions {
  address?: string;
  port?: number;
  from?: TcpSocket;
  nodelay?: boolean;
  /** extension: keepalive probes when idle, timed by config.tcpKeepalive* (off by default) */
  keepalive?: boolean;
  onReadable?: (this: TcpSocket, bytes: number) => void;
  onWritable?: (this: TcpSocket, bytes: number) => void;
  onError?: (this: TcpSocket) => void;
  format?: "buffer" | "number";
  target?: unknown;
}

export interface TcpSocket {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  format: "buffer" | "number";
  target: unknown;
  read(): ArrayBuffer | number | undefined;
  read(count: number): ArrayBuffer;
  read(buffer: ArrayBufferView | ArrayBuffer): number;
  write(buffer: Buffer): number;
  close(): void;
}

export interface ListenerOptions {
  port?: number;
  address?: string;
  /** extension: connections that may wait to be read (default 8) */
  backlog?: number;
  onReadable?: (this: TcpListener, requests: number) => void;
  format?: "socket/tcp";
  target?: unknown;
}

export interface TcpListener {
  readonly port: number;
  format: "socket/tcp";
  target: unknown;
  read(): TcpSocket | undefined;
  close(): void;
}

export function tcpSocketClasses(net: Net): { TCP: new (options: TcpOptions) => TcpSocket; Listener: new (options?: ListenerOptions) => TcpListener } {
  const tcp = net.tcp;
  const t = tcp.tcb;
  /** a connection handed from Listener.read() to new TCP({ from }) */
  const ACCEPTED = Symbol("accepted connection");

  class TCP implements TcpSocket, TcpOwner {
    #c = -1;
    #format: "buffer" | "number" = "buffer";
    #onReadable: ((this: TcpSocket, bytes: number) => void) | null = null;
    #onWritable: ((this: TcpSocket, bytes: number) => void) | null = null;
    #onError: ((this: TcpSocket) => void) | null = null;
    #connected = false;
    #errored = false;
    readonly #one = new DataView(new ArrayBuffer(1));
    /** a view of the application's last buffer: kept while it reuses that ArrayBuffer */
    #view: DataView | null = null;
    #viewOff = 0;
    #viewLen = 0;
    target: unknown;

    constructor(options: TcpOptions & { [ACCEPTED]?: number }) {
      if (typeof options !== "object" || options === null) throw new TypeError("TCP: options must be an object");
      const accepted = options[ACCEPTED];
      if (accepted !== undefined) {
        this.#c = accepted;
        t.owner[accepted] = this;
        this.#connected = true;
        return;
      }
      if (options.format !== undefined) this.format = options.format;
      for (const name of ["onReadable", "onWritable", "onError"] as const) {
        if (options[name] !== undefined && typeof options[name] !== "function") throw new TypeError(`TCP: ${name} must be a function`);
      }
      this.#onReadable = options.onReadable ?? null;
      this.#onWritable = options.onWritable ?? null;
      this.#onError = options.onError ?? null;
      this.target = options.target;
      if (options.from !== undefined) {
        if (!(options.from instanceof TCP)) throw new TypeError("TCP: from must be a socket from Listener.read()");
        const c = options.from.#c;
        if (c < 0) throw new Error("TCP: from is closed or already taken");
        options.from.#c = -1;
        this.#c = c;
        t.owner[c] = this;
        this.#connected = true;
        if (options.nodelay === true) t.flags[c] |= TF_NODELAY;
        if (options.keepalive === true) tcp.setKeepalive(c, true);
        // Tell the new owner what it has: connected, and any data already buffered.
        tcp.deferNotify(c);
        return;
      }
      if (typeof options.address !== "string") throw new TypeError("TCP: address must be a string (or give from)");
      const raddr = parseIpv4(options.address);
      const rport = checkPort(options.port, "TCP: port", false);
      this.#c = tcp.connect(raddr, rport, this, options.nodelay === true);
      if (options.keepalive === true) tcp.setKeepalive(this.#c, true);
    }

    get format(): "buffer" | "number" {
      return this.#format;
    }

    set format(value: "buffer" | "number") {
      if (value !== "buffer" && value !== "number") throw new RangeError(`TCP: format must be "buffer" or "number"`);
      this.#format = value;
    }

    get remoteAddress(): string | undefined {
      return this.#c < 0 ? undefined : formatIpv4(t.remoteAddr[this.#c]);
    }

    get remotePort(): number | undefined {
      return this.#c < 0 ? undefined : t.remotePort[this.#c];
    }

    // TcpOwner: what the connection reports.
    onWritable(bytes: number): void {
      this.#connected = true;
      if (this.#onWritable !== null) this.#onWritable.call(this, bytes);
    }

    onReadable(bytes: number): void {
      if (this.#onReadable !== null) this.#onReadable.call(this, bytes);
    }

    onError(_reason: number): void {
      if (this.#errored) return;
      this.#errored = true;
      if (this.#onError !== null) this.#onError.call(this);
    }

    read(): ArrayBuffer | number | undefined;
    read(count: number): ArrayBuffer;
    read(buffer: ArrayBufferView | ArrayBuffer): number;
    read(arg?: number | ArrayBufferView | ArrayBuffer): ArrayBuffer | number | undefined {
      const c = this.#check();
      const available = tcp.readable(c);
      let result: ArrayBuffer | number | undefined;
      if (arg === undefined) {
        if (available === 0) return undefined;
        if (this.#format === "number") {
          result = tcp.readByte(c, this.#one);
        } else {
          result = tcp.readBuffer(c, available);
        }
      } else if (typeof arg === "number") {
        if (!Number.isInteger(arg) || arg < 0) throw new RangeError(`TCP read: count must be an integer >= 0, got ${arg}`);
        if (arg > available) throw new RangeError(`TCP read: ${arg} bytes asked, ${available} available`);
        result = arg > 0 ? tcp.readBuffer(c, arg) : new ArrayBuffer(0);
      } else {
        const dst = this.#viewOf(arg, "TCP read: buffer");
        const n = this.#viewLen;
        if (n > available) throw new RangeError(`TCP read: ${n} bytes asked, ${available} available`);
        tcp.read(c, dst, this.#viewOff, n);
        result = n;
      }
      // Everything read after the peer's FIN: say so (as Moddable does, through onError).
      if (tcp.readable(c) === 0 && (t.flags[c] & TF_PEER_FIN) !== 0) tcp.deferNotify(c);
      return result;
    }

    write(buffer: Buffer): number {
      const c = this.#check();
      const src = this.#viewOf(buffer, "TCP write: buffer");
      const len = this.#viewLen;
      const s = t.state[c];
      if (!this.#connected || (s !== TCP_ESTABLISHED && s !== TCP_CLOSE_WAIT)) throw new Error("TCP write: not connected");
      const room = tcp.writable(c);
      if (len > room) throw new RangeError(`TCP write: ${len} bytes do not fit; ${room} writable`);
      if (len > 0 && !tcp.write(c, src, this.#viewOff, len, buffer instanceof Uint8Array ? buffer : null)) throw new Error("TCP write: no packet buffers");
      return tcp.writable(c);
    }

    /**
     * A DataView over the bytes of an ArrayBuffer or view (#viewOff, #viewLen say where),
     * or a TypeError. The view is made again only when the application changes buffers.
     */
    #viewOf(buffer: unknown, what: string): DataView {
      let ab: ArrayBufferLike;
      if (ArrayBuffer.isView(buffer)) {
        ab = buffer.buffer;
        this.#viewOff = buffer.byteOffset;
        this.#viewLen = buffer.byteLength;
      } else if (buffer instanceof ArrayBuffer) {
        ab = buffer;
        this.#viewOff = 0;
        this.#viewLen = buffer.byteLength;
      } else {
        throw new TypeError(`${what} must be an ArrayBuffer or a view of one`);
      }
      if (this.#view === null || this.#view.buffer !== ab) this.#view = new DataView(ab);
      return this.#view;
    }

    close(): void {
      if (this.#c < 0) return;
      const c = this.#c;
      this.#c = -1;
      if (t.owner[c] === this) tcp.close(c);
    }

    #check(): number {
      if (this.#c < 0 || t.owner[this.#c] !== this) throw new Error("TCP: socket is closed");
      return this.#c;
    }
  }

  class Listener implements TcpListener, TcpListenerOwner {
    #l = -1;
    #onReadable: ((this: TcpListener, requests: number) => void) | null;
    target: unknown;

    constructor(options: ListenerOptions = {}) {
      if (typeof options !== "object" || options === null) throw new TypeError("Listener: options must be an object");
      const port = options.port === undefined ? 0 : checkPort(options.port, "Listener: port", true);
      const address = options.address === undefined ? 0 : parseIpv4(options.address);
      const backlog = options.backlog ?? 8;
      if (!Number.isInteger(backlog) || backlog < 1 || backlog > 255) throw new RangeError(`Listener: backlog must be in 1..255, got ${String(backlog)}`);
      if (options.format !== undefined && options.format !== "socket/tcp") throw new RangeError(`Listener: format must be "socket/tcp"`);
      if (options.onReadable !== undefined && typeof options.onReadable !== "function") throw new TypeError("Listener: onReadable must be a function");
      this.#onReadable = options.onReadable ?? null;
      this.target = options.target;
      this.#l = tcp.listen(address, port, backlog, this);
    }

    get port(): number {
      return this.#l < 0 ? 0 : t.localPort[this.#l];
    }

    get format(): "socket/tcp" {
      return "socket/tcp";
    }

    set format(value: "socket/tcp") {
      if (value !== "socket/tcp") throw new RangeError(`Listener: format must be "socket/tcp"`);
    }

    onConnections(waiting: number): void {
      if (this.#onReadable !== null) this.#onReadable.call(this, waiting);
    }

    read(): TcpSocket | undefined {
      if (this.#l < 0) throw new Error("Listener: closed");
      const c = tcp.accept(this.#l);
      if (c < 0) return undefined;
      return new TCP({ [ACCEPTED]: c } as TcpOptions);
    }

    close(): void {
      if (this.#l < 0) return;
      tcp.closeListener(this.#l);
      this.#l = -1;
    }
  }

  return { TCP, Listener };
}
