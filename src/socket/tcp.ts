// embedded:io/socket/tcp and embedded:io/socket/listener (ECMA-419) over xsnet's TCP,
// with the semantics of Moddable's implementation (modules/io/socket/lwip/tcp.c of the SDK,
// whose test suite runs on these classes unchanged, test/moddable): onWritable(bytes) whose
// first call means connected; onReadable(bytes); onError() on failure and after the peer's
// close once everything was read; read() returns undefined while nothing is buffered and
// never more than is there (asking for more is an Error); write() is an Error before the
// connection is up and when the data does not fit (no partial write); format "number"
// reads and writes one byte. A method called on anything but an open socket of its class
// (another object, or a socket closed or handed to another with `from`) is a SyntaxError, as
// XS's host-data check makes it. The classes are made for one stack:
// `const { TCP, Listener } = tcpSocketClasses(net)`.

import type { Net } from "../core/net";
import { formatIpv4, ipv4FromText, parseIpv4 } from "../wire/ipv4";
import { TCP_CLOSE_WAIT, TCP_ESTABLISHED, TF_NODELAY, TF_PEER_FIN, type TcpListenerOwner, type TcpOwner } from "../tcp/tcb";
import { BYTE_BUFFER_KINDS, checkPort, type HostResolver } from "./common";
// mcconfig type-checks each module alone: the modules that add net.tcp
import type {} from "../tcp/init";

type Buffer = ArrayBuffer | ArrayBufferView;

export interface TcpOptions {
  address?: string;
  /**
   * a name to connect to instead of an address (ECMA-419): resolved through net.hostResolver
   * (a DnsResolver started on the stack), then connected; a failed resolve calls onError.
   * Ignored when address is given (Moddable's HTTP client passes both).
   */
  host?: string;
  /** a number, or a string of one ("80") */
  port?: number | string;
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
  /** everything buffered (format "buffer") or one byte (format "number"); undefined while nothing is */
  read(): ArrayBuffer | number | undefined;
  // The two forms below also return undefined while nothing is buffered; typed for their
  // use with the count onReadable reported, which is there.
  /** `count` bytes (an Error when fewer are buffered) */
  read(count: number): ArrayBuffer;
  /** fills the buffer (an Error when fewer bytes are buffered), returns its length */
  read(buffer: ArrayBufferView | ArrayBuffer): number;
  /** the buffer (format "buffer") or one byte 0..255 (format "number"); returns the bytes still writable */
  write(value: Buffer | number): number;
  close(): void;
}

