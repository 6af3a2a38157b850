// What every TCP service of src/apps shares: the ECMA-419 classes it was given (as
// tcpSocketClasses(net) returns them: the service reaches the stack through them only), its
// listener, the connections it holds open, its buffers and its count of caught exceptions.
// Every callback runs inside the stack's loop: an exception there is caught, counted
// (errors), reported (onError) and ends only its own connection.

import type { TcpListener, TcpSocket, tcpSocketClasses } from "../socket/tcp";
import { AppBuffers, type AppBufferNeeds } from "./buffers";

/** The TCP classes of one stack: `tcpSocketClasses(net)`. */
export type TcpClasses = ReturnType<typeof tcpSocketClasses>;

/** Told of each exception a service caught: where (e.g. "tcp echo"), and what. */
export type ServiceErrorHook = (where: string, err: unknown) => void;

export interface ServiceOptions {
  /** the port to listen on (default: the service's standard port) */
  port?: number;
  /** memory shared with other services (AppBuffers); default: the service's own, of chunkBytes */
  buffers?: AppBuffers;
  /** largest read or write at once when the service makes its own buffers (default 65536) */
  chunkBytes?: number;
  onError?: ServiceErrorHook;
}

/** connections that may wait to be accepted, per listener */
const BACKLOG = 8;

export abstract class TcpService {
  readonly TCP: TcpClasses["TCP"];
  readonly Listener: TcpClasses["Listener"];
  readonly name: string;
  readonly port: number;
  readonly buffers: AppBuffers;
  /** exceptions caught in callbacks (each ended its connection) */
  errors = 0;
  readonly #onError: ServiceErrorHook | null;
  #listener: TcpListener | null = null;
  readonly #open = new Set<TcpSocket>();

  constructor(name: string, classes: TcpClasses, options: ServiceOptions, defaultPort: number, needs: AppBufferNeeds) {
    this.name = name;
    this.TCP = classes.TCP;
    this.Listener = classes.Listener;
    this.port = options.port ?? defaultPort;
    this.#onError = options.onError ?? null;
    if (options.buffers !== undefined) {
      options.buffers.check(needs, name);
      this.buffers = options.buffers;
    } else {
      this.buffers = new AppBuffers({ chunkBytes: options.chunkBytes ?? 65536, ...needs });
    }
  }

  /** Listen on the service's port. */
  start(): this {
    if (this.#listener !== null) throw new Error(`${this.name}: already started`);
    this.#listener = new this.Listener({ port: this.port, backlog: BACKLOG, onReadable: serviceAccept, target: this });
    return this;
  }

  /** Take every connection waiting on the listener. */
  accept(listener: TcpListener): void {
    for (;;) {
      const from = listener.read();
      if (from === undefined) return;
      this.track(this.adopt(from));
    }
  }

  /** Serve one accepted connection: the socket made from it (new TCP({ from, ... })). */
  protected abstract adopt(from: TcpSocket): TcpSocket;

  /** A socket the service holds open (closed by close()). */
  track(sock: TcpSocket): void {
    this.#open.add(sock);
  }

  untrack(sock: TcpSocket): void {
    this.#open.delete(sock);
  }

  get openConnections(): number {
    return this.#open.size;
  }

  error(where: string, err: unknown): void {
    this.errors++;
    if (this.#onError !== null) this.#onError(where, err);
  }

  /** Stop listening and close every connection of the service. */
  close(): void {
    this.#listener?.close();
    this.#listener = null;
    for (const s of this.#open) s.close();
    this.#open.clear();
  }
}

function serviceAccept(this: TcpListener): void {
  const service = this.target as TcpService;
  try {
    service.accept(this);
  } catch (err) {
    service.error(`accept on port ${service.port}`, err);
  }
}
