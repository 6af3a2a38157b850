// Figures into docs/BENCHMARKS.md, written by the scripts that measure them: a bench script
// run with --docs rewrites its own section, the text between `<!-- NAME:begin -->` and
// `<!-- NAME:end -->`, and leaves the rest of the page (the prose around it) alone.
// Node-only.

import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";

export const BENCHMARKS_MD = fileURLToPath(new URL("../docs/BENCHMARKS.md", import.meta.url));

/** --docs on the command line: write the figures into docs/BENCHMARKS.md too. */
export function docsRequested(argv: readonly string[] = process.argv): boolean {
  return argv.includes("--docs");
}

/** Replace the section NAME of the page (between its markers) with `lines`. */
export function writeDocsSection(name: string, lines: readonly string[], path = BENCHMARKS_MD): void {
  const text = readFileSync(path, "utf8");
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${path} has no ${begin} ... ${end} section`);
  writeFileSync(path, `${text.slice(0, a + begin.length)}\n${lines.join("\n")}\n${text.slice(b)}`);
  console.log(`${path}: section ${name} written`);
}

/** The command that reproduces this run: `prefix` and this run's arguments but --docs. */
export function commandLine(prefix: string, argv: readonly string[] = process.argv): string {
  return [prefix, ...argv.slice(2).filter((a) => a !== "--docs")].join(" ");
}

/** Where and when a run was made: "2026-12-03, commit 1a2b3c4, Node v20.19.0, 2 x Intel(R) ...". */
export function runNote(): string {
  const cpu = cpus();
  const model = cpu.length > 0 ? cpu[0].model.replace(/\s+/g, " ").trim() : "unknown CPU";
  let commit = "";
  try {
    const repo = fileURLToPath(new URL("..", import.meta.url));
    const git = (...args: string[]): string => execFileSync("git", args, { cwd: repo, encoding: "utf8" }).trim();
    // This page is rewritten by the runs themselves: its own changes do not make the code dirty.
    const changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)docs/BENCHMARKS.md");
    commit = `, commit ${git("rev-parse", "--short", "HEAD")}${changed === "" ? "" : " with local changes"}`;
  } catch {
    // not a git checkout
  }
  return `${new Date().toISOString().slice(0, 10)}${commit}, Node ${process.version}, ${cpu.length} x ${model}`;
}

/**
 * What a script printed, as the section's body: the command and the run's note, then the
 * lines as printed, in a code block.
 */
export function printedSection(command: string, note: string, printed: readonly string[]): string[] {
  return [`\`${command}\`, ${note}:`, "", "```", ...printed, "```"];
}

/** console.log that also keeps each line, for printedSection. */
export class Printed {
  readonly lines: string[] = [];

  log = (line = ""): void => {
    console.log(line);
    this.lines.push(line);
  };
}
