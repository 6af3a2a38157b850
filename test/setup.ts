// The shared hook: every stack a test made is shut down after the test, and its skb pool
// must then be full again (every slot and every record back on the free lists).
import { afterEach, expect } from "vitest";
import { takeTrackedNets } from "./helpers";

afterEach(() => {
  for (const { net, label } of takeTrackedNets()) {
    net.shutdown();
    const stats = net.pool.stats();
    expect(stats.inUse, `${label}: skb slots still in use after shutdown`).toBe(0);
    expect(stats.recordsInUse, `${label}: skb records still in use after shutdown`).toBe(0);
  }
});
