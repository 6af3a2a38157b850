// FrameSocket: a UDP socket of ECMA-419's shape (embedded:io/socket/udp's constructor, read,
// write, close) for Moddable's Linux simulator, native in frame-socket.c, made to carry
// Ethernet frames for drivers/udp-frame-link.ts. Moddable's own lin UDP class reads one
// datagram per 20 ms task (50 frames a second at most) and makes an ArrayBuffer of each;
// this one is woken by the simulator's main loop as each datagram arrives (an RX interrupt,
// masked until read() finds the socket empty) and, given a buffer, receives straight into it
// and returns the length: the driver's skb slot, no copy or allocation in JavaScript. The
// device app uses it with socket=frames (link-udp.ts); it is simulator plumbing, not part of
// the stack on a board.

// XS's host-object hooks (xs/includes/xs.d.ts declares them for mcconfig; @moddable/typings does not)
declare function Native(destructor: string): new () => object;
declare function native(name: string): (this: unknown, ...args: unknown[]) => unknown;

export interface FrameSocketOptions {
  port: number;
  /** the address to bind (default every address) */
  address?: string;
  /** a datagram waits: called once, then again only after read() has found the socket empty */
  onReadable: (count: number) => void;
}

/** read()'s datagram, as ECMA-419's */
export type FrameSocketDatagram = ArrayBuffer & { readonly address: string; readonly port: number };

export default class FrameSocket extends Native("xs_framesocket_destructor") {
  constructor(options: FrameSocketOptions) {
    super();
    native("xs_framesocket_constructor").call(this, options);
  }

  /** The next datagram (or, given a buffer, its length, read into it; longer than the buffer when it was cut); undefined while none waits. */
  read(buffer?: Uint8Array): FrameSocketDatagram | number | undefined {
    return native("xs_framesocket_read").call(this, buffer) as FrameSocketDatagram | number | undefined;
  }

  write(buffer: Uint8Array, address: string, port: number): void {
    native("xs_framesocket_write").call(this, buffer, address, port);
  }

  close(): void {
    native("xs_framesocket_close").call(this);
  }
}
