// Layer rules of xsnet, checked in `npm test` (test/layers.test.ts runs depcruise).
// Type-only imports count for the layer rules: a lower layer does not even name an upper
// one's types. Cycles are forbidden between modules as they load (value imports); a
// type-only import is erased by tsc and cannot form a load cycle.
//
//   wire, config        byte views and the options table: import nothing else of the stack
//   core                skb pool, loop, devices, qdisc, timers: wire and config only
//   drivers, sched      over the core
//   neigh, ipv4         ARP, IPv4, ICMP: over the core (and each other)
//   udp, tcp            over IPv4; neither knows the other
//   socket              the ECMA-419 classes over udp/tcp/ipv4
//   lan                 LAN services (DHCP, DNS, mDNS, SNTP) over udp, ipv4, neigh and the sockets
//   apps                over the sockets
//   stack.ts, index.ts  the composition root and the public surface: may import anything
const layer = (name, allowed) => ({
  name: `layer-${name}`,
  comment: `src/${name} may import only ${allowed.join(", ")}`,
  severity: "error",
  from: { path: `^src/${name}/` },
  to: { path: "^(src|drivers)/", pathNot: allowed.map((a) => `^${a}`) },
});

module.exports = {
  forbidden: [
    layer("wire", ["src/wire/"]),
    layer("core", ["src/core/", "src/wire/", "src/config\\.ts$"]),
    layer("sched", ["src/sched/", "src/core/", "src/wire/", "src/config\\.ts$"]),
    layer("neigh", ["src/neigh/", "src/ipv4/", "src/core/", "src/wire/", "src/config\\.ts$"]),
    layer("ipv4", ["src/ipv4/", "src/neigh/", "src/core/", "src/wire/", "src/config\\.ts$"]),
    layer("udp", ["src/udp/", "src/ipv4/", "src/core/", "src/wire/", "src/config\\.ts$"]),
    layer("tcp", ["src/tcp/", "src/ipv4/", "src/core/", "src/wire/", "src/config\\.ts$"]),
    layer("socket", ["src/socket/", "src/udp/", "src/tcp/", "src/ipv4/", "src/core/", "src/wire/", "src/config\\.ts$"]),
    layer("lan", ["src/lan/", "src/socket/", "src/udp/", "src/ipv4/", "src/neigh/", "src/core/", "src/wire/", "src/config\\.ts$"]),
    layer("apps", ["src/apps/", "src/socket/", "src/udp/", "src/tcp/", "src/ipv4/", "src/core/", "src/wire/", "src/config\\.ts$"]),
    {
      name: "config-is-a-leaf",
      severity: "error",
      from: { path: "^src/config\\.ts$" },
      to: { path: "^(src|drivers)/" },
    },
    {
      name: "drivers-over-the-core",
      comment: "a driver sees the core (and wire views), never a protocol",
      severity: "error",
      from: { path: "^drivers/" },
      to: { path: "^src/", pathNot: ["^src/core/", "^src/wire/", "^src/config\\.ts$"] },
    },
    {
      name: "device-code-stays-device-code",
      comment: "src/ and drivers/ run on XS: nothing from host-sim, test, bench or examples",
      severity: "error",
      from: { path: "^(src|drivers)/" },
      to: { path: "^(host-sim|test|bench|examples|moddable)/" },
    },
    {
      name: "no-node-on-the-device",
      comment: "src/ and drivers/ import no Node module",
      severity: "error",
      from: { path: "^(src|drivers)/" },
      to: { dependencyTypes: ["core", "npm", "npm-dev", "npm-no-pkg", "npm-unknown"] },
    },
    {
      name: "no-load-cycles",
      comment: "no cycle of value imports anywhere in src/ or drivers/",
      severity: "error",
      from: { path: "^(src|drivers)/" },
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      from: { path: "^(src|drivers)/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
    exclude: { path: "\\.d\\.ts$" },
  },
};
