// Every limit and size of the stack in one table (lwIP's opt.h habit): each key once, with
// its default, unit, bounds and a line of doc (a comment, as opt.h's are: a board pays no
// flash for it; the unit and the reason for a bound are kept, for the errors that name
// them). The NetConfig type, DEFAULT_CONFIG and
// makeConfig's checks all come from CONFIG_TABLE, so a key cannot be added in one place and
// forgotten in another. A product overrides what it needs with `makeConfig({...})`;
// `init(config)` sizes every pool and table from it once, and nothing grows after that.
// makeConfig also makes the cross-checks lwIP's init.c makes at build time (a table too
// small for what init takes from it, values out of order, a header that cannot fit), and
// ramBudget(config) lists what init allocates (lwIP's memp_std.h, printed by bench/ram.ts).
// Units are last in the names.

/** A numeric key: an integer in min..max. */
export interface IntKey {
  readonly type: "integer";
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly unit: string;
  /** why the bounds are what they are, when it is not obvious */
  readonly why: string;
}

/** A switch. */
export interface FlagKey {
  readonly type: "boolean";
  readonly default: boolean;
  readonly unit: "";
}

export type ConfigKey = IntKey | FlagKey;

function int(defaultValue: number, min: number, max: number, unit: string, why = ""): IntKey {
  return Object.freeze({ type: "integer", default: defaultValue, min, max, unit, why });
}

function flag(defaultValue: boolean): FlagKey {
  return Object.freeze({ type: "boolean", default: defaultValue, unit: "" });
}

/** The longest delay a host timer takes (a signed 32-bit count of ms, as setTimeout's): 24.8 days. */
const MS_MAX = 0x7fffffff;
/** RFC 7323 2.3: a window scale of at most 14, so a window of at most 65535 << 14 bytes. */
const WINDOW_MAX = 65535 * (1 << 14);
/** Ethernet (14) + IPv4 (20) + TCP (20) header bytes pushed in front of the data of a TCP segment. */
const TCP_DATA_HEADROOM = 14 + 20 + 20;
/** TCP timestamps option as sent on every segment (RFC 7323 3.2): 10 bytes and 2 NOPs. */
const TCP_TIMESTAMP_OPTION = 12;
/** IPv4 and TCP headers without options: a full-size segment's payload is the MTU less these (RFC 9293 3.7.1). */
const TCP_IP_HEADERS = 40;

