// The ECMA-419 DNS resolver class, shaped as the Moddable SDK's
// `embedded:network/dns/resolver/udp` (examples/io/udp/dns/dns.js) is used by its HTTP and
// MQTT clients through their `dns` option:
//   const Resolver = dnsResolverClass(resolver);
//   new Resolver({ servers: ["192.168.1.1"], socket: { io: UDP } })
//     .resolve({ host, rrtype: 1, onResolved(host, address) {}, onError(host, error) {} })
// over the stack's one DnsResolver (its cache, its pending table, its servers). socket.io is
// accepted and not used: the service has its own sockets. `servers` are given to the service
// only when it has none (DHCP's or the app's list wins). Callbacks run later, never inside
// resolve(), with `this` the Resolver. An app-facing API: it allocates.

import { formatIpv4, parseIpv4 } from "../wire/ipv4";
import { DNS_TYPE_A } from "../wire/dns";
import { dnsErrorText, type DnsResolver } from "./dns-resolver";

export interface ResolverOptions {
  /** dotted IPv4 addresses of DNS servers, used when the stack's resolver has none */
  servers?: readonly string[];
  /** accepted for Moddable's shape ({ io: UDP }); not used */
  socket?: unknown;
  /** the class itself, as Moddable's clients pass the whole `dns` object */
  io?: unknown;
}

export interface ResolveRequest {
  host: string;
  /** only A (1) is served */
  rrtype?: number;
  onResolved?: (this: DnsResolverUdp, host: string, address: string) => void;
  /** the host, and an Error saying why */
  onError?: (this: DnsResolverUdp, host: string, error: Error) => void;
}

export interface DnsResolverUdp {
  resolve(request: ResolveRequest): void;
  close(): void;
}

export type DnsResolverUdpClass = new (options?: ResolverOptions) => DnsResolverUdp;

export function dnsResolverClass(service: DnsResolver): DnsResolverUdpClass {
  class Resolver implements DnsResolverUdp {
    /** handles of this instance's requests still pending */
    readonly #pending = new Set<number>();
    #closed = false;

    constructor(options: ResolverOptions = {}) {
      if (typeof options !== "object" || options === null) throw new TypeError("Resolver: options must be an object");
      const servers = options.servers;
      if (servers !== undefined) {
        if (!Array.isArray(servers)) throw new TypeError("Resolver: servers must be an array of dotted IPv4 addresses");
        const addrs = servers.map((s: unknown) => {
          if (typeof s !== "string") throw new TypeError("Resolver: servers must be an array of dotted IPv4 addresses");
          return parseIpv4(s);
        });
        if (service.servers.length === 0) service.setServers(addrs);
      }
    }

    resolve(request: ResolveRequest): void {
      if (this.#closed) throw new Error("Resolver: closed");
      if (typeof request !== "object" || request === null) throw new TypeError("Resolver.resolve: the argument must be an object");
      const { onResolved, onError } = request;
      if (onResolved !== undefined && typeof onResolved !== "function") throw new TypeError("Resolver.resolve: onResolved must be a function");
      if (onError !== undefined && typeof onError !== "function") throw new TypeError("Resolver.resolve: onError must be a function");
      if (request.rrtype !== undefined && request.rrtype !== DNS_TYPE_A) throw new RangeError(`Resolver.resolve: rrtype ${String(request.rrtype)} is not served (only A, 1)`);
      const host = typeof request.host === "string" ? request.host : String(request.host);
      const handle = service.resolve(
        host,
        (addr) => {
          this.#pending.delete(handle);
          onResolved?.call(this, host, formatIpv4(addr));
        },
        (code) => {
          this.#pending.delete(handle);
          onError?.call(this, host, new Error(`${host}: ${dnsErrorText(code)}`));
        },
      );
      this.#pending.add(handle);
    }

    /** Cancel this instance's requests: none of their callbacks runs. */
    close(): void {
      for (const h of this.#pending) service.cancel(h);
      this.#pending.clear();
      this.#closed = true;
    }
  }
  return Resolver;
}
