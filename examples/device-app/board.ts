// The sizes the app runs with on a board (main.ts), apart so the tests can run them too.

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