export const CONFIG_TABLE = Object.freeze({
  // --- skb pool (src/core/skb.ts) ---
  /** skb records (sk_buff heads), at least one per slot; more so that clones (TCP keeps the original of a segment in flight) have one */
  skbRecords: int(160, 1, 0x7fff, "skbs", "record ids are Int16"),
  /** data slots of the packet pool; each holds one frame */
  skbSlots: int(128, 1, 0x7fff, "slots", "slot ids are Int16"),
  /** reserved in front of a frame in each slot: room to push the headers */
  skbHeadroomBytes: int(96, TCP_DATA_HEADROOM, 512, "bytes", "TCP pushes Ethernet + IPv4 + TCP headers (54 bytes) in front of its data"),
  /** largest link MTU any device of this stack may have (sets the slot size) */
  mtuMaxBytes: int(1500, 68, 9000, "bytes", "68: the least MTU of an IPv4 link (RFC 791); 9000: jumbo frames"),
  /** after the largest frame (room for a trailer or a checksum a chip appends) */
  skbTailroomBytes: int(16, 0, 512, "bytes"),
  /** 32-bit words of per-layer control block in each skb (Linux skb->cb) */
  skbCbWords: int(8, 5, 64, "words", "TCP keeps five words per segment"),

  // --- devices, NAPI and softirq (src/core) ---
  /** interfaces, the loopback device included */
  devicesMax: int(4, 1, 255, "devices"),
  /** a device's qdisc holds before it drops (Linux txqueuelen) */
  txQueueLen: int(64, 1, 65535, "skbs"),
  /** one NAPI poll may take (Linux napi weight) */
  napiWeight: int(64, 1, 65535, "frames"),
  /** all NAPI polls may take in one NET_RX run (Linux netdev_budget) */
  netdevBudget: int(300, 1, 65535, "frames"),
  /** one NET_RX run may last before it yields, for a driver whose frames cost CPU time (SPI) (Linux netdev_budget_usecs) */
  netdevBudgetMs: int(2, 1, 1000, "ms"),
  /** of TIMER, NET_RX, NET_TX in one loop turn before yielding to the host */
  softirqRoundsMax: int(10, 1, 1000, "rounds"),
  /** the loopback device holds between transmit and its NAPI poll */
  loopbackBacklog: int(64, 1, 65535, "skbs"),
  /** ETH_P_ALL taps (packet capture) */
  tapsMax: int(4, 0, 64, "taps"),

  // --- timers (src/core/timer.ts) ---
  /** timers the layers may make: one per neighbour entry, reassembly slot and device, four per TCP connection; one per tbf qdisc, LAN service and SPI Ethernet driver */
  timersMax: int(128, 1, 65535, "timers"),
  /** of the timer wheel; a power of two */
  timerWheelSlots: int(256, 1, 65536, "slots"),
  /** granularity of the timer wheel */
  timerTickMs: int(1, 1, 1000, "ms"),

  // --- neighbour cache (src/neigh) ---
  /** neighbour (ARP) cache entries */
  neighEntriesMax: int(16, 1, 4096, "entries", "searched linearly"),
  /** queued per entry while ARP resolves (Linux unres_qlen) */
  neighQueueMax: int(48, 1, 0x7fff, "skbs"),
  /** REACHABLE lifetime base; the real one is random in [0.5, 1.5) of it (RFC 4861 style, as Linux) */
  neighReachableMs: int(30_000, 1, MS_MAX, "ms"),
  /** between ARP requests while INCOMPLETE or PROBE */
  neighRetransMs: int(1_000, 1, MS_MAX, "ms"),
  /** in DELAY before a STALE entry in use is probed */
  neighDelayProbeMs: int(5_000, 1, MS_MAX, "ms"),
  /** broadcast requests while INCOMPLETE */
  neighMcastProbes: int(3, 1, 255, "requests", "counted in a byte"),
  /** unicast requests while PROBE */
  neighUcastProbes: int(3, 1, 255, "requests", "counted in a byte"),
  /** how long a FAILED entry stays before its slot is reused (0: at once) */
  neighFailedHoldMs: int(3_000, 0, MS_MAX, "ms"),

  // --- IPv4 (src/ipv4) ---
  /** routing table entries, the connected routes included */
  routesMax: int(16, 1, 4096, "routes", "searched linearly"),
  /** TTL of the datagrams we send (RFC 1122 3.2.1.7) */
  ipDefaultTtl: int(64, 1, 255, "hops", "an 8-bit field"),
  /** forward datagrams between interfaces (off for a host, on for a router) */
  ipForward: flag(false),
  /** datagrams reassembled at once (RFC 815) */
  reasmSlots: int(4, 1, 255, "datagrams"),
  /** all reassembly slots may hold together (Linux ipfrag_high_thresh, in skbs) */
  reasmSkbsMax: int(64, 1, 0x7fff, "skbs"),
  /** a partial datagram waits for the rest of its fragments (Linux ipfrag_time) */
  reasmTimeoutMs: int(30_000, 1, MS_MAX, "ms"),
  /** ICMP error token bucket rate (Linux icmp_msgs_per_sec) */
  icmpRatePerSec: int(1000, 1, 1_000_000, "per s"),
  /** ICMP error token bucket depth (Linux icmp_msgs_burst) */
  icmpBurst: int(50, 1, 1_000_000, "messages"),
  /** leave unanswered the echo requests sent to a broadcast or multicast address (Linux icmp_echo_ignore_broadcasts) */
  icmpEchoIgnoreBroadcasts: flag(true),
  /** hook functions per netfilter hook point */
  nfHooksPerPoint: int(4, 1, 255, "hooks", "counted in a byte"),
  /** raw IP handlers and raw sockets together */
  rawHandlersMax: int(4, 1, 255, "handlers"),
  /** a raw socket holds for its reader before it drops (counted rcvbufErrors) */
  rawRxQueueMax: int(8, 1, 0x7fff, "datagrams"),

  // --- TCP (src/tcp) ---
  /** connections and listeners */
  tcpSocketsMax: int(16, 1, 0x7fff, "connections", "connection ids are Int16"),
  /** a connection may hold written and not yet acknowledged */
  tcpSndBufBytes: int(32 * 1024, 1, WINDOW_MAX, "bytes", "at most the largest window a peer can open (RFC 7323 2.3)"),
  /** a connection may hold received and not yet read (its window) */
  tcpRcvBufBytes: int(32 * 1024, 1, WINDOW_MAX, "bytes", "a window scale of at most 14 (RFC 7323 2.3)"),
  /** out-of-order segments held per connection */
  tcpOooMax: int(32, 1, 0x7fff, "segments"),
  /** retransmission timeout before the first RTT sample (RFC 6298 2.1) */
  tcpRtoInitialMs: int(1000, 1, MS_MAX, "ms"),
  /** least retransmission timeout (RFC 6298 2.4 says 1 s; Linux 200 ms) */
  tcpRtoMinMs: int(200, 1, MS_MAX, "ms"),
  /** largest retransmission timeout, backoff included (RFC 6298 2.5) */
  tcpRtoMaxMs: int(60_000, 1, MS_MAX, "ms"),
  /** SYN (or SYN-ACK) retransmissions before the attempt fails */
  tcpSynRetries: int(6, 1, 255, "resends", "the backoff is counted in a byte"),
  /** retransmissions of data before the connection is given up */
  tcpRetries: int(12, 1, 255, "resends", "the backoff is counted in a byte"),
  /** delayed ACK timeout */
  tcpDelackMs: int(40, 1, 499, "ms", "RFC 1122 4.2.3.2: less than 0.5 s"),
  /** TIME_WAIT: 2 x MSL (RFC 9293 3.6.1) */
  tcpTimeWaitMs: int(60_000, 1, MS_MAX, "ms"),
  /** RFC 5961 challenge ACKs a second, all connections together (Linux tcp_challenge_ack_limit) */
  tcpChallengeAcksPerSec: int(1000, 1, 1_000_000, "per s"),
  /** keepalive (RFC 1122 4.2.3.6, off unless a socket asks): idle time before the first probe */
  tcpKeepaliveIdleMs: int(7_200_000, 1, MS_MAX, "ms"),
  /** keepalive: between probes */
  tcpKeepaliveIntervalMs: int(75_000, 1, MS_MAX, "ms"),
  /** keepalive: probes unanswered before the connection is dropped */
  tcpKeepaliveProbes: int(9, 1, 255, "probes", "counted in a byte"),
  /** answer SYNs with cookies when a listener's SYN queue is full (RFC 4987) */
  tcpSynCookies: flag(true),
  /** offer and use selective acknowledgments (RFC 2018, 6675) */
  tcpSack: flag(true),
  /** offer and use timestamps (RFC 7323: RTT measurement, PAWS) */
  tcpTimestamps: flag(true),

  // --- UDP (src/udp) ---
  /** UDP sockets */
  udpSocketsMax: int(8, 1, 4096, "sockets", "searched linearly"),
  /** a UDP socket holds for its reader before it drops (counted RcvbufErrors) */
  udpRxQueueMax: int(8, 1, 0x7fff, "datagrams"),
});