export interface ListenerOptions {
  /** a number, or a string of one ("80"); absent: an ephemeral port (present but undefined is an Error) */
  port?: number | string;
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

export type TcpSocketClass = new (options: TcpOptions) => TcpSocket;
export type TcpListenerClass = new (options?: ListenerOptions) => TcpListener;

export function tcpSocketClasses(net: Net): { TCP: TcpSocketClass; Listener: TcpListenerClass } {
  const tcp = net.tcp;
  const t = tcp.tcb;
  /** a connection handed from Listener.read() to its socket */
  const ACCEPTED = Symbol("accepted connection");
  /** #c of a socket closed by its application, or handed to another with `from` */
  const CLOSED = -1;
  /** #c while its `host` is being resolved (or failed to resolve) */
  const RESOLVING = -2;

  class TCP implements TcpSocket, TcpOwner {
    #c = CLOSED;
    #format: "buffer" | "number" = "buffer";
    #onReadable: ((this: TcpSocket, bytes: number) => void) | null = null;
    #onWritable: ((this: TcpSocket, bytes: number) => void) | null = null;
    #onError: ((this: TcpSocket) => void) | null = null;
    #connected = false;
    #errored = false;
    /** the resolver's handle while `host` resolves */
    #resolveHandle = -1;
    /** the resolver asked (cancelled there, whatever net.hostResolver is by then) */
    #resolver: HostResolver | null = null;
    #nodelay = false;
    #keepalive = false;
    /** the peer, kept here: the connection's table entry is reused once the stack drops it */
    #raddr = 0;
    #rport = 0;
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
        this.#adopt(accepted, true);
        return;
      }
      if (options.format !== undefined) this.#setFormat(options.format);
      for (const name of ["onReadable", "onWritable", "onError"] as const) {
        if (options[name] !== undefined && typeof options[name] !== "function") throw new TypeError(`TCP: ${name} must be a function`);
      }
      this.#onReadable = options.onReadable ?? null;
      this.#onWritable = options.onWritable ?? null;
      this.#onError = options.onError ?? null;
      this.target = options.target;
      const from: unknown = options.from;
      if (from !== undefined) {
        if (!TCP.#isSocket(from)) throw new SyntaxError("TCP: from must be a TCP socket (as Listener.read() returns)");
        const c = from.#c;
        if (c === CLOSED) throw new SyntaxError("TCP: from is closed or already taken");
        if (t.owner[c] !== from) throw new Error("TCP: from's connection is closed (reset, refused or timed out)");
        // The connection moves; `from` is closed, as Moddable's constructor closes it.
        from.#c = CLOSED;
        this.#adopt(c, from.#connected);
        if (options.nodelay === true) t.flags[c] |= TF_NODELAY;
        if (options.keepalive === true) tcp.setKeepalive(c, true);
        // Tell the new owner what it has: connected, and any data already buffered.
        tcp.deferNotify(c);
        return;
      }
      if (options.address === undefined && options.host !== undefined) {
        this.#connectHost(options.host, checkPort(options.port, "TCP: port", false), options.nodelay === true, options.keepalive === true);
        return;
      }
      if (options.address === undefined) throw new Error("TCP: address is missing (or give host or from)");
      if (typeof options.address !== "string") throw new TypeError("TCP: address must be a string");
      const raddr = parseIpv4(options.address);
      const rport = checkPort(options.port, "TCP: port", false);
      this.#raddr = raddr;
      this.#rport = rport;
      this.#c = tcp.connect(raddr, rport, this, options.nodelay === true);
      if (options.keepalive === true) tcp.setKeepalive(this.#c, true);
    }

    /** The `host` option: a dotted address at once, else through the stack's resolver, then connect. */
    #connectHost(host: unknown, rport: number, nodelay: boolean, keepalive: boolean): void {
      if (typeof host !== "string") throw new TypeError("TCP: host must be a string");
      this.#rport = rport;
      this.#nodelay = nodelay;
      this.#keepalive = keepalive;
      const addr = ipv4FromText(host);
      if (addr >= 0) {
        this.#connectTo(addr);
        return;
      }
      const resolver = net.hostResolver;
      if (resolver === undefined) throw new TypeError(`TCP: host "${host}" is a name, and no resolver runs on this stack (start a DnsResolver, or give address)`);
      this.#c = RESOLVING;
      this.#resolver = resolver;
      this.#resolveHandle = resolver.resolveHost(host, (a) => this.#resolved(a), () => this.#resolveFailed());
    }

    #connectTo(raddr: number): void {
      this.#raddr = raddr;
      this.#c = tcp.connect(raddr, this.#rport, this, this.#nodelay);
      if (this.#keepalive) tcp.setKeepalive(this.#c, true);
    }

    #resolved(addr: number): void {
      this.#resolveHandle = -1;
      if (this.#c !== RESOLVING) return;
      try {
        this.#connectTo(addr);
      } catch {
        // No connection to be had (the table is full): as a failed connect.
        this.#c = RESOLVING;
        this.onError(0);
      }
    }

    #resolveFailed(): void {
      this.#resolveHandle = -1;
      if (this.#c === RESOLVING) this.onError(0);
    }

    #adopt(c: number, connected: boolean): void {
      this.#c = c;
      t.owner[c] = this;
      this.#connected = connected;
      this.#raddr = t.remoteAddr[c];
      this.#rport = t.remotePort[c];
    }

