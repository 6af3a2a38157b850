// The deepest XS stack use of each path of the stack, measured in Moddable's runtime (issue
// 13): bench/xs-stack built instrumented for lin (mcconfig -i) and run in mcsim, each path of
// host-sim/sim/stack-paths.ts on a simulated LAN, each loop event measured alone as a board
// would enter it (bench/xs-stack/main.ts says how). Printed against the default creation.stack
// of 384 slots and the bound of 75 % (288 slots) that test/moddable-stack.test.ts holds.
//
//   npx tsx bench/xs-stack.ts [--paths a,b] [--frames] [--where] [--docs]
//
// --frames prints the frames at each path's deepest hand-over to the driver; --where builds a
// scratch copy of the repository whose src/ and drivers/ functions each begin with a probe call, and prints
// the frames at each path's deepest probe: where the slots go (the probes' own calls make those
// peaks read high, so the table to trust is the one without --where). --docs writes the table
// into docs/BENCHMARKS.md (section xs-stack). Needs Linux and the Moddable SDK
// (../shared/moddable-sdk/setup.sh); says why and stops otherwise.

import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { buildComplaints, mcconfigLin, moddableDir, moddableEnv, moddableSkipReason, REPO, runInMcsim } from "../host-sim/moddable-sdk";
import { pathToFileURL } from "node:url";
import { Printed, commandLine, printedSection, runNote, writeDocsSection } from "./docs";

export const STACK_SLOTS_DEFAULT = 384;
export const STACK_SLOTS_BOUND = 288;

export interface StackFigure {
  path: string;
  slots: number;
  done: boolean;
  counts: string;
  frames: string;
}

/** The probe bench/xs-stack/main.ts defines, called first thing in every function of a --where copy. */
const PROBE = "(globalThis as any).xsnetStackMark?.();";
/** A line that opens a function or method body (declarations one to a line, as the sources are written). */
const FUNCTION_OPENING = /^(\s*)(?:export\s+)?(?:function\s+\w+|(?:static\s+)?#?\w+)\s*(?:<[^>]*>)?\(.*\)\s*(?::\s*[^={]+)?\{\s*$/;
const NOT_A_FUNCTION = /^\s*(?:if|for|while|switch|catch|else|return|constructor)\b/;

/** A copy of what bench/xs-stack builds from, at `to`, with a probe at the start of every function of src/ and drivers/. */
function probedCopy(to: string): void {
  for (const part of ["src", "drivers", "moddable", "host-sim", "examples", "bench/xs-stack"]) cpSync(join(REPO, part), join(to, part), { recursive: true });
  for (const name of readdirSync(REPO)) if (/^manifest.*\.json$/.test(name)) cpSync(join(REPO, name), join(to, name));
  symlinkSync(join(REPO, "node_modules"), join(to, "node_modules"));
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) {
        const out: string[] = [];
        for (const line of readFileSync(path, "utf8").split("\n")) {
          out.push(line);
          const m = FUNCTION_OPENING.exec(line);
          if (m !== null && !NOT_A_FUNCTION.test(line)) out.push(`${m[1]}  ${PROBE}`);
        }
        writeFileSync(path, out.join("\n"));
      }
    }
  };
  walk(join(to, "src"));
  walk(join(to, "drivers"));
}

