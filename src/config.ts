// Every limit and size of the stack in one table (lwIP's opt.h habit). A product overrides
// what it needs with `makeConfig({...})`; `init(config)` sizes every pool and table from it
// once, and nothing grows after that. Units are last in the names.

export interface NetConfig {
  // --- skb pool (src/core/skb.ts) ---
  /** data slots in the packet pool; each holds one frame */
  skbSlots: number;
  /** skb records; more than slots so that clones (TCP keeps the original) have a record */
  skbRecords: number;
  /** bytes reserved in front of a frame in each slot (room to push headers) */
  skbHeadroomBytes: number;
  /** largest link MTU any device of this stack may have (sets the slot size) */
  mtuMaxBytes: number;
  /** bytes after the largest frame (room for a trailer or a checksum a chip appends) */
  skbTailroomBytes: number;
  /** 32-bit words of per-layer control block in each skb (Linux skb->cb) */
  skbCbWords: number;

  // --- devices, NAPI and softirq (src/core) ---
  devicesMax: number;
  /** skbs a device's qdisc holds before it drops (Linux txqueuelen) */
  txQueueLen: number;
  /** frames one NAPI poll may take (Linux napi weight) */
  napiWeight: number;
  /** frames all NAPI polls may take in one NET_RX run (Linux netdev_budget) */
  netdevBudget: number;
  /** rounds of TIMER, NET_RX, NET_TX in one loop turn before yielding to the host */
  softirqRoundsMax: number;
  /** skbs the loopback device holds between transmit and its NAPI poll */
  loopbackBacklog: number;
  /** ETH_P_ALL taps (packet capture) */
  tapsMax: number;

  // --- timers (src/core/timer.ts) ---
  timersMax: number;
  timerWheelSlots: number;
  timerTickMs: number;

  // --- neighbour cache (src/neigh) ---
  neighEntriesMax: number;
  /** skbs queued per entry while ARP resolves (Linux unres_qlen) */
  neighQueueMax: number;
  /** REACHABLE lifetime base; the real one is random in [0.5, 1.5) of it (RFC 4861 style, as Linux) */
  neighReachableMs: number;
  neighRetransMs: number;
  neighDelayProbeMs: number;
  /** broadcast requests while INCOMPLETE */
  neighMcastProbes: number;
  /** unicast requests while PROBE */
  neighUcastProbes: number;
  /** how long a FAILED entry stays before its slot is reused */
  neighFailedHoldMs: number;

  // --- IPv4 (src/ipv4) ---
  routesMax: number;
  ipDefaultTtl: number;
  /** forward datagrams between interfaces (off for a host, on for a router) */
  ipForward: boolean;
  reasmSlots: number;
  /** skbs all reassembly slots may hold together (Linux ipfrag_high_thresh, in skbs) */
  reasmSkbsMax: number;
  reasmTimeoutMs: number;
  /** ICMP error token bucket (Linux icmp_msgs_per_sec / icmp_msgs_burst) */
  icmpRatePerSec: number;
  icmpBurst: number;
  /** answer echo requests sent to a broadcast or multicast address (Linux default: no) */
  icmpEchoIgnoreBroadcasts: boolean;
  /** hook functions per netfilter hook point */
  nfHooksPerPoint: number;
  /** raw IP handlers and raw sockets together */
  rawHandlersMax: number;
  /** datagrams a raw socket holds for its reader before it drops (counted rcvbufErrors) */
  rawRxQueueMax: number;

