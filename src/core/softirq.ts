// The cooperative loop (do_softirq). An interrupt or a layer raises a pending bit; run()
// serves TIMER, NET_RX and NET_TX in that order, a bounded number of rounds, then yields
// to the host and asks to be run again if work remains, so neither the host's event loop
// nor an ESP32 watchdog starves.

export const TIMER_SOFTIRQ = 1 << 0;
export const NET_RX_SOFTIRQ = 1 << 1;
export const NET_TX_SOFTIRQ = 1 << 2;

export class SoftirqStats {
  runs = 0;
  rounds = 0;
  /** turns that ended with work left (the loop yielded and rescheduled itself) */
  yields = 0;
  /** NET_RX runs that used their whole budget (Linux time_squeeze) */
  timeSqueeze = 0;
}