type ConfigTable = typeof CONFIG_TABLE;

/** The configuration of one stack, derived from CONFIG_TABLE: a number per integer key, a boolean per switch. */
export type NetConfig = { -readonly [K in keyof ConfigTable]: ConfigTable[K] extends FlagKey ? boolean : number };

export type NetConfigKey = keyof NetConfig;

/** Every key, in table order. */
export const CONFIG_KEYS: readonly NetConfigKey[] = Object.freeze(Object.keys(CONFIG_TABLE) as NetConfigKey[]);

function defaults(): NetConfig {
  const out: Record<string, number | boolean> = {};
  for (const key of CONFIG_KEYS) out[key] = CONFIG_TABLE[key].default;
  return out as NetConfig;
}

export const DEFAULT_CONFIG: Readonly<NetConfig> = Object.freeze(defaults());

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

/**
 * Defaults (or `base`) with overrides, checked before anything is allocated: an unknown key
 * or a value of the wrong type is a TypeError, a value out of its bounds or one that fails a
 * cross-check a RangeError; each message names the key.
 */
export function makeConfig(overrides: Partial<NetConfig> = {}, base: Readonly<NetConfig> = DEFAULT_CONFIG): NetConfig {
  if (typeof overrides !== "object" || overrides === null) throw new TypeError("config: overrides must be an object");
  if (typeof base !== "object" || base === null) throw new TypeError("config: base must be an object");
  checkKeys(overrides);
  if (base !== DEFAULT_CONFIG) checkKeys(base);
  const out: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const value = Object.prototype.hasOwnProperty.call(overrides, key) ? overrides[key] : base[key];
    checkValue(key, value);
    out[key] = value;
  }
  const config = out as NetConfig;
  crossCheck(config);
  return config;
}