  // --- TCP (src/tcp) ---
  /** connections and listeners */
  tcpSocketsMax: number;
  /** bytes a connection may hold written and not yet acknowledged */
  tcpSndBufBytes: number;
  /** bytes a connection may hold received and not yet read (its window) */
  tcpRcvBufBytes: number;
  /** out-of-order segments held per connection */
  tcpOooMax: number;
  tcpRtoInitialMs: number;
  tcpRtoMinMs: number;
  tcpRtoMaxMs: number;
  /** SYN (or SYN-ACK) retransmissions before the attempt fails */
  tcpSynRetries: number;
  /** retransmissions of data before the connection is given up */
  tcpRetries: number;
  tcpDelackMs: number;
  /** 2 x MSL */
  tcpTimeWaitMs: number;
  /** RFC 5961 challenge ACKs a second, all connections together (Linux tcp_challenge_ack_limit) */
  tcpChallengeAcksPerSec: number;
  /** keepalive (RFC 1122 4.2.3.6, off unless a socket asks): idle time, probe interval, probes */
  tcpKeepaliveIdleMs: number;
  tcpKeepaliveIntervalMs: number;
  tcpKeepaliveProbes: number;
  /** answer SYNs with cookies when a listener's SYN queue is full (RFC 4987) */
  tcpSynCookies: boolean;
  /** offer and use selective acknowledgments (RFC 2018, 6675) */
  tcpSack: boolean;
  /** offer and use timestamps (RFC 7323: RTT measurement, PAWS) */
  tcpTimestamps: boolean;

  // --- UDP (src/udp) ---
  udpSocketsMax: number;
  /** datagrams a UDP socket holds for its reader before it drops (counted RcvbufErrors) */
  udpRxQueueMax: number;
}

export const DEFAULT_CONFIG: Readonly<NetConfig> = Object.freeze({
  skbSlots: 128,
  skbRecords: 160,
  skbHeadroomBytes: 96,
  mtuMaxBytes: 1500,
  skbTailroomBytes: 16,
  skbCbWords: 8,

  devicesMax: 4,
  txQueueLen: 64,
  napiWeight: 64,
  netdevBudget: 300,
  softirqRoundsMax: 10,
  loopbackBacklog: 64,
  tapsMax: 4,

  timersMax: 128,
  timerWheelSlots: 256,
  timerTickMs: 1,

  neighEntriesMax: 16,
  neighQueueMax: 48,
  neighReachableMs: 30_000,
  neighRetransMs: 1_000,
  neighDelayProbeMs: 5_000,
  neighMcastProbes: 3,
  neighUcastProbes: 3,
  neighFailedHoldMs: 3_000,

  routesMax: 16,
  ipDefaultTtl: 64,
  ipForward: false,
  reasmSlots: 4,
  reasmSkbsMax: 64,
  reasmTimeoutMs: 30_000,
  icmpRatePerSec: 1000,
  icmpBurst: 50,
  icmpEchoIgnoreBroadcasts: true,
  nfHooksPerPoint: 4,
  rawHandlersMax: 4,
  rawRxQueueMax: 8,
  tcpSocketsMax: 16,
  tcpSndBufBytes: 32 * 1024,
  tcpRcvBufBytes: 32 * 1024,
  tcpOooMax: 32,
  tcpRtoInitialMs: 1000,
  tcpRtoMinMs: 200,
  tcpRtoMaxMs: 60_000,
  tcpSynRetries: 6,
  tcpRetries: 12,
  tcpDelackMs: 40,
  tcpTimeWaitMs: 60_000,
  tcpChallengeAcksPerSec: 1000,
  tcpKeepaliveIdleMs: 7_200_000,
  tcpKeepaliveIntervalMs: 75_000,
  tcpKeepaliveProbes: 9,
  tcpSynCookies: true,
  tcpSack: true,
  tcpTimestamps: true,
  udpSocketsMax: 8,
  udpRxQueueMax: 8,
});

