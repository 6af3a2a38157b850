// The entry of the XS bundle of the Moddable test harness (run.ts builds it with rollup and
// evaluates it in xsnap): the socket suite (testmc.ts) or the example scenarios
// (examples.ts) with a loader that makes one Compartment per module, its import map the
// module's imports (virtual module sources) and the file itself as a ModuleSource, test262's
// harness.js evaluated in its global scope. The results go back through xsnap's
// issueCommand, as JSON.

import { installDeviceBuiltins, utf8Encode } from "../../host-sim/moddable/runtime";
import { runExamples } from "./examples";
import { runSuite, type LoadModule, type ModuleMap, type TestFile, type Turn } from "./testmc";

interface XsGlobals {
  Compartment: new (options: { globals: object; modules: Record<string, { source: unknown }> }) => {
    evaluate(source: string): unknown;
    import(specifier: string): Promise<unknown>;
  };
  ModuleSource: new (source: string) => unknown;
  setImmediate(callback: () => void): void;
  issueCommand(message: ArrayBuffer): ArrayBuffer;
}

const xs = globalThis as unknown as XsGlobals;

function compartmentLoader(harnessSource: string): LoadModule {
  return (file: TestFile, modules: ModuleMap, globals: object) => {
    const map: Record<string, { source: unknown }> = {};
    for (const specifier of Object.keys(modules)) {
      const exports = modules[specifier];
      const names = Object.keys(exports);
      map[specifier] = {
        source: {
          bindings: names.map((name) => ({ export: name })),
          execute(namespace: Record<string, unknown>) {
            for (const name of names) namespace[name] = exports[name];
          },
        },
      };
    }
    map[file.name] = { source: new xs.ModuleSource(file.source) };
    const compartment = new xs.Compartment({ globals, modules: map });
    compartment.evaluate(harnessSource);
    return compartment.import(file.name);
  };
}

const turn: Turn = () => new Promise<void>((resolve) => xs.setImmediate(resolve));

/** Run the suite's files or the example scenarios; the report ({ builtins, results }) is sent with issueCommand. */
export function runAll(job: "suite" | "examples", files: TestFile[], harnessSource: string): void {
  const builtins = installDeviceBuiltins();
  const load = compartmentLoader(harnessSource);
  (job === "suite" ? runSuite(files, load, turn) : runExamples(files, load, turn)).then(
    (results) => report({ builtins, results }),
    (err: unknown) => report({ builtins, error: String(err) }),
  );
}

function report(value: object): void {
  xs.issueCommand(utf8Encode(JSON.stringify(value)).buffer as ArrayBuffer);
}
