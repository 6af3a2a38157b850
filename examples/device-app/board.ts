// The sizes the app runs with on a board (main.ts), apart so the tests can run them too, and
// the Node device mode's (host-sim/device.ts), which the app in Moddable's simulator runs
// with sizes=device to stand beside it and lwIP on the same TAP link.

import { MINIMAL_CONFIG, type NetConfig } from "../../src/index";
import type { DeviceAppOptions } from "./app";

/** 64 packet buffers (about 100 KB of pool), TCP buffers of 8 KB each way, room for the five listeners and a few connections. */
export const BOARD_STACK_CONFIG: Partial<NetConfig> = Object.freeze({
  ...MINIMAL_CONFIG,
  skbSlots: 64,
  skbRecords: 80,
  neighQueueMax: 8,
  tcpSocketsMax: 12,
  tcpSndBufBytes: 8 * 1024,
  tcpRcvBufBytes: 8 * 1024,
  tcpOooMax: 4,
  udpSocketsMax: 2,
  timersMax: 96,
});

/** 4 KB reads and writes, two HTTP connections with 1 KB request buffers: about 22 KB of app buffers. */
export const BOARD_APP_SIZES: Pick<DeviceAppOptions, "chunkBytes" | "httpConnsMax" | "httpRequestMax"> = Object.freeze({
  chunkBytes: 4096,
  httpConnsMax: 2,
  httpRequestMax: 1024,
});

// A 65,000-byte ping is 45 fragments: they are reassembled into a chain of 45 skbs that
// the reply reuses in place, and fragmented again on the way out; the first reply waits
// in the neighbour queue (as ~45 fragments) while ARP resolves the sender. TCP as lwIP's
// anchor has it (TCP_WND 0xFFFF, TCP_SND_BUF 64 KB): a connection may hold 45 segments
// received and 45 sent, each a slot (and a clone record while in flight); 512 slots leave
// room for a driver's RX descriptors, several busy connections and a ping being reassembled
// (writable() also keeps a sixteenth of the pool for receiving).
/** The Node device mode's stack (host-sim/device.ts DEVICE_CONFIG): about 1.2 MB of RAM. */
export const DEVICE_MODE_STACK_CONFIG: Partial<NetConfig> = Object.freeze({
  skbSlots: 512,
  skbRecords: 640,
  reasmSkbsMax: 120,
  neighQueueMax: 64,
  tcpSocketsMax: 32,
  tcpSndBufBytes: 64 * 1024,
  tcpRcvBufBytes: 0xffff,
  // a whole window of full-sized segments may arrive behind one lost segment
  tcpOooMax: 48,
  timersMax: 256,
});
