// The scenarios (host-sim/sim/scenarios/, one file a theme), under the path their users know.

export * from "./scenarios/index";