/** Builds bench/xs-stack and runs it in mcsim; the figures of the paths measured. `where`: from a probed copy (see probedCopy). */
export async function measureStack(paths: string[] = [], where = false): Promise<{ figures: StackFigure[]; entry: number; trace: string }> {
  const moddable = moddableDir();
  const scratch = mkdtempSync(join(tmpdir(), "xsnet-xs-stack-"));
  try {
    const env = moddableEnv(moddable, scratch);
    let root = REPO;
    if (where) {
      root = join(scratch, "repo");
      probedCopy(root);
    }
    const build = mcconfigLin(join(root, "bench/xs-stack"), join(scratch, "out"), env, ["-i"], paths.length > 0 ? [`paths=${paths.join(",")}`] : []);
    const complaints = buildComplaints(build.output);
    if (build.status !== 0 || complaints.length > 0) throw new Error(`bench/xs-stack did not build:\n${complaints.join("\n")}\n${build.output.slice(-3000)}`);
    const run = await runInMcsim(moddable, build.app, env, /^stack done \d+$/m, 900_000);
    if (!run.finished) throw new Error(`bench/xs-stack did not finish in mcsim:\n${run.trace.slice(-3000)}\n${run.stderr.slice(-2000)}`);
    const figures: StackFigure[] = [];
    const frames = new Map<string, string>();
    for (const m of run.trace.matchAll(/^frames (\S+) \d+ (.*)$/gm)) frames.set(m[1], m[2]);
    for (const m of run.trace.matchAll(/^stack (\S+) (\d+) (true|false) (.*)$/gm)) {
      figures.push({ path: m[1], slots: Number(m[2]), done: m[3] === "true", counts: m[4], frames: frames.get(m[1]) ?? "" });
    }
    const entry = Number(/^stack entry (\d+)$/m.exec(run.trace)?.[1] ?? NaN);
    return { figures, entry, trace: run.trace };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The frames above the measured entry, as slots a board would use (the entry's Timer callback
 *  holds `entry`): main.ts traces `base=B;name@N;...` with N counted from the stack's top. */
function entryFrames(traced: string, entry: number): string[] {
  const parts = traced.split(";").filter((s) => s !== "");
  const base = Number(/^base=(-?\d+)$/.exec(parts[0] ?? "")?.[1] ?? NaN);
  if (!Number.isFinite(base)) return parts;
  const frames: string[] = [];
  for (const part of parts.slice(1)) {
    const at = part.lastIndexOf("@");
    const slots = Number(part.slice(at + 1));
    if (slots > base) frames.push(`${part.slice(0, at)}@${slots - base + entry}`);
  }
  return frames;
}

async function main(): Promise<void> {
  const opts = new Command()
    .name("bench/xs-stack.ts")
    .option("--paths <list>", "only these paths (comma-separated)", "")
    .option("--frames", "print the frames at each path's deepest hand-over to the driver")
    .option("--where", "build a copy with a probe in every function of src/, and print the frames at each path's deepest probe")
    .option("--docs", "write the table into docs/BENCHMARKS.md")
    .parse()
    .opts<{ paths: string; frames?: boolean; where?: boolean; docs?: boolean }>();
  const skip = moddableSkipReason(true);
  if (skip !== null) {
    console.log(`bench/xs-stack.ts: ${skip}`);
    return;
  }
  if (opts.where === true && opts.docs === true) throw new Error("bench/xs-stack.ts: --where measures with probes (peaks read high): not for --docs");
  const { figures, entry } = await measureStack(opts.paths === "" ? [] : opts.paths.split(","), opts.where === true);
  const out = new Printed();
  out.log(`XS stack slots per path in Moddable's runtime (mcsim, instrumented lin build); a Timer callback holds ${entry} before xsnet runs`);
  out.log("");
  out.log("| path | slots | of 384 | within 288 | ran to its end |");
  out.log("|---|---:|---:|:---:|:---:|");
  for (const f of figures) {
    out.log(`| ${f.path} | ${f.slots} | ${Math.round((f.slots / STACK_SLOTS_DEFAULT) * 100)} % | ${f.slots <= STACK_SLOTS_BOUND ? "yes" : "no"} | ${f.done ? "yes" : "no"} |`);
  }
  const deepest = figures.reduce((a, f) => Math.max(a, f.slots), 0);
  out.log("");
  out.log(`deepest: ${deepest} slots (${(deepest / STACK_SLOTS_DEFAULT).toFixed(2)} of the default ${STACK_SLOTS_DEFAULT}; bound ${STACK_SLOTS_BOUND})`);
  if (opts.where === true) out.log("(--where: every function of src/ began with a probe call, so these peaks read high; the frames show where the slots go)");
  if (opts.frames === true || opts.where === true) {
    for (const f of figures) console.log(`\n${f.path}: ${entryFrames(f.frames, entry).join(" < ")}`);
  }
  if (opts.docs) writeDocsSection("xs-stack", printedSection(commandLine("npx tsx bench/xs-stack.ts"), runNote(), out.lines));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
