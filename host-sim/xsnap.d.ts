// The little of @agoric/xsnap and tmp that host-sim/xs-run.ts uses (they ship no types).
declare module "@agoric/xsnap" {
  export interface MeterUsage {
    compute: number | null;
    allocate: number | null;
    currentHeapCount: number | null;
  }
  export interface XSnapWorker {
    evaluate(code: string): Promise<{ meterUsage: MeterUsage }>;
    issueCommand(message: Uint8Array): Promise<{ reply: Uint8Array; meterUsage: MeterUsage }>;
    close(): Promise<void>;
  }
  export function xsnap(options: Record<string, unknown>): Promise<XSnapWorker>;
}
declare module "tmp" {
  export function tmpName(options: unknown, callback: (err: Error | null, name: string) => void): void;
}