function checkKeys(given: object): void {
  for (const key of Object.keys(given)) {
    if (!Object.prototype.hasOwnProperty.call(CONFIG_TABLE, key)) {
      const near = nearestKey(key);
      throw new TypeError(`config.${key} is not a configuration key${near === null ? "" : ` (did you mean config.${near}?)`}`);
    }
  }
}

function checkValue(key: NetConfigKey, value: unknown): void {
  const spec: ConfigKey = CONFIG_TABLE[key];
  if (spec.type === "boolean") {
    if (typeof value !== "boolean") throw new TypeError(`config.${key} must be true or false, got ${describe(value)}`);
    return;
  }
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`config.${key} must be an integer (${spec.unit}), got ${describe(value)}`);
  }
  if (value < spec.min || value > spec.max) {
    throw new RangeError(`config.${key} must be in ${spec.min}..${spec.max} ${spec.unit}, got ${value}${spec.why === "" ? "" : ` (${spec.why})`}`);
  }
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** The key nearest to a misspelt one (case-blind edit distance at most 3), or null. */
function nearestKey(key: string): string | null {
  const wanted = key.toLowerCase();
  let best: string | null = null;
  let bestDistance = 4;
  for (const candidate of CONFIG_KEYS) {
    const d = editDistance(wanted, candidate.toLowerCase(), bestDistance);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance, or `cap` once it is known to reach it (an error path only). */
function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let prev: number[] = [];
  for (let j = 0; j <= b.length; j++) prev.push(j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      row.push(d);
      if (d < rowMin) rowMin = d;
    }
    if (rowMin >= cap) return cap;
    prev = row;
  }
  return prev[b.length] < cap ? prev[b.length] : cap;
}

/** Timers each TCP connection takes from the wheel: retransmission, delayed ACK, TIME_WAIT, keepalive (src/tcp/tcb.ts). */
export const TCP_TIMERS_PER_CONNECTION = 4;

/**
 * Timers init makes: one per neighbour entry (src/neigh/neigh.ts), reassembly slot
 * (src/ipv4/reassembly.ts) and device (IGMP, src/ipv4/igmp.ts), and the TCP ones.
 */
function initTimers(c: Readonly<NetConfig>): number {
  return c.neighEntriesMax + c.reasmSlots + c.devicesMax + TCP_TIMERS_PER_CONNECTION * c.tcpSocketsMax;
}

/** Free skbs the writers, neighbour queues and reassembly leave for the receive rings (src/tcp/tcp.ts writable, neigh.ts, reassembly.ts). */
function poolReserve(c: Readonly<NetConfig>): number {
  return Math.max(2, c.skbSlots >> 4);
}

/**
 * The sanity checks lwIP's init.c makes at build time, made before init allocates. What
 * the stack bounds at run time against the pool is left to it: a window, a send buffer or
 * a queue limit larger than the pool is allowed (writable() keeps the reserve, queues give
 * way below it, a receive ring that cannot refill drops and counts), so the checks here
 * ask only for what a configuration cannot work without.
 */
