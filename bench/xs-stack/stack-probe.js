// XS stack use, read in the Moddable runtime (bench/xs-stack). Needs an instrumented build
// (mcconfig -i or -d: mxInstrument keeps the machine's stack peak).
export function reset() @ "xs_stack_probe_reset";
export function peak() @ "xs_stack_probe_peak";
export function depth() @ "xs_stack_probe_depth";
export function size() @ "xs_stack_probe_size";
export function frames() @ "xs_stack_probe_frames";
export function restore(slots) @ "xs_stack_probe_restore";