/** A small device profile: 8 packet buffers, a few table entries. */
export const MINIMAL_CONFIG: Readonly<NetConfig> = Object.freeze({
  ...DEFAULT_CONFIG,
  skbSlots: 8,
  skbRecords: 12,
  devicesMax: 2,
  txQueueLen: 4,
  napiWeight: 4,
  netdevBudget: 16,
  loopbackBacklog: 4,
  tapsMax: 1,
  timersMax: 32,
  timerWheelSlots: 64,
  neighEntriesMax: 4,
  neighQueueMax: 2,
  routesMax: 4,
  reasmSlots: 1,
  reasmSkbsMax: 4,
  nfHooksPerPoint: 1,
  rawHandlersMax: 1,
  rawRxQueueMax: 2,
  tcpSocketsMax: 2,
  tcpSndBufBytes: 2920,
  tcpRcvBufBytes: 2920,
  tcpOooMax: 2,
  udpSocketsMax: 2,
  udpRxQueueMax: 2,
});

/** Defaults with overrides, checked: a bad value throws a RangeError that names it. */
export function makeConfig(overrides: Partial<NetConfig> = {}, base: Readonly<NetConfig> = DEFAULT_CONFIG): NetConfig {
  const config: NetConfig = { ...base, ...overrides };
  const positive: (keyof NetConfig)[] = [
    "skbSlots", "skbRecords", "mtuMaxBytes", "skbCbWords", "devicesMax", "txQueueLen", "napiWeight",
    "netdevBudget", "softirqRoundsMax", "loopbackBacklog", "timersMax", "timerWheelSlots", "timerTickMs",
    "neighEntriesMax", "neighQueueMax", "neighReachableMs", "neighRetransMs", "neighDelayProbeMs",
    "neighMcastProbes", "neighUcastProbes", "routesMax", "ipDefaultTtl", "reasmSlots", "reasmSkbsMax",
    "reasmTimeoutMs", "icmpRatePerSec", "icmpBurst", "nfHooksPerPoint", "rawHandlersMax", "rawRxQueueMax",
    "udpSocketsMax", "udpRxQueueMax", "tcpSocketsMax", "tcpSndBufBytes", "tcpRcvBufBytes", "tcpOooMax",
    "tcpRtoInitialMs", "tcpRtoMinMs", "tcpRtoMaxMs", "tcpSynRetries", "tcpRetries", "tcpDelackMs", "tcpTimeWaitMs", "tcpChallengeAcksPerSec",
    "tcpKeepaliveIdleMs", "tcpKeepaliveIntervalMs", "tcpKeepaliveProbes",
  ];
  for (const key of positive) {
    const v = config[key] as number;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
      throw new RangeError(`config.${key} must be a positive integer, got ${String(v)}`);
    }
  }
  for (const key of ["skbHeadroomBytes", "skbTailroomBytes", "tapsMax", "neighFailedHoldMs"] as const) {
    const v = config[key];
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`config.${key} must be an integer >= 0, got ${String(v)}`);
  }
  if (config.skbRecords < config.skbSlots) throw new RangeError("config.skbRecords must be >= config.skbSlots");
  if (config.skbRecords > 0x7fff) throw new RangeError("config.skbRecords must be <= 32767");
  // Every skb must take an Ethernet and an IPv4 header in front of its data.
  if (config.skbHeadroomBytes < 34) throw new RangeError("config.skbHeadroomBytes must be >= 34 (Ethernet + IPv4 headers)");
  if (config.skbCbWords < 5) throw new RangeError("config.skbCbWords must be >= 5 (TCP keeps five words per segment)");
  if (config.mtuMaxBytes < 68 || config.mtuMaxBytes > 9000) throw new RangeError("config.mtuMaxBytes must be in 68..9000");
  if (config.reasmSkbsMax >= config.skbSlots) {
    throw new RangeError("config.reasmSkbsMax must be below config.skbSlots (receive rings need buffers too)");
  }
  if (config.ipDefaultTtl > 255) throw new RangeError("config.ipDefaultTtl must be <= 255");
  if ((config.timerWheelSlots & (config.timerWheelSlots - 1)) !== 0) {
    throw new RangeError("config.timerWheelSlots must be a power of two");
  }
  return config;
}