    static #isSocket(value: unknown): value is TCP {
      return typeof value === "object" && value !== null && #c in value;
    }

    /** The receiver as an open socket, or the SyntaxError of Moddable's host-data check. */
    static #open(self: unknown, what: string): TCP {
      if (!TCP.#isSocket(self)) throw new SyntaxError(`TCP ${what}: not a TCP socket`);
      if (self.#c === CLOSED) throw new SyntaxError(`TCP ${what}: socket is closed`);
      return self;
    }

    get format(): "buffer" | "number" {
      return TCP.#open(this, "format").#format;
    }

    set format(value: "buffer" | "number") {
      TCP.#open(this, "format").#setFormat(value);
    }

    #setFormat(value: unknown): void {
      if (value !== "buffer" && value !== "number") throw new RangeError(`TCP: format must be "buffer" or "number", got ${String(value)}`);
      this.#format = value;
    }

    get remoteAddress(): string | undefined {
      const self = TCP.#open(this, "remoteAddress");
      return self.#c === RESOLVING ? undefined : formatIpv4(self.#raddr);
    }

    get remotePort(): number | undefined {
      return TCP.#open(this, "remotePort").#rport;
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
    read(arg?: unknown): ArrayBuffer | number | undefined {
      // #open written out, and the stack having dropped the connection checked: read and
      // write run for every batch of segments.
      const self: unknown = this;
      if (typeof self !== "object" || self === null || !(#c in self)) throw new SyntaxError("TCP read: not a TCP socket");
      const c = self.#c;
      if (c === CLOSED) throw new SyntaxError("TCP read: socket is closed");
      if (c === RESOLVING) return undefined;
      if (t.owner[c] !== self) throw new Error("TCP read: the connection is closed (reset, refused or timed out)");
      let want = 0;
      if (arg === undefined) {
        want = self.#format === "number" ? 1 : 0;
      } else if (typeof arg === "number") {
        if (!Number.isInteger(arg) || arg < 0) throw new RangeError(`TCP read: count must be an integer >= 0, got ${arg}`);
        want = arg;
      } else if (self.#viewOf(arg) !== null) {
        want = self.#viewLen;
      } else {
        throw new TypeError(`TCP read: the argument must be a byte count or ${BYTE_BUFFER_KINDS}`);
      }
      const available = tcp.readable(c);
      // Nothing buffered: undefined, whatever was asked (Moddable's read does the same).
      if (available === 0) return undefined;
      if (want > available) throw new Error(`TCP read: ${want} bytes asked, ${available} available`);
      let result: ArrayBuffer | number;
      if (arg === undefined) {
        result = self.#format === "number" ? tcp.readByte(c, self.#one) : tcp.readBuffer(c, available);
      } else if (typeof arg === "number") {
        result = want > 0 ? tcp.readBuffer(c, want) : new ArrayBuffer(0);
      } else {
        tcp.read(c, self.#view, self.#viewOff, want);
        result = want;
      }
      // Everything read after the peer's FIN: say so (as Moddable does, through onError).
      if (tcp.readable(c) === 0 && (t.flags[c] & TF_PEER_FIN) !== 0) tcp.deferNotify(c);
      return result;
    }

    write(value: Buffer | number): number {
      const self: unknown = this;
      if (typeof self !== "object" || self === null || !(#c in self)) throw new SyntaxError("TCP write: not a TCP socket");
      const c = self.#c;
      if (c === CLOSED) throw new SyntaxError("TCP write: socket is closed");
      if (c === RESOLVING) throw new Error("TCP write: not connected (its host is being resolved)");
      let src: DataView;
      let len = 1;
      if (self.#format === "number") {
        if (typeof value !== "number") throw new TypeError(`TCP write: format is "number": the value must be a number, got ${typeof value}`);
        if (!Number.isInteger(value) || value < 0 || value > 255) throw new RangeError(`TCP write: format is "number": the value must be a byte 0..255, got ${value}`);
        src = self.#one;
        src.setUint8(0, value);
      } else {
        const view = self.#viewOf(value);
        if (view === null) throw new TypeError(`TCP write: the buffer must be ${BYTE_BUFFER_KINDS}`);
        src = view;
        len = self.#viewLen;
      }
      if (t.owner[c] !== self) throw new Error("TCP write: the connection is closed (reset, refused or timed out)");
      const s = t.state[c];
      if (!self.#connected || (s !== TCP_ESTABLISHED && s !== TCP_CLOSE_WAIT)) throw new Error("TCP write: not connected");
      const room = tcp.writable(c);
      if (len > room) throw new Error(`TCP write: ${len} bytes do not fit; ${room} writable`);
      const off = src === self.#one ? 0 : self.#viewOff;
      if (len > 0 && !tcp.write(c, src, off, len, value instanceof Uint8Array ? value : null)) throw new Error("TCP write: no packet buffers");
      return tcp.writable(c);
    }

    /**
     * A DataView over the bytes of a byte buffer (isByteBuffer's kinds; #viewOff, #viewLen say
     * where), or null for anything else. The view is made again only when the application
     * changes buffers.
     */
    #viewOf(buffer: unknown): DataView | null {
      let ab: ArrayBufferLike;
      if (buffer instanceof ArrayBuffer) {
        ab = buffer;
        this.#viewOff = 0;
        this.#viewLen = buffer.byteLength;
      } else if (ArrayBuffer.isView(buffer) && (buffer instanceof DataView || (buffer as Uint8Array).BYTES_PER_ELEMENT === 1)) {
        ab = buffer.buffer;
        this.#viewOff = buffer.byteOffset;
        this.#viewLen = buffer.byteLength;
      } else {
        return null;
      }
      if (this.#view === null || this.#view.buffer !== ab) this.#view = new DataView(ab);
      return this.#view;
    }

    close(): void {
      if (!TCP.#isSocket(this)) throw new SyntaxError("TCP close: not a TCP socket");
      const c = this.#c;
      if (c === CLOSED) return;
      this.#c = CLOSED;
      if (c === RESOLVING) {
        if (this.#resolveHandle >= 0) this.#resolver?.cancelHost(this.#resolveHandle);
        this.#resolveHandle = -1;
        return;
      }
      if (t.owner[c] === this) tcp.close(c);
    }
  }

  class Listener implements TcpListener, TcpListenerOwner {
    #l = CLOSED;
    #onReadable: ((this: TcpListener, requests: number) => void) | null;
    target: unknown;

    constructor(options: ListenerOptions = {}) {
      if (typeof options !== "object" || options === null) throw new TypeError("Listener: options must be an object");
      // A port present but undefined is refused (Moddable's builtinGetSignedInteger); absent is ephemeral.
      const port = "port" in options ? checkPort(options.port, "Listener: port", true) : 0;
      const address = options.address === undefined ? 0 : parseIpv4(options.address);
      const backlog = options.backlog ?? 8;
      if (!Number.isInteger(backlog) || backlog < 1 || backlog > 255) throw new RangeError(`Listener: backlog must be in 1..255, got ${String(backlog)}`);
      if (options.format !== undefined && options.format !== "socket/tcp") throw new RangeError(`Listener: format must be "socket/tcp"`);
      if (options.onReadable !== undefined && typeof options.onReadable !== "function") throw new TypeError("Listener: onReadable must be a function");
      this.#onReadable = options.onReadable ?? null;
      this.target = options.target;
      this.#l = tcp.listen(address, port, backlog, this);
    }

    static #isListener(value: unknown): value is Listener {
      return typeof value === "object" && value !== null && #l in value;
    }

    static #open(self: unknown, what: string): Listener {
      if (!Listener.#isListener(self)) throw new SyntaxError(`Listener ${what}: not a Listener`);
      if (self.#l === CLOSED) throw new SyntaxError(`Listener ${what}: closed`);
      return self;
    }

    get port(): number {
      return t.localPort[Listener.#open(this, "port").#l];
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
      const c = tcp.accept(Listener.#open(this, "read").#l);
      if (c < 0) return undefined;
      return new TCP({ [ACCEPTED]: c } as TcpOptions);
    }

    close(): void {
      if (!Listener.#isListener(this)) throw new SyntaxError("Listener close: not a Listener");
      if (this.#l === CLOSED) return;
      tcp.closeListener(this.#l);
      this.#l = CLOSED;
    }
  }

  return { TCP, Listener };
}