function crossCheck(c: NetConfig): void {
  if (c.skbRecords < c.skbSlots) {
    throw new RangeError(`config.skbRecords must be >= config.skbSlots (${c.skbRecords} < ${c.skbSlots}): a slot in use has a record`);
  }
  if (c.reasmSkbsMax >= c.skbSlots) {
    throw new RangeError(`config.reasmSkbsMax must be below config.skbSlots (receive rings need buffers too), got ${c.reasmSkbsMax} of ${c.skbSlots}`);
  }
  if ((c.timerWheelSlots & (c.timerWheelSlots - 1)) !== 0) {
    throw new RangeError(`config.timerWheelSlots must be a power of two, got ${c.timerWheelSlots}`);
  }
  const timers = initTimers(c);
  if (c.timersMax < timers) {
    throw new RangeError(
      `config.timersMax is ${c.timersMax}, init makes ${timers} timers: config.neighEntriesMax ${c.neighEntriesMax} + config.reasmSlots ${c.reasmSlots} ` +
        `+ config.devicesMax ${c.devicesMax} (IGMP) ` +
        `+ ${TCP_TIMERS_PER_CONNECTION} per connection of config.tcpSocketsMax ${c.tcpSocketsMax} (and a tbf qdisc, a LAN service or an SPI Ethernet driver takes one more)`,
    );
  }
  // RFC 6298 2.4, 2.5: the RTO is kept within [min, max], the first one too.
  if (c.tcpRtoMinMs >= c.tcpRtoMaxMs) {
    throw new RangeError(`config.tcpRtoMinMs (${c.tcpRtoMinMs}) must be below config.tcpRtoMaxMs (${c.tcpRtoMaxMs})`);
  }
  if (c.tcpRtoInitialMs < c.tcpRtoMinMs || c.tcpRtoInitialMs > c.tcpRtoMaxMs) {
    throw new RangeError(`config.tcpRtoInitialMs (${c.tcpRtoInitialMs}) must be within config.tcpRtoMinMs..config.tcpRtoMaxMs (${c.tcpRtoMinMs}..${c.tcpRtoMaxMs})`);
  }
  // A data segment pushes its TCP header, timestamps included, then IPv4 and Ethernet in front of its payload.
  const headroom = TCP_DATA_HEADROOM + (c.tcpTimestamps ? TCP_TIMESTAMP_OPTION : 0);
  if (c.skbHeadroomBytes < headroom) {
    throw new RangeError(
      `config.skbHeadroomBytes must be >= ${headroom} with config.tcpTimestamps (Ethernet + IPv4 + TCP headers and the timestamps option), got ${c.skbHeadroomBytes}`,
    );
  }
  // lwIP: TCP_WND >= TCP_MSS and TCP_SND_BUF >= 2 * TCP_MSS, in full-size segments of the largest MTU.
  const mss = c.mtuMaxBytes - TCP_IP_HEADERS;
  if (c.tcpRcvBufBytes < mss) {
    throw new RangeError(`config.tcpRcvBufBytes (${c.tcpRcvBufBytes}) must hold a full-size segment (${mss} bytes with config.mtuMaxBytes ${c.mtuMaxBytes})`);
  }
  if (c.tcpSndBufBytes < 2 * mss) {
    throw new RangeError(`config.tcpSndBufBytes (${c.tcpSndBufBytes}) must hold two full-size segments (2 x ${mss} bytes with config.mtuMaxBytes ${c.mtuMaxBytes})`);
  }
  // ... and the pool, beside the reserve kept for the receive rings, must hold that much: one
  // full-size segment of a window and two of a send buffer.
  const reserve = poolReserve(c);
  if (c.skbSlots - reserve < 3) {
    throw new RangeError(
      `config.skbSlots (${c.skbSlots}) keeps ${reserve} for the receive rings and leaves ${c.skbSlots - reserve}: ` +
        `TCP needs 3 beside them (a full-size segment of config.tcpRcvBufBytes, two of config.tcpSndBufBytes)`,
    );
  }
}

// ------------------------------------------------------------ RAM budget

/** One fixed table of the stack and its bytes. */
export interface RamRow {
  readonly name: string;
  readonly bytes: number;
  readonly note: string;
}

export interface RamBudget {
  readonly rows: readonly RamRow[];
  /** sum of the rows' bytes */
  readonly total: number;
  /** the exact part: typed arrays and the packet pool (what init allocates as buffers) */
  readonly typedArrayBytes: number;
  /** the estimated part, in XS heap slots (objects, typed-array and array headers) */
  readonly xsSlots: number;
}

