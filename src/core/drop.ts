// Every skb ends in one of two calls: consumeSkb (it did its job) or kfreeSkbReason (it
// was dropped, and why). Each reason has its own counter, as Linux's drop reasons do, so
// no packet leaves the pool without a trace.

// Names follow Linux's SKB_DROP_REASON_* where one exists.
export const DROP_REASON_NAMES = Object.freeze([
  "NOT_SPECIFIED",
  "PKT_TOO_SMALL", // frame shorter than its headers say
  "OTHERHOST", // unicast to another MAC
  "UNHANDLED_PROTO", // no handler for the ethertype (IPv6 from Linux, for one)
  "DEV_DOWN", // transmit on a device that is down
  "NO_CARRIER", // transmit, or queued, while the link is down
  "QDISC_DROP", // qdisc full
  "TX_ERROR", // driver failed the frame
  "RX_HW_ERROR", // the MAC flagged a received frame (CRC, length)
  "LOOPBACK_BACKLOG", // loopback backlog full
  "SHUTDOWN", // purged when a device or the stack stopped
  "ARP_INVALID", // malformed ARP, or not Ethernet/IPv4
  "ARP_NOT_FOR_US", // request for another host's address (counted, not answered)
  "NEIGH_FAILED", // resolution failed
  "NEIGH_QUEUEFULL", // too many packets waiting for one resolution
  "NEIGH_TABLEFULL", // no neighbour entry could be had
  "IP_INHDR", // bad version, IHL or total length
  "IP_CSUM", // bad header checksum
  "IP_INVALID_SOURCE", // martian source (broadcast, multicast, loopback from the wire)
  "IP_INADDRERRORS", // not for us and not forwarding
  "IP_NOPROTO", // no handler for the IP protocol
  "IP_OUTNOROUTES", // no route to the destination
  "IP_TTL_EXCEEDED", // TTL ran out while forwarding
  "IP_FRAG_NEEDED", // too big for the link, DF set
  "IP_FRAG_OVERLAP", // overlapping fragments (the whole datagram goes)
  "IP_FRAG_TOO_BIG", // reassembled length over 65535
  "IP_FRAG_TIMEOUT", // reassembly timed out
  "IP_FRAG_NOMEM", // reassembly slots or skbs exhausted
  "IP_FRAG_INVALID", // fragment with an impossible offset or length
  "IP_FRAG_DUP", // a copy of a fragment already held
  "NOMEM", // no skb for a copy or a reply
  "NETFILTER_DROP", // a hook said drop
  "ICMP_CSUM", // bad ICMP checksum
  "ICMP_INVALID", // truncated or unsupported ICMP
  "ICMP_IGNORED", // echo to broadcast/multicast, ignored as Linux does
  "ICMP_UNSUPPORTED", // a type this stack does not answer (timestamp, address mask, ...)
  "UDP_CSUM",
  "UDP_NOPORT",
  "UDP_INVALID",
  "SOCKET_RCVBUFF", // socket receive queue full
  "SOCKET_CLOSE", // received, never read: the socket closed
  "TCP_CSUM",
  "TCP_INVALID",
  "TCP_NOSOCKET",
  "TCP_LISTEN_OVERFLOW", // listener backlog full
  "TCP_TABLE_FULL", // no connection entry for a new connection
  "TCP_OUT_OF_WINDOW", // sequence number outside the receive window (answered with an ACK)
  "TCP_RESET_CHALLENGED", // RST inside the window but not at rcvNxt (RFC 5961: challenge ACK)
  "TCP_ACK_UNSENT", // acknowledges data never sent (RFC 5961: challenge ACK)
  "TCP_ZEROWINDOW", // data past a closed window
  "TCP_OFO_DROP", // out-of-order queue full, or a duplicate there
  "TCP_RFC7323_PAWS", // timestamp older than the last one seen (PAWS: an old duplicate)
  "IGMP_INVALID", // truncated, bad checksum, a query of no version (RFC 3376 7.1) or from 0.0.0.0
] as const);

export type DropReasonName = (typeof DROP_REASON_NAMES)[number];

function reasonIndex(name: DropReasonName): number {
  return DROP_REASON_NAMES.indexOf(name);
}