// XS on a 32-bit MCU: a slot is 16 bytes. Measured in xsnap (slot counts do not depend on the
// word size): an object takes one slot plus one per field (and one more when its class has
// #private fields); a typed array 7 slots plus its bytes; an array 2 slots plus 16 bytes per
// item. Field counts below are those of the classes named (test/config.test.ts checks them).
export const XS_SLOT_BYTES = 16;
export const XS_TYPED_ARRAY_SLOTS = 7;
const XS_ARRAY_SLOTS = 2;
const XS_ARRAY_ITEM_BYTES = 16;
/** SkBuff (src/core/skb.ts): 18 fields, and its cb typed array */
export const SKB_FIELDS = 18;
/** Timer (src/core/timer.ts) */
export const TIMER_FIELDS = 8;
/** SkbQueue (src/core/skb.ts) */
export const SKB_QUEUE_FIELDS = 4;
/** Tcb (src/tcp/tcb.ts): typed arrays with one element per connection, and their bytes per connection */
export const TCB_ARRAYS = 40;
export const TCB_BYTES_PER_CONNECTION = 119;
/**
 * Per stack beside the connections (src/tcp): the SACK blocks being sent (8 words), the
 * SipHash state (4 words), and TcpOptions (8 fields) with its SACK blocks (8 words).
 */
const TCP_SCRATCH_BYTES = 32 + 16 + 32;
const TCP_OPTIONS_SLOTS = 9;
// Typed-array bytes per entry, and typed arrays per table, as the constructors make them.
/** key, state, MAC, probes, four times (src/neigh/neigh.ts); with the all-zero MAC, 9 arrays */
const NEIGH_ENTRY_BYTES = 4 + 1 + 6 + 1 + 4 * 8;
const NEIGH_TYPED_ARRAYS = 9;
/** destination, mask, prefix length, gateway, metric, connected (src/ipv4/route.ts) */
const ROUTE_ENTRY_BYTES = 4 + 4 + 1 + 4 + 4 + 1;
const ROUTE_TYPED_ARRAYS = 6;
/** in use, addresses, id, protocol, bytes, total, created, count (src/ipv4/reassembly.ts) */
const REASM_SLOT_BYTES = 1 + 4 + 4 + 2 + 1 + 4 + 4 + 8 + 2;
const REASM_TYPED_ARRAYS = 9;
/** protocol, IP_RECVERR, the last ICMP error (src/ipv4/raw.ts) */
const RAW_ENTRY_BYTES = 2 + 1 + 1 + 1 + 1 + 4 + 4 + 3; // the last: its wake list (2 + 1)
const RAW_TYPED_ARRAYS = 9;
/** in use, address, port, broadcast, IP_RECVERR, the last ICMP error (src/udp/udp.ts) */
const UDP_ENTRY_BYTES = 1 + 4 + 2 + 1 + 1 + 1 + 1 + 1 + 4 + 2 + 4 + 3; // the last: its wake list (2 + 1)
const UDP_TYPED_ARRAYS = 13;
/** DROP_REASON_NAMES (src/core/drop.ts): one 32-bit counter each */
export const DROP_REASONS = 53;
/** Netfilter hook points (src/ipv4/netfilter.ts NF_INET_NUMHOOKS) */
const NF_HOOK_POINTS = 5;
/** IGMP (src/ipv4/igmp.ts): a group slot's address, state, flags, reports left, due time; per device three times and the robustness */
const IGMP_SLOT_BYTES = 4 + 1 + 1 + 1 + 8;
const IGMP_DEVICE_BYTES = 3 * 8 + 1;
const IGMP_TYPED_ARRAYS = 9;
/**
 * The Igmp object (13 fields), IgmpStats (16 counters), the timers' closure, the handlers:
 * what init adds with IGMP in xsnap (bench/ram.ts), less its typed arrays and timers.
 */
const IGMP_OBJECT_SLOTS = 48;
/** groups per device (NETDEV_MC_MAX in src/core/netdevice.ts) */
const IGMP_GROUPS_PER_DEVICE = 8;
/** IP protocol numbers: Ipv4's handler and error handler tables (src/ipv4/ipv4.ts) */
const IP_PROTOCOLS = 256;
/**
 * A NetDevice (src/core/netdevice.ts: 21 fields) with its Napi (6), DeviceStats (15) and
 * InDevice (7), and its three typed arrays (MAC, broadcast MAC, multicast list: 44 bytes).
 */
const DEVICE_SLOTS = 22 + 7 + 16 + 8 + 3 * XS_TYPED_ARRAY_SLOTS;
const DEVICE_TYPED_BYTES = 6 + 6 + 8 * 4;
/** pfifo_fast (src/core/pfifo-fast.ts: 7 fields, private) with its QdiscStats (5), bands array and three queues */
const PFIFO_BANDS = 3;
const PFIFO_SLOTS = 9 + 6 + XS_ARRAY_SLOTS + PFIFO_BANDS * (1 + SKB_QUEUE_FIELDS);
/** LoopbackOps (src/core/loopback.ts: 3 private fields) and its backlog queue */
const LOOPBACK_OPS_SLOTS = 5 + 1 + SKB_QUEUE_FIELDS;
/**
 * The objects every stack has whatever its configuration: Net and its copy of the
 * configuration, the table objects, their counters (TcpStats alone has 41), the handlers
 * and their closures. Measured in xsnap (bench/ram.ts: the heap slots init adds, less the
 * other rows); with it the estimate meets the measurement for the default, the minimal and
 * the device configuration alike.
 */
const STACK_OBJECT_SLOTS = 605;

/** Bytes of one packet-pool slot: headroom, the largest frame, tailroom, rounded to 8 (src/core/skb.ts). */
export function slotBytes(c: Readonly<NetConfig>): number {
  return (c.skbHeadroomBytes + c.mtuMaxBytes + 14 + c.skbTailroomBytes + 7) & ~7;
}

/**
 * Every fixed table init(config) allocates, and its bytes on a 32-bit XS device: typed
 * arrays exactly, JS objects at the per-object sizes above (an estimate; the note says
 * which). Devices other than loopback are registered after init; their row counts
 * config.devicesMax - 1 of them. Driver rings are the driver's and not counted.
 */