// Numeric codes, one per name (indices into the counter array).
export const SKB_DROP = Object.freeze({
  NOT_SPECIFIED: reasonIndex("NOT_SPECIFIED"),
  PKT_TOO_SMALL: reasonIndex("PKT_TOO_SMALL"),
  OTHERHOST: reasonIndex("OTHERHOST"),
  UNHANDLED_PROTO: reasonIndex("UNHANDLED_PROTO"),
  DEV_DOWN: reasonIndex("DEV_DOWN"),
  NO_CARRIER: reasonIndex("NO_CARRIER"),
  QDISC_DROP: reasonIndex("QDISC_DROP"),
  TX_ERROR: reasonIndex("TX_ERROR"),
  RX_HW_ERROR: reasonIndex("RX_HW_ERROR"),
  LOOPBACK_BACKLOG: reasonIndex("LOOPBACK_BACKLOG"),
  SHUTDOWN: reasonIndex("SHUTDOWN"),
  ARP_INVALID: reasonIndex("ARP_INVALID"),
  ARP_NOT_FOR_US: reasonIndex("ARP_NOT_FOR_US"),
  NEIGH_FAILED: reasonIndex("NEIGH_FAILED"),
  NEIGH_QUEUEFULL: reasonIndex("NEIGH_QUEUEFULL"),
  NEIGH_TABLEFULL: reasonIndex("NEIGH_TABLEFULL"),
  IP_INHDR: reasonIndex("IP_INHDR"),
  IP_CSUM: reasonIndex("IP_CSUM"),
  IP_INVALID_SOURCE: reasonIndex("IP_INVALID_SOURCE"),
  IP_INADDRERRORS: reasonIndex("IP_INADDRERRORS"),
  IP_NOPROTO: reasonIndex("IP_NOPROTO"),
  IP_OUTNOROUTES: reasonIndex("IP_OUTNOROUTES"),
  IP_TTL_EXCEEDED: reasonIndex("IP_TTL_EXCEEDED"),
  IP_FRAG_NEEDED: reasonIndex("IP_FRAG_NEEDED"),
  IP_FRAG_OVERLAP: reasonIndex("IP_FRAG_OVERLAP"),
  IP_FRAG_TOO_BIG: reasonIndex("IP_FRAG_TOO_BIG"),
  IP_FRAG_TIMEOUT: reasonIndex("IP_FRAG_TIMEOUT"),
  IP_FRAG_NOMEM: reasonIndex("IP_FRAG_NOMEM"),
  IP_FRAG_INVALID: reasonIndex("IP_FRAG_INVALID"),
  IP_FRAG_DUP: reasonIndex("IP_FRAG_DUP"),
  NOMEM: reasonIndex("NOMEM"),
  NETFILTER_DROP: reasonIndex("NETFILTER_DROP"),
  ICMP_CSUM: reasonIndex("ICMP_CSUM"),
  ICMP_INVALID: reasonIndex("ICMP_INVALID"),
  ICMP_IGNORED: reasonIndex("ICMP_IGNORED"),
  ICMP_UNSUPPORTED: reasonIndex("ICMP_UNSUPPORTED"),
  UDP_CSUM: reasonIndex("UDP_CSUM"),
  UDP_NOPORT: reasonIndex("UDP_NOPORT"),
  UDP_INVALID: reasonIndex("UDP_INVALID"),
  SOCKET_RCVBUFF: reasonIndex("SOCKET_RCVBUFF"),
  SOCKET_CLOSE: reasonIndex("SOCKET_CLOSE"),
  TCP_CSUM: reasonIndex("TCP_CSUM"),
  TCP_INVALID: reasonIndex("TCP_INVALID"),
  TCP_NOSOCKET: reasonIndex("TCP_NOSOCKET"),
  TCP_LISTEN_OVERFLOW: reasonIndex("TCP_LISTEN_OVERFLOW"),
  TCP_TABLE_FULL: reasonIndex("TCP_TABLE_FULL"),
  TCP_OUT_OF_WINDOW: reasonIndex("TCP_OUT_OF_WINDOW"),
  TCP_RESET_CHALLENGED: reasonIndex("TCP_RESET_CHALLENGED"),
  TCP_ACK_UNSENT: reasonIndex("TCP_ACK_UNSENT"),
  TCP_ZEROWINDOW: reasonIndex("TCP_ZEROWINDOW"),
  TCP_OFO_DROP: reasonIndex("TCP_OFO_DROP"),
  TCP_RFC7323_PAWS: reasonIndex("TCP_RFC7323_PAWS"),
  IGMP_INVALID: reasonIndex("IGMP_INVALID"),
});

/** Counters of one stack: packets dropped by reason, and packets consumed normally. */
export class DropStats {
  readonly byReason: Uint32Array;
  consumed = 0;

  constructor() {
    this.byReason = new Uint32Array(DROP_REASON_NAMES.length);
  }

  get total(): number {
    let n = 0;
    for (let i = 0; i < this.byReason.length; i++) n += this.byReason[i];
    return n;
  }

  count(name: DropReasonName): number {
    return this.byReason[reasonIndex(name)];
  }

  /** Non-zero counters as { NAME: count }, for summaries and tests. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < this.byReason.length; i++) if (this.byReason[i] !== 0) out[DROP_REASON_NAMES[i]] = this.byReason[i];
    return out;
  }
}