export function ramBudget(config: Partial<NetConfig> | Readonly<NetConfig>): RamBudget {
  const c = makeConfig(config);
  const rows: RamRow[] = [];
  let typedTotal = 0;
  let slotTotal = 0;
  /** typed: exact bytes; slots: XS heap slots; items: array items (16 bytes each) */
  const row = (name: string, typed: number, slots: number, items: number, note: string): void => {
    const objects = slots * XS_SLOT_BYTES + items * XS_ARRAY_ITEM_BYTES;
    typedTotal += typed;
    slotTotal += slots;
    rows.push(Object.freeze({ name, bytes: typed + objects, note: objects === 0 ? note : `${note}; objects ~${objects} B (estimate)` }));
  };
  const queueSlots = 1 + SKB_QUEUE_FIELDS;
  const arrays = (count: number, itemsEach: number): [number, number] => [count * XS_ARRAY_SLOTS, count * itemsEach];
  const t = XS_TYPED_ARRAY_SLOTS;

  const pool = slotBytes(c) * c.skbSlots;
  row("packet pool", pool, 0, 0,
    `${c.skbSlots} slots x ${slotBytes(c)} B (headroom ${c.skbHeadroomBytes} + MTU ${c.mtuMaxBytes} + 14 + tailroom ${c.skbTailroomBytes}, to 8); init's memory option may place it`);

  const cb = c.skbRecords * c.skbCbWords * 4;
  const lists = c.skbSlots * 3 + c.skbRecords * 2;
  // The pool's views (a byte view and a DataView) and its three free lists count here.
  row("skb records", cb + lists, c.skbRecords * (1 + SKB_FIELDS + t) + 5 * t + XS_ARRAY_SLOTS, c.skbRecords,
    `${c.skbRecords} records, control blocks ${cb} B (${c.skbCbWords} words each), free lists ${lists} B`);

  const timers = initTimers(c);
  row("timer wheel and timers", 0, timers * (1 + TIMER_FIELDS) + XS_ARRAY_SLOTS, c.timerWheelSlots,
    `${c.timerWheelSlots} wheel slots; ${timers} of config.timersMax ${c.timersMax} timers made at init (neighbour ${c.neighEntriesMax}, reassembly ${c.reasmSlots}, IGMP ${c.devicesMax}, TCP ${TCP_TIMERS_PER_CONNECTION} x ${c.tcpSocketsMax})`);

  const n = c.neighEntriesMax;
  let [aSlots, aItems] = arrays(3, n);
  row("neighbour table", NEIGH_ENTRY_BYTES * n + 6, n * queueSlots + NEIGH_TYPED_ARRAYS * t + aSlots, aItems,
    `${n} entries x ${NEIGH_ENTRY_BYTES} B (address, state, MAC, probes, four timestamps), each with a queue and a timer`);

  [aSlots, aItems] = arrays(1, c.routesMax);
  row("routing table", ROUTE_ENTRY_BYTES * c.routesMax, ROUTE_TYPED_ARRAYS * t + aSlots, aItems, `${c.routesMax} routes x ${ROUTE_ENTRY_BYTES} B`);

  [aSlots, aItems] = arrays(2, c.reasmSlots);
  row("IP reassembly", REASM_SLOT_BYTES * c.reasmSlots, REASM_TYPED_ARRAYS * t + aSlots, aItems,
    `${c.reasmSlots} slots x ${REASM_SLOT_BYTES} B; holds at most config.reasmSkbsMax ${c.reasmSkbsMax} skbs of the pool`);

  [aSlots, aItems] = arrays(1, NF_HOOK_POINTS * c.nfHooksPerPoint);
  const [pSlots, pItems] = arrays(2, IP_PROTOCOLS);
  // netfilter's hook counts (a byte each) and verdict counters (3 words each), Ipv4's fragment header (60)
  row("IP protocols and netfilter hooks", NF_HOOK_POINTS + NF_HOOK_POINTS * 3 * 4 + 60, 3 * t + aSlots + pSlots, aItems + pItems,
    `handlers for ${IP_PROTOCOLS} protocols, ${NF_HOOK_POINTS} hook points x ${c.nfHooksPerPoint} hooks, verdict counters, a fragment header`);

  const g = c.devicesMax * IGMP_GROUPS_PER_DEVICE;
  [aSlots, aItems] = arrays(1, c.devicesMax);
  row("IGMP groups", IGMP_SLOT_BYTES * g + IGMP_DEVICE_BYTES * c.devicesMax, IGMP_TYPED_ARRAYS * t + IGMP_OBJECT_SLOTS + aSlots, aItems,
    `${IGMP_GROUPS_PER_DEVICE} groups x ${IGMP_SLOT_BYTES} B for each of config.devicesMax ${c.devicesMax} devices, ${IGMP_DEVICE_BYTES} B per device (its timer counts with the timers)`);

  const r = c.rawHandlersMax;
  [aSlots, aItems] = arrays(3, r);
  row("raw sockets", RAW_ENTRY_BYTES * r, r * queueSlots + RAW_TYPED_ARRAYS * t + aSlots, aItems, `${r} handlers x ${RAW_ENTRY_BYTES} B, each with a queue`);

  const u = c.udpSocketsMax;
  [aSlots, aItems] = arrays(3, u);
  row("UDP sockets", UDP_ENTRY_BYTES * u, u * queueSlots + UDP_TYPED_ARRAYS * t + aSlots, aItems, `${u} sockets x ${UDP_ENTRY_BYTES} B, each with a queue and a bound device`);

  const k = c.tcpSocketsMax;
  [aSlots, aItems] = arrays(10, k);
  row("TCP connections", (TCB_BYTES_PER_CONNECTION + 8) * k + TCP_SCRATCH_BYTES, 3 * k * queueSlots + (TCB_ARRAYS + 6) * t + TCP_OPTIONS_SLOTS + aSlots, aItems,
    `${k} x ${TCB_BYTES_PER_CONNECTION + 8} B of state (${TCB_ARRAYS} typed arrays; the lists of the tasklet and of the ACKs a received skb calls for), three queues each (their ${TCP_TIMERS_PER_CONNECTION} timers each count with the timers)`);

  row("loopback device", DEVICE_TYPED_BYTES, DEVICE_SLOTS + LOOPBACK_OPS_SLOTS, 0, `its backlog holds at most config.loopbackBacklog ${c.loopbackBacklog} skbs of the pool`);

  const devices = c.devicesMax - 1;
  row("other devices and their qdiscs", devices * DEVICE_TYPED_BYTES, devices * (DEVICE_SLOTS + PFIFO_SLOTS), devices * PFIFO_BANDS,
    `${devices} (config.devicesMax less loopback), registered after init, each with a pfifo_fast of 3 bands; qdiscs hold at most config.txQueueLen ${c.txQueueLen} skbs of the pool each`);

  row("stack objects and counters", DROP_REASONS * 4, t + STACK_OBJECT_SLOTS, 0,
    `${DROP_REASONS} drop-reason counters; Net, the table objects, their counters and handlers (${STACK_OBJECT_SLOTS} slots, measured on XS)`);

  let total = 0;
  for (const each of rows) total += each.bytes;
  return Object.freeze({ rows: Object.freeze(rows), total, typedArrayBytes: typedTotal, xsSlots: slotTotal });
}
